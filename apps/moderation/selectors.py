from datetime import datetime, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from apps.common.errors import NotFoundError
from apps.common.ids import get_or_404, parse_pk
from apps.groups.models import Group
from apps.users.models import User

from .models import ModerationAction, Warning


def moderation_action_get(*, action_id) -> ModerationAction:
    queryset = ModerationAction.objects.select_related("group", "actor", "target")
    return get_or_404(ModerationAction, action_id, label="Moderation action", queryset=queryset)


def moderation_action_list(*, group: Group | None = None, actor: User | None = None, target: User | None = None,
                           type: str | None = None, status: str | None = None, since: datetime | None = None,
                           until: datetime | None = None, automated: bool | None = None,
                           rule: str | None = None) -> QuerySet[ModerationAction]:
    """`automated`: only the actions an automated protection asked for (True) or only manual ones (False)."""
    filters = {"group": group, "actor": actor, "target": target, "type": type, "status": status,
               "created_at__gte": since, "created_at__lt": until, "rule": rule}
    queryset = ModerationAction.objects.filter(**{key: value for key, value in filters.items() if value is not None})
    if automated is True:
        queryset = queryset.exclude(rule="")
    elif automated is False:
        queryset = queryset.filter(rule="")
    return queryset.order_by("-created_at", "-id")


def warning_counted(*, group: Group, now: datetime | None = None) -> dict:
    """The filter of the warnings that count in the group: not removed, and not older than the group's
    warn_expiry_seconds (when it has one). An expired warning stays on record; it just no longer counts, toward the
    limit nor in the member's list."""
    counted = {"group": group, "removed_at__isnull": True}
    if group.warn_expiry_seconds:
        counted["created_at__gte"] = (now or timezone.now()) - timedelta(seconds=group.warn_expiry_seconds)
    return counted


def warning_active_count(*, group: Group, user: User) -> int:
    return Warning.objects.filter(user=user, **warning_counted(group=group)).count()


def warning_list(*, group: Group, user: User, include_removed: bool = False) -> QuerySet[Warning]:
    """The member's warnings that count (`warning_counted`); with `include_removed`, every one on record."""
    if include_removed:
        queryset = Warning.objects.filter(group=group, user=user)
    else:
        queryset = Warning.objects.filter(user=user, **warning_counted(group=group))
    return queryset.order_by("-created_at", "-id")


def warning_get(*, group: Group, user: User, warning_id) -> Warning:
    pk = parse_pk(Warning, warning_id)
    warning = Warning.objects.filter(pk=pk, group=group, user=user).first() if pk is not None else None
    if warning is None:
        raise NotFoundError(f"Warning {warning_id} not found for user {user.pk} in group {group.pk}")
    return warning
