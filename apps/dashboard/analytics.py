"""Analytics: web's side, relaying core's figures (docs/analytics.md) for the signed-in user. Core checks VIEW_STATS
in the group (or globally; the platform overview: globally) for them (acting_user_id), in the request that reads;
its refusals pass through (403 naming the permission, 400 naming the field, 404 for an unknown group or user)."""

from apps.coreclient import CoreError, ids

from .core import core
from .services import VIEW_STATS, _refusal, read_as, read_in_group
from .tokens import DashboardUser


def group_figures(user: DashboardUser, group_id: str, **period) -> dict:
    """period: period, start, end, bucket (core's query)."""
    return read_in_group(user, VIEW_STATS, group_id, core().group_analytics, **period)


def member_figures(user: DashboardUser, group_id: str, user_id: str, **period) -> dict:
    """Always read for the user, even when VIEW_STATS was already granted in this request: core lists the member's
    groups in common only where the acting user may see statistics."""
    ids.store_id(group_id, name="group_id")
    ids.store_id(user_id, name="user_id")
    try:
        return core().member_analytics(group_id, user_id, acting_user_id=user.id, **period)
    except CoreError as exc:
        raise _refusal(exc, VIEW_STATS) from None


def platform_figures(user: DashboardUser, **period) -> dict:
    """period: period, start, end, limit (groups per ranking)."""
    return read_as(user, VIEW_STATS, core().analytics_overview, **period)
