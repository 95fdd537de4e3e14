"""A list's bans and unbans (Rose's /fban, /unfban): every write here runs in one transaction with the list's
version bump, its Change row (the history), its audit row (banlist.ban / banlist.unban, target the list), the rows
owed to the list's groups (apps.banlists.propagation) and the post in the list's own log chat (the ban_list_logged
signal, which the log channel receives inside the transaction).

A ban is kept after an unban (active False, with the version of its last change), so the bot's cache can ask what
changed since the version it holds (`ban_list_ids`)."""

from django.db.models import F
from django.utils import timezone

from apps.audit.services import audit_change
from apps.common import audit_actions as actions
from apps.common.context import current_context
from apps.common.db import atomic_attempts
from apps.common.errors import NotFoundError
from apps.rbac.selectors import PermissionQuery
from apps.rbac.services import permission_require
from apps.users.models import User
from apps.users.services import user_ensure_telegram

from . import propagation
from .models import Ban, BanList, Change
from .signals import ban_list_logged

MAX_REASON = 1024
BOT_SERVICE = "bot"


def ban_actor_authorize(*, ban_list: BanList, permission: str, actor_user_id=None,
                        actor_telegram_user_id: int | None = None) -> User:
    """The actor of a write, checked for `permission` in the list's scope (its roles and the global ones), on the
    record like any check. Refused: 403 permission_denied naming the permission."""
    decision = permission_require(
        query=PermissionQuery(permission=permission, user_id=actor_user_id, telegram_user_id=actor_telegram_user_id,
                              ban_list_id=ban_list.pk),
        message=f"The actor needs the {permission} permission on this ban list ({{reason}})")
    return User.objects.get(pk=decision.user_pk)


def _locked_list(ban_list: BanList) -> BanList:
    """The list as it is in this transaction, its version bumped (the write that conflicts on MongoDB, queues on
    SQLite)."""
    if not BanList.objects.filter(pk=ban_list.pk, is_active=True).update(version=F("version") + 1):
        raise NotFoundError(f"Ban list {ban_list.pk} not found")
    return BanList.objects.get(pk=ban_list.pk)


def _source() -> str:
    return Ban.Source.COMMAND if current_context().service == BOT_SERVICE else Ban.Source.API


def _target(telegram_user_id: int, needed: bool) -> User | None:
    user = User.objects.filter(telegram_user_id=telegram_user_id).first()
    if user is None and needed:
        user = user_ensure_telegram(telegram_user_id=telegram_user_id)
    return user


def ban_list_ban(*, ban_list: BanList, telegram_user_id: int, reason: str = "", actor: User | None = None,
                 source: str | None = None) -> dict:
    """Puts the Telegram user on the list (an unbanned one back on it), or changes the reason of an active ban (no
    new propagation: the groups already owe it). The same ban again changes nothing and writes nothing (a retried
    request). A new ban is owed to every group the list reaches: a ban (with its moderation record) where the user
    is not exempt, a notice to the group's moderators where they are.

    Answers {"ban": Ban, "created": bool, "version": int, "propagation": {"groups": groups reached, "exempt": of
    them, those where the user is exempt (told, not banned)}}."""
    reason = reason[:MAX_REASON]
    for attempt in atomic_attempts():
        with attempt:
            ban = Ban.objects.filter(ban_list_id=ban_list.pk, telegram_user_id=telegram_user_id).first()
            if ban is not None and ban.active and ban.reason == reason:
                current = BanList.objects.filter(pk=ban_list.pk, is_active=True).first()
                if current is None:
                    raise NotFoundError(f"Ban list {ban_list.pk} not found")
                return {"ban": ban, "created": False, "version": current.version,
                        "propagation": {"groups": 0, "exempt": 0}}
            fresh = _locked_list(ban_list)
            now = timezone.now()
            created = ban is None or not ban.active
            if ban is None:
                ban = Ban.objects.create(ban_list=fresh, telegram_user_id=telegram_user_id, reason=reason,
                                         active=True, source=source or _source(), banned_by=actor, banned_at=now,
                                         version=fresh.version)
            else:
                ban.reason, ban.version = reason, fresh.version
                fields = ["reason", "version", "updated_at"]
                if created:
                    ban.active, ban.banned_by, ban.banned_at, ban.source = True, actor, now, source or _source()
                    fields += ["active", "banned_by", "banned_at", "source"]
                ban.save(update_fields=fields)
            reached = {"groups": 0, "exempt": 0}
            if created:
                # An unban of this user not yet carried out is moot now.
                propagation.propagations_cancel(ban_list=fresh, telegram_user_id=telegram_user_id,
                                                action=propagation.Action.UNBAN, leased_too=False,
                                                error="superseded: banned again before the unban was carried out")
                groups = propagation.groups_reached(ban_list=fresh)
                target = _target(telegram_user_id, needed=bool(groups))
                owed = propagation.owed_for_user(ban_list=fresh, user=target, action=propagation.Action.BAN,
                                                 reason=reason, groups=groups) if groups else []
                propagation.propagations_write(ban_list=fresh, owed=owed, actor=actor)
                reached = {"groups": len(owed),
                           "exempt": sum(item.action == propagation.Action.NOTIFY for item in owed)}
            details = {"telegram_user_id": telegram_user_id, "created": created, "version": fresh.version,
                       **reached}
            Change.objects.create(ban_list=fresh, kind=Change.Kind.BAN, telegram_user_id=telegram_user_id,
                                  reason=reason, actor=actor, source_service=current_context().service or "internal",
                                  details=details)
            audit_change(action=actions.BANLIST_BAN, actor=actor, target_type="ban_list", target_id=fresh.pk,
                         reason=reason[:255], details={"ban_list_name": fresh.name, **details})
            ban_list_logged.send(sender=BanList, ban_list=fresh, event="ban", actor=actor,
                                 details={**details, "reason": reason})
    return {"ban": ban, "created": created, "version": fresh.version, "propagation": reached}


def ban_list_unban(*, ban_list: BanList, telegram_user_id: int, reason: str = "",
                   actor: User | None = None) -> dict:
    """Takes the user off the list: an unban owed to every group the list reaches (except those where another of
    their lists still bans the user), a ban of them not yet carried out cancelled. Someone not on the list (or
    already unbanned): nothing written, "removed" false.

    Answers {"ban": Ban | None, "removed": bool, "version": int, "propagation": {"groups": int}}."""
    reason = reason[:MAX_REASON]
    for attempt in atomic_attempts():
        with attempt:
            ban = Ban.objects.filter(ban_list_id=ban_list.pk, telegram_user_id=telegram_user_id).first()
            if ban is None or not ban.active:
                current = BanList.objects.filter(pk=ban_list.pk, is_active=True).first()
                if current is None:
                    raise NotFoundError(f"Ban list {ban_list.pk} not found")
                return {"ban": ban, "removed": False, "version": current.version, "propagation": {"groups": 0}}
            fresh = _locked_list(ban_list)
            ban.active, ban.version = False, fresh.version
            ban.save(update_fields=["active", "version", "updated_at"])
            propagation.propagations_cancel(ban_list=fresh, telegram_user_id=telegram_user_id,
                                            action=propagation.Action.BAN, leased_too=False,
                                            error="superseded: unbanned before the ban was carried out")
            propagation.propagations_cancel(ban_list=fresh, telegram_user_id=telegram_user_id,
                                            action=propagation.Action.NOTIFY, leased_too=False,
                                            error="superseded: unbanned before the notice was sent")
            groups = propagation.groups_reached(ban_list=fresh)
            target = _target(telegram_user_id, needed=bool(groups))
            owed = propagation.owed_for_user(ban_list=fresh, user=target, action=propagation.Action.UNBAN,
                                             reason=reason, groups=groups) if groups else []
            propagation.propagations_write(ban_list=fresh, owed=owed, actor=actor)
            details = {"telegram_user_id": telegram_user_id, "version": fresh.version, "groups": len(owed)}
            Change.objects.create(ban_list=fresh, kind=Change.Kind.UNBAN, telegram_user_id=telegram_user_id,
                                  reason=reason, actor=actor, source_service=current_context().service or "internal",
                                  details=details)
            audit_change(action=actions.BANLIST_UNBAN, actor=actor, target_type="ban_list", target_id=fresh.pk,
                         reason=reason[:255], details={"ban_list_name": fresh.name, **details})
            ban_list_logged.send(sender=BanList, ban_list=fresh, event="unban", actor=actor,
                                 details={**details, "reason": reason})
    return {"ban": ban, "removed": True, "version": fresh.version, "propagation": {"groups": len(owed)}}
