"""Every write of ban lists' governance: create, rename and log chat, delete, admins, groups subscribing, lists
following lists. Each one runs in one transaction with its audit row (target: the ban list) and the list's log post
(signals.ban_list_logged); the actor is already authorized by the caller (apps.banlists.access), except where the
rule is the service's own (the limit of lists owned; the rank rule of admins, RBAC's).

A subscription or a follow changes the lists whose bans hold in some groups: their settings_version is bumped (the
bot's settings cache reloads `ban_lists`), and the bans they now owe their known members are written
(propagation.propagate_to_new_subscriber). The bans themselves are in bans.py.
"""

from django.conf import settings
from django.utils import timezone

from apps.audit.services import audit_change
from apps.common import audit_actions as actions
from apps.common.db import atomic_attempts
from apps.common.errors import ConflictError, NotFoundError, ValidationFailed
from apps.groups.models import Group
from apps.groups.services import group_bump_settings_version
from apps.rbac.catalogue import BANLIST_ADMIN_ROLE, BANLIST_OWNER_ROLE
from apps.rbac.models import RoleAssignment
from apps.rbac.selectors import actor_has_permission, role_get
from apps.rbac.services import role_assign, role_revoke
from apps.users.models import User

from .access import user_find
from .models import BanList, Follow, Subscription
from .propagation import propagate_to_new_subscriber, propagations_cancel
from .selectors import follow_would_cycle, group_ban_lists, groups_taking, lists_following, owned_count
from .signals import ban_list_logged

MAX_NAME = 64
DELETED_ERROR = "ban list deleted"
LEFT_ERROR = "the group left the ban list"


def _record(*, action: str, event: str, ban_list: BanList, actor: User | None, details: dict,
            group: Group | None = None) -> None:
    """The change's audit row and its post in the list's log chat, inside the change's transaction."""
    audit_change(action=action, actor=actor, target_type="ban_list", target_id=ban_list.pk, group=group,
                 details={"ban_list_id": str(ban_list.pk), "ban_list_name": ban_list.name, **details})
    ban_list_logged.send(sender=BanList, ban_list=ban_list, event=event, actor=actor, details=details)


def _stored(ban_list: BanList) -> BanList:
    """The list as stored (MongoDB keeps milliseconds: the answer to a write reads as every later read will)."""
    return BanList.objects.select_related("owner").get(pk=ban_list.pk)


def _name(name: str) -> str:
    cleaned = name.strip() if isinstance(name, str) else ""
    if not cleaned or len(cleaned) > MAX_NAME or "\x00" in cleaned:
        message = f"A ban list's name is 1 to {MAX_NAME} characters of text"
        raise ValidationFailed(message, details={"name": [message]})
    return cleaned


def _bump(groups: list[Group]) -> list[str]:
    for group in groups:
        group_bump_settings_version(group=group)
    return [str(group.pk) for group in groups]


def _propagate_to(groups: list[Group], actor: User | None) -> int:
    """The bans the groups now owe their known members (propagation.py), in the caller's transaction."""
    return sum(propagate_to_new_subscriber(group, actor=actor) for group in groups if group.is_active)


def _cancel_pending(*, ban_list: BanList, error: str, group: Group | None = None) -> int:
    return propagations_cancel(ban_list=ban_list, error=error, group=group, leased_too=group is None)


# -- the list

def ban_list_create(*, name: str, actor: User | None) -> BanList:
    """A new list owned by `actor`, who gets banlist_owner in its scope in the same transaction. Anyone known may
    create one, up to settings.BANLIST_MAX_OWNED active lists owned (global BAN_LIST_MANAGE: no limit)."""
    if actor is None:
        message = "A ban list needs an owner: give actor_user_id or actor_telegram_user_id"
        raise ValidationFailed(message, details={"actor_user_id": [message]})
    if not actor.is_active:
        raise ValidationFailed(f"User {actor.pk} is deactivated")
    name = _name(name)
    limit = settings.BANLIST_MAX_OWNED
    exempt = actor_has_permission(user=actor, permission="BAN_LIST_MANAGE", group=None)
    owner_role = role_get(name=BANLIST_OWNER_ROLE)
    for attempt in atomic_attempts():
        with attempt:
            if not exempt and owned_count(user=actor) >= limit:
                raise ConflictError(f"You already own {limit} ban lists, the most one may own: delete one first",
                                    details={"limit": limit})
            ban_list = BanList.objects.create(name=name, owner=actor)
            # No acting user: the system grants the creator their role (nobody outranks anybody in a new list).
            role_assign(user=actor, role=owner_role, scope=ban_list.scope, reason="created the ban list")
            _record(action=actions.BANLIST_CREATE, event="create", ban_list=ban_list, actor=actor,
                    details={"name": name})
    return _stored(ban_list)


def ban_list_update(*, ban_list: BanList, actor: User | None, **fields) -> BanList:
    """fields: name (renamed), log_chat_id (a Telegram chat id, or None to unset it). One audit row naming what
    changed; nothing changed: nothing written."""
    changes = {}
    if "name" in fields:
        name = _name(fields["name"])
        if name != ban_list.name:
            changes["name"] = [ban_list.name, name]
    if "log_chat_id" in fields and fields["log_chat_id"] != ban_list.log_chat_id:
        changes["log_chat_id"] = [ban_list.log_chat_id, fields["log_chat_id"]]
    if not changes:
        return ban_list
    for attempt in atomic_attempts():
        with attempt:
            for field, (_, after) in changes.items():
                setattr(ban_list, field, after)
            ban_list.save(update_fields=[*changes, "updated_at"])
            if "name" in changes:  # the name travels in the groups' settings (ban_lists: [{"id", "name"}])
                _bump(groups_taking(list_pks=lists_following(ban_list_pk=ban_list.pk)))
            _record(action=actions.BANLIST_UPDATE, event="update", ban_list=ban_list, actor=actor,
                    details={"changed": changes})
    return _stored(ban_list)


def ban_list_delete(*, ban_list: BanList, actor: User | None) -> BanList:
    """Soft: inactive from now on (404 to every read but the staff's include_deleted); its subscriptions and follows
    (both ways) are removed, the groups whose lists change are bumped, and its pending propagations fail with
    "ban list deleted" (their moderation records too)."""
    for attempt in atomic_attempts():
        with attempt:
            fresh = BanList.objects.filter(pk=ban_list.pk, is_active=True).first()
            if fresh is None:
                raise NotFoundError(f"Ban list {ban_list.pk} not found")
            affected = groups_taking(list_pks=lists_following(ban_list_pk=ban_list.pk))
            subscriptions = Subscription.objects.filter(ban_list=ban_list).count()
            follows = Follow.objects.filter(ban_list=ban_list).count() + Follow.objects.filter(source=ban_list).count()
            Subscription.objects.filter(ban_list=ban_list).delete()
            Follow.objects.filter(ban_list=ban_list).delete()
            Follow.objects.filter(source=ban_list).delete()
            now = timezone.now()
            BanList.objects.filter(pk=ban_list.pk).update(is_active=False, deleted_at=now, updated_at=now)
            ban_list.is_active, ban_list.deleted_at, ban_list.updated_at = False, now, now
            cancelled = _cancel_pending(ban_list=ban_list, error=DELETED_ERROR)
            bumped = _bump(affected)
            _record(action=actions.BANLIST_DELETE, event="delete", ban_list=ban_list, actor=actor,
                    details={"subscriptions": subscriptions, "follows": follows, "groups": bumped,
                             "propagations_cancelled": cancelled})
    return _stored(ban_list)


# -- admins

def _target_user(*, user_id=None, telegram_user_id: int | None = None) -> User:
    user = user_find(user_id=user_id, telegram_user_id=telegram_user_id)
    if user is None:
        which = user_id if user_id is not None else f"telegram:{telegram_user_id}"
        raise NotFoundError(f"User {which} not found: they must have talked to the bot or be known to the platform")
    return user


def ban_list_admin_add(*, ban_list: BanList, actor: User | None, user_id=None,
                       telegram_user_id: int | None = None) -> tuple[RoleAssignment, bool]:
    """Grants banlist_admin in the list's scope through RBAC (MANAGE_ROLES there and the rank rule bind the actor;
    RBAC audits the grant as role.assign); a new admin is also audited as banlist.admin_add. Already an admin (or
    its owner): (their assignment, False)."""
    user = _target_user(user_id=user_id, telegram_user_id=telegram_user_id)
    held = RoleAssignment.objects.filter(user=user, scope=ban_list.scope, revoked_at__isnull=True,
                                         role__name=BANLIST_OWNER_ROLE).select_related("role").first()
    if held is not None and (held.expires_at is None or held.expires_at > timezone.now()):
        return held, False
    role = role_get(name=BANLIST_ADMIN_ROLE)
    for attempt in atomic_attempts():
        with attempt:
            assignment, created = role_assign(user=user, role=role, scope=ban_list.scope, actor=actor,
                                              reason="ban list admin")
            if created:
                _record(action=actions.BANLIST_ADMIN_ADD, event="admin_add", ban_list=ban_list, actor=actor,
                        details={"user_id": str(user.pk), "telegram_user_id": user.telegram_user_id,
                                 "role": role.name})
    return assignment, created


def ban_list_admin_remove(*, ban_list: BanList, actor: User | None, user_id=None,
                          telegram_user_id: int | None = None) -> bool:
    """Revokes the user's banlist_admin in the list's scope through RBAC (the rank rule binds the actor). Not an
    admin: False. The owner is not removed here (400): a list keeps its owner."""
    user = _target_user(user_id=user_id, telegram_user_id=telegram_user_id)
    if user.pk == ban_list.owner_id:
        message = "The owner of a ban list is not removed from its admins"
        raise ValidationFailed(message, details={"user_id": [message]})
    assignment = RoleAssignment.objects.filter(user=user, scope=ban_list.scope, revoked_at__isnull=True,
                                               role__name=BANLIST_ADMIN_ROLE).select_related("role", "group").first()
    if assignment is None:
        return False
    for attempt in atomic_attempts():
        with attempt:
            role_revoke(assignment=assignment, actor=actor, reason="ban list admin removed")
            _record(action=actions.BANLIST_ADMIN_REMOVE, event="admin_remove", ban_list=ban_list, actor=actor,
                    details={"user_id": str(user.pk), "telegram_user_id": user.telegram_user_id,
                             "role": BANLIST_ADMIN_ROLE})
    return True


# -- groups

def ban_list_subscribe(*, ban_list: BanList, group: Group, actor: User | None) -> tuple[Subscription, bool, int]:
    """The group takes the list's bans (and those of the lists it follows): its settings are bumped and the bans
    it now owes its known members are written. Already subscribed: (it, False, 0). Answers (subscription,
    created, propagations written)."""
    if not group.is_active:
        message = f"Group {group.pk} is deactivated"
        raise ValidationFailed(message, details={"group_id": [message]})
    existing = Subscription.objects.filter(ban_list=ban_list, group=group).first()
    if existing is not None:
        return existing, False, 0
    for attempt in atomic_attempts():
        with attempt:
            existing = Subscription.objects.filter(ban_list=ban_list, group=group).first()
            if existing is not None:
                return existing, False, 0
            subscription = Subscription.objects.create(ban_list=ban_list, group=group, created_by=actor)
            _bump([group])
            written = _propagate_to([group], actor)
            _record(action=actions.BANLIST_SUBSCRIBE, event="subscribe", ban_list=ban_list, actor=actor,
                    group=group, details={"group_id": str(group.pk), "telegram_chat_id": group.telegram_chat_id,
                                          "title": group.title, "propagations": written})
    return subscription, True, written


def ban_list_unsubscribe(*, ban_list: BanList, group: Group, actor: User | None) -> bool:
    """The group leaves the list: its settings are bumped; the list's bans it still owes (not yet taken by a bot)
    are dropped, unless the list still holds there through another list it follows. Not subscribed: False."""
    for attempt in atomic_attempts():
        with attempt:
            removed, _ = Subscription.objects.filter(ban_list=ban_list, group=group).delete()
            if not removed:
                return False
            _bump([group])
            still = {entry["id"] for entry in group_ban_lists(group=group)}
            cancelled = 0 if str(ban_list.pk) in still else _cancel_pending(ban_list=ban_list, error=LEFT_ERROR,
                                                                            group=group)
            _record(action=actions.BANLIST_UNSUBSCRIBE, event="unsubscribe", ban_list=ban_list, actor=actor,
                    group=group, details={"group_id": str(group.pk), "telegram_chat_id": group.telegram_chat_id,
                                          "title": group.title, "propagations_cancelled": cancelled})
    return True


# -- lists following lists

def ban_list_follow(*, ban_list: BanList, source: BanList, actor: User | None) -> tuple[Follow, bool, int]:
    """`ban_list` takes on `source`'s bans (/subfed): every group taking `ban_list`'s bans is bumped and owes the
    source's bans to its known members. Itself, or a loop (the source follows it, at any depth): 400. Already
    following: (it, False, 0)."""
    if source.pk == ban_list.pk:
        message = "A ban list can't follow itself"
        raise ValidationFailed(message, details={"source_id": [message]})
    existing = Follow.objects.filter(ban_list=ban_list, source=source).first()
    if existing is not None:
        return existing, False, 0
    for attempt in atomic_attempts():
        with attempt:
            if not BanList.objects.filter(pk=source.pk, is_active=True).exists():
                raise NotFoundError(f"Ban list {source.pk} not found")
            if follow_would_cycle(ban_list_pk=ban_list.pk, source_pk=source.pk):
                message = (f"{source.name} already takes on the bans of {ban_list.name} (directly or through other "
                           "lists): following it would make a loop")
                raise ValidationFailed(message, details={"source_id": [message]})
            follow = Follow.objects.create(ban_list=ban_list, source=source, created_by=actor)
            affected = groups_taking(list_pks=lists_following(ban_list_pk=ban_list.pk))
            bumped = _bump(affected)
            written = _propagate_to(affected, actor)
            _record(action=actions.BANLIST_FOLLOW, event="follow", ban_list=ban_list, actor=actor,
                    details={"source_id": str(source.pk), "source_name": source.name, "groups": bumped,
                             "propagations": written})
    return follow, True, written


def ban_list_unfollow(*, ban_list: BanList, source: BanList, actor: User | None) -> bool:
    """`ban_list` stops taking on `source`'s bans; the groups that took them through it are bumped. Not
    following: False."""
    for attempt in atomic_attempts():
        with attempt:
            affected = groups_taking(list_pks=lists_following(ban_list_pk=ban_list.pk))
            removed, _ = Follow.objects.filter(ban_list=ban_list, source=source).delete()
            if not removed:
                return False
            bumped = _bump(affected)
            _record(action=actions.BANLIST_UNFOLLOW, event="unfollow", ban_list=ban_list, actor=actor,
                    details={"source_id": str(source.pk), "source_name": source.name, "groups": bumped})
    return True
