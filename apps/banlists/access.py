"""Finding a ban list and authorizing an actor in its scope (RBAC's `banlist:<pk>`, apps/rbac/scopes.py)."""

from apps.common.errors import NotFoundError, PermissionDeniedError
from apps.common.ids import parse_pk
from apps.rbac.scopes import BAN_LIST
from apps.rbac.selectors import USER_INACTIVE, USER_NOT_FOUND, PermissionQuery, scope_object_ids
from apps.rbac.services import permission_check, permission_require
from apps.users.models import User

from .models import BanList

BAN_LIST_VIEW = "BAN_LIST_VIEW"


def _shown(value) -> str:
    text = str(value)
    return text if len(text) <= 40 else text[:40] + "..."


def ban_list_active_pk(value):
    """The pk of the active list `value` names, else None (RBAC's resolver for the banlist scope kind)."""
    pk = parse_pk(BanList, value)
    if pk is None:
        return None
    return BanList.objects.filter(pk=pk, is_active=True).values_list("pk", flat=True).first()


def ban_list_get(*, ban_list_id, include_deleted: bool = False) -> BanList:
    """The list `ban_list_id` names; 404 not_found when there is none, or it is deleted (unless include_deleted)."""
    pk = parse_pk(BanList, ban_list_id)
    queryset = BanList.objects.select_related("owner")
    if not include_deleted:
        queryset = queryset.filter(is_active=True)
    ban_list = queryset.filter(pk=pk).first() if pk is not None else None
    if ban_list is None:
        raise NotFoundError(f"Ban list {_shown(ban_list_id)} not found")
    return ban_list


def ban_list_actor_authorize(*, ban_list: BanList, permission: str, actor_user_id=None,
                             actor_telegram_user_id: int | None = None) -> User | None:
    """Core's check of a write's actor in the list's scope (on the audit trail like any check): refused, 403
    permission_denied naming the permission, before anything is written. No actor named: None (the calling
    service itself, trusted as elsewhere in core). Returns the actor."""
    if actor_user_id is None and actor_telegram_user_id is None:
        return None
    permission_require(query=PermissionQuery(permission=permission, user_id=actor_user_id,
                                             telegram_user_id=actor_telegram_user_id, ban_list_id=ban_list.pk),
                       message=f"The actor needs the {permission} permission on this ban list ({{reason}})")
    return _actor(actor_user_id, actor_telegram_user_id)


def group_actor_authorize(*, group, permission: str, actor_user_id=None,
                          actor_telegram_user_id: int | None = None) -> User | None:
    """The same in a group's scope (subscriptions: BAN_LIST_SUBSCRIBE there)."""
    if actor_user_id is None and actor_telegram_user_id is None:
        return None
    permission_require(query=PermissionQuery(permission=permission, user_id=actor_user_id,
                                             telegram_user_id=actor_telegram_user_id, group_id=group.pk),
                       message=f"The actor needs the {permission} permission in this group ({{reason}})")
    return _actor(actor_user_id, actor_telegram_user_id)


def actor_resolve(*, actor_user_id=None, actor_telegram_user_id: int | None = None) -> User | None:
    """The actor a write names, unchecked (for writes any known user may make: creating a list); 404 when the
    id names no user."""
    if actor_user_id is None and actor_telegram_user_id is None:
        return None
    user = _actor(actor_user_id, actor_telegram_user_id)
    if user is None:
        which = actor_user_id if actor_user_id is not None else f"telegram:{actor_telegram_user_id}"
        raise NotFoundError(f"Actor user {_shown(which)} not found")
    return user


def user_find(*, user_id=None, telegram_user_id: int | None = None) -> User | None:
    """The user named by core id or Telegram id, or None."""
    if user_id is not None:
        pk = parse_pk(User, user_id)
        return User.objects.filter(pk=pk).first() if pk is not None else None
    return User.objects.filter(telegram_user_id=telegram_user_id).first()


def _actor(actor_user_id, actor_telegram_user_id) -> User | None:
    return user_find(user_id=actor_user_id, telegram_user_id=actor_telegram_user_id)


def viewable_ban_lists(acting_user_id) -> set | None:
    """The ids of the lists a dashboard user may view (None: every list: BAN_LIST_VIEW globally, or no acting user:
    the service reads as itself). The global check is on the trail as one decision."""
    if acting_user_id is None:
        return None
    decision = permission_check(query=PermissionQuery(permission=BAN_LIST_VIEW, user_id=acting_user_id))
    if decision.allowed:
        return None
    if decision.reason in (USER_NOT_FOUND, USER_INACTIVE):
        raise PermissionDeniedError(f"User does not have permission for this action ({BAN_LIST_VIEW})",
                                    details={"permission": BAN_LIST_VIEW, "reason": decision.reason})
    return scope_object_ids(user_pk=decision.user_pk, kind=BAN_LIST, permission=BAN_LIST_VIEW)
