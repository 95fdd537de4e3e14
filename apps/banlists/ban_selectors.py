"""Reads of a list's bans: a page of them with the names core knows, a user's lists, the history, and what the bot's
cache asks (the versions of its lists, the ids banned, or changed since a version)."""

from datetime import datetime

from django.db.models import Q, QuerySet

from apps.common.ids import parse_pk
from apps.users.models import User
from apps.users.selectors import user_display_name

from .models import Ban, BanList, Change
from .selectors import user_ref as user_brief

MAX_VERSIONS = 100
_NAME_MATCHES = 1000  # users whose name matches a search, at most


def bans_query(*, ban_list: BanList, telegram_user_id: int | None = None, q: str = "",
               active: bool | None = True) -> QuerySet[Ban]:
    """The list's bans, newest change first; `q`: a Telegram id, or text in the reason or the user's name."""
    bans = Ban.objects.filter(ban_list=ban_list).select_related("banned_by")
    if active is not None:
        bans = bans.filter(active=active)
    if telegram_user_id is not None:
        bans = bans.filter(telegram_user_id=telegram_user_id)
    q = q.strip()
    if q:
        match = Q(reason__icontains=q)
        if q.lstrip("-").isdigit() and len(q) <= 19:
            match |= Q(telegram_user_id=int(q))
        named = list(User.objects.filter(Q(display_name__icontains=q) | Q(telegram_username__icontains=q.lstrip("@"))
                                         | Q(username__icontains=q), telegram_user_id__isnull=False)
                     .values_list("telegram_user_id", flat=True)[:_NAME_MATCHES])
        if named:
            match |= Q(telegram_user_id__in=named)
        bans = bans.filter(match)
    return bans.order_by("-version", "-id")


def ban_views(bans: list[Ban]) -> list[dict]:
    """Bans in their wire shape, the users core knows by their Telegram ids looked up in one query."""
    users = {user.telegram_user_id: user
             for user in User.objects.filter(telegram_user_id__in=[ban.telegram_user_id for ban in bans])}
    views = []
    for ban in bans:
        user = users.get(ban.telegram_user_id)
        views.append({
            "telegram_user_id": ban.telegram_user_id, "user_id": str(user.pk) if user else None,
            "name": user_display_name(user.display_name, user.telegram_username, user.username) if user else "",
            "reason": ban.reason, "source": ban.source, "banned_by": user_brief(ban.banned_by),
            "banned_at": ban.banned_at, "active": ban.active, "version": ban.version, "updated_at": ban.updated_at,
        })
    return views


def ban_view(ban: Ban | None) -> dict | None:
    return ban_views([ban])[0] if ban is not None else None


def user_ban_lists(*, telegram_user_id: int, ban_list_pks=None) -> list[dict]:
    """The active lists the user is on, oldest ban first; `ban_list_pks`: only among those."""
    bans = (Ban.objects.filter(telegram_user_id=telegram_user_id, active=True, ban_list__is_active=True)
            .select_related("ban_list", "banned_by").order_by("banned_at", "id"))
    if ban_list_pks is not None:
        bans = bans.filter(ban_list_id__in=list(ban_list_pks))
    return [{"ban_list": {"id": str(ban.ban_list.pk), "name": ban.ban_list.name}, "reason": ban.reason,
             "banned_at": ban.banned_at, "banned_by": user_brief(ban.banned_by)} for ban in bans]


def history_query(*, ban_list: BanList, kind: str | None = None, telegram_user_id: int | None = None,
                  actor_user_id=None, since: datetime | None = None,
                  until: datetime | None = None) -> QuerySet[Change]:
    changes = Change.objects.filter(ban_list=ban_list).select_related("actor")
    if kind:
        changes = changes.filter(kind=kind)
    if telegram_user_id is not None:
        changes = changes.filter(telegram_user_id=telegram_user_id)
    if actor_user_id is not None:
        pk = parse_pk(User, actor_user_id)
        if pk is None:
            return changes.none()
        changes = changes.filter(actor_id=pk)
    if since is not None:
        changes = changes.filter(created_at__gte=since)
    if until is not None:
        changes = changes.filter(created_at__lt=until)
    return changes.order_by("-created_at", "-id")


def ban_ids(*, ban_list: BanList, since: int = 0) -> dict:
    """{"version", "full", "banned", "unbanned"}, ids ascending: every active ban when `since` is 0 (or a version
    the list never reached: the caller's copy is not of this list), else the bans changed after version `since`."""
    version = ban_list.version
    if since <= 0 or since > version:
        banned = sorted(Ban.objects.filter(ban_list=ban_list, active=True)
                        .values_list("telegram_user_id", flat=True))
        return {"version": version, "full": True, "banned": banned, "unbanned": []}
    banned, unbanned = [], []
    for telegram_user_id, active in (Ban.objects.filter(ban_list=ban_list, version__gt=since)
                                     .values_list("telegram_user_id", "active")):
        (banned if active else unbanned).append(telegram_user_id)
    return {"version": version, "full": False, "banned": sorted(banned), "unbanned": sorted(unbanned)}


def ban_list_versions(*, pks: list) -> dict[str, dict]:
    """{id: {"version", "name"}} for the active lists among `pks`."""
    rows = BanList.objects.filter(pk__in=pks, is_active=True).values_list("pk", "version", "name")
    return {str(pk): {"version": version, "name": name} for pk, version, name in rows}
