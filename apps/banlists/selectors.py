"""Reads of ban lists: a group's effective lists (the bot's settings carry them), the lists and what the API shows of
one (its JSON, admins, subscribed groups, follows), and the reach of a list through follows."""

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from apps.common.ids import parse_pk
from apps.groups.models import Group
from apps.rbac.catalogue import BANLIST_ADMIN_ROLE, BANLIST_OWNER_ROLE
from apps.rbac.models import RoleAssignment
from apps.rbac.scopes import BAN_LIST
from apps.rbac.selectors import scope_object_ids
from apps.users.models import User
from apps.users.selectors import user_display_name

from .models import Ban, BanList, Follow, Subscription

# How deep a list's follows (/subfed) are followed: a list following a list following a list... stops here.
MAX_FOLLOW_DEPTH = 5
# The roles of a list's scope, highest first (as the admins are shown).
LIST_ROLES = (BANLIST_OWNER_ROLE, BANLIST_ADMIN_ROLE)


def group_ban_lists(*, group: Group) -> list[dict]:
    """The active lists whose bans hold in the group: those it subscribes to and, through /subfed, those they
    follow (transitively, up to MAX_FOLLOW_DEPTH, each once), as [{"id", "name"}] ordered by id."""
    direct = list(Subscription.objects.filter(group=group).values_list("ban_list_id", flat=True))
    seen, frontier = set(direct), set(direct)
    for _ in range(MAX_FOLLOW_DEPTH):
        if not frontier:
            break
        sources = set(Follow.objects.filter(ban_list_id__in=frontier).values_list("source_id", flat=True))
        frontier = sources - seen
        seen |= frontier
    if not seen:
        return []
    rows = BanList.objects.filter(pk__in=seen, is_active=True).values_list("pk", "name")
    return [{"id": str(pk), "name": name} for pk, name in sorted(rows, key=lambda row: str(row[0]))]


# -- reach through follows

def lists_following(*, ban_list_pk) -> set:
    """The pks of the lists whose groups take `ban_list_pk`'s bans: itself and the lists following it,
    transitively, up to MAX_FOLLOW_DEPTH (group_ban_lists read from the other end)."""
    seen, frontier = {ban_list_pk}, {ban_list_pk}
    for _ in range(MAX_FOLLOW_DEPTH):
        followers = set(Follow.objects.filter(source_id__in=frontier).values_list("ban_list_id", flat=True))
        frontier = followers - seen
        if not frontier:
            break
        seen |= frontier
    return seen


def groups_taking(*, list_pks: set) -> list[Group]:
    """The groups subscribed to any of the lists, ordered by pk."""
    group_pks = set(Subscription.objects.filter(ban_list_id__in=list(list_pks)).values_list("group_id", flat=True))
    if not group_pks:
        return []
    return sorted(Group.objects.filter(pk__in=group_pks), key=lambda group: str(group.pk))


def follow_would_cycle(*, ban_list_pk, source_pk) -> bool:
    """Whether `ban_list_pk` following `source_pk` closes a loop: the source follows the list already, at any
    depth (or is the list)."""
    seen, frontier = {source_pk}, {source_pk}
    while frontier:
        if ban_list_pk in frontier:
            return True
        sources = set(Follow.objects.filter(ban_list_id__in=frontier).values_list("source_id", flat=True))
        frontier = sources - seen
        seen |= frontier
    return False


# -- the lists

def ban_list_query(*, q: str | None = None, group: Group | None = None, admin: User | None = None,
                   visible: set | None = None, include_deleted: bool = False) -> QuerySet[BanList]:
    """Lists, newest first. `group`: those whose bans hold there; `admin`: those the user holds a role on;
    `visible`: only these ids (what an acting user may view; None: all)."""
    queryset = BanList.objects.select_related("owner")
    if not include_deleted:
        queryset = queryset.filter(is_active=True)
    if q:
        queryset = queryset.filter(name__icontains=q)
    restrict = []
    if group is not None:
        restrict.append({entry["id"] for entry in group_ban_lists(group=group)})
    if admin is not None:
        restrict.append(scope_object_ids(user_pk=admin.pk, kind=BAN_LIST))
    if visible is not None:
        restrict.append(set(visible))
    if restrict:
        ids = set.intersection(*restrict)
        queryset = queryset.filter(pk__in=[pk for pk in (parse_pk(BanList, value) for value in ids) if pk is not None])
    return queryset.order_by("-created_at", "-pk")


def user_ref(user: User | None) -> dict | None:
    """A list's user as every ban-list answer shows them (owner, admins, subscribers, who banned whom)."""
    if user is None:
        return None
    return {"id": str(user.pk), "telegram_user_id": user.telegram_user_id, "username": user.telegram_username,
            "display_name": user_display_name(user.display_name, user.telegram_username, user.username)}


def _users(pks: set) -> dict:
    pks = {pk for pk in pks if pk is not None}
    if not pks:
        return {}
    return {user.pk: user for user in User.objects.filter(pk__in=list(pks))}


def _live_list_assignments(scopes: list[str]) -> QuerySet[RoleAssignment]:
    now = timezone.now()
    return RoleAssignment.objects.filter(scope__in=scopes, revoked_at__isnull=True).filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=now))


def ban_list_rows(ban_lists: list[BanList]) -> list[dict]:
    """The lists' JSON, their counts read for all of them at once: bans_count (active bans), groups_count (groups
    subscribed to it), admins_count (users holding a role on it, its owner aside)."""
    pks = [item.pk for item in ban_lists]
    if not pks:
        return []
    bans = dict(Ban.objects.filter(ban_list_id__in=pks, active=True).values("ban_list_id")
                .annotate(total=Count("id")).values_list("ban_list_id", "total"))
    groups = dict(Subscription.objects.filter(ban_list_id__in=pks).values("ban_list_id")
                  .annotate(total=Count("id")).values_list("ban_list_id", "total"))
    holders: dict = {}
    for scope, user_id in _live_list_assignments([item.scope for item in ban_lists]).values_list("scope", "user_id"):
        holders.setdefault(scope, set()).add(user_id)
    return [
        {
            "id": str(item.pk),
            "name": item.name,
            "owner": user_ref(item.owner),
            "log_chat_id": item.log_chat_id,
            "version": item.version,
            "is_active": item.is_active,
            "created_at": item.created_at,
            "updated_at": item.updated_at,
            "bans_count": bans.get(item.pk, 0),
            "groups_count": groups.get(item.pk, 0),
            "admins_count": len(holders.get(item.scope, set()) - {item.owner_id}),
        }
        for item in ban_lists
    ]


def ban_list_detail(*, ban_list: BanList) -> dict:
    return ban_list_rows([ban_list])[0]


def ban_list_admins(*, ban_list: BanList) -> dict:
    """{"owner": user, "admins": [{"user", "role", "granted_at", "granted_by"}]}: every live role on the list
    (the owner's banlist_owner included), highest rank first, then oldest grant first."""
    assignments = list(_live_list_assignments([ban_list.scope]).select_related("role", "user"))
    granters = _users({assignment.granted_by_id for assignment in assignments})
    assignments.sort(key=lambda assignment: (-assignment.role.rank, assignment.created_at, str(assignment.pk)))
    return {
        "owner": user_ref(ban_list.owner),
        "admins": [
            {"user": user_ref(assignment.user), "role": assignment.role.name, "granted_at": assignment.created_at,
             "granted_by": user_ref(granters.get(assignment.granted_by_id))}
            for assignment in assignments
        ],
    }


def ban_list_subscription_query(*, ban_list: BanList) -> QuerySet[Subscription]:
    return Subscription.objects.filter(ban_list=ban_list).select_related("group").order_by("created_at", "pk")


def subscription_rows(subscriptions: list[Subscription]) -> list[dict]:
    creators = _users({subscription.created_by_id for subscription in subscriptions})
    return [
        {"group_id": str(subscription.group_id), "telegram_chat_id": subscription.group.telegram_chat_id,
         "title": subscription.group.title, "subscribed_at": subscription.created_at,
         "subscribed_by": user_ref(creators.get(subscription.created_by_id))}
        for subscription in subscriptions
    ]


def _refs(pks: list) -> list[dict]:
    if not pks:
        return []
    rows = BanList.objects.filter(pk__in=pks, is_active=True).values_list("pk", "name")
    return [{"id": str(pk), "name": name} for pk, name in sorted(rows, key=lambda row: str(row[0]))]


def ban_list_follows(*, ban_list: BanList) -> dict:
    """{"follows": the active lists whose bans it takes on, "followers": those taking on its bans}."""
    follows = list(Follow.objects.filter(ban_list=ban_list).values_list("source_id", flat=True))
    followers = list(Follow.objects.filter(source=ban_list).values_list("ban_list_id", flat=True))
    return {"follows": _refs(follows), "followers": _refs(followers)}


def owned_count(*, user: User) -> int:
    return BanList.objects.filter(owner=user, is_active=True).count()
