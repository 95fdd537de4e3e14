"""Analytics: web's side, relaying core's figures (docs/analytics.md) for the signed-in user. Core checks VIEW_STATS
in the group (or globally; the platform overview: globally) for them (acting_user_id), in the request that reads;
its refusals pass through (403 naming the permission, 400 naming the field, 404 for an unknown group or user)."""

from apps.coreclient import ids

from .core import core
from .services import VIEW_STATS, read_as, read_in_group
from .tokens import DashboardUser


def group_figures(user: DashboardUser, group_id: str, **period) -> dict:
    """period: period, start, end, bucket (core's query)."""
    return read_in_group(user, VIEW_STATS, group_id, core().group_analytics, **period)


def member_figures(user: DashboardUser, group_id: str, user_id: str, **period) -> dict:
    ids.store_id(user_id, name="user_id")

    def read(group, **arguments):
        return core().member_analytics(group, user_id, **arguments)

    return read_in_group(user, VIEW_STATS, group_id, read, **period)


def platform_figures(user: DashboardUser, **period) -> dict:
    """period: period, start, end, limit (groups per ranking)."""
    return read_as(user, VIEW_STATS, core().analytics_overview, **period)
