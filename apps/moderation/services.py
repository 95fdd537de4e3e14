"""Moderation records: what was asked, what Telegram did, and what it changed in core. Each step is audited."""

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from apps.audit.services import audit_change, audit_record
from apps.common import audit_actions as actions
from apps.common.context import current_context
from apps.common.db import atomic_attempts
from apps.common.errors import ConflictError, DomainError, ErrorCode, ValidationFailed
from apps.groups.models import MAX_RESTRICTION_SECONDS, MIN_RESTRICTION_SECONDS, Group, Membership
from apps.groups.services import membership_set
from apps.rbac.selectors import PermissionQuery
from apps.rbac.services import outrank_require, permission_require
from apps.users.models import User

from .models import ModerationAction, Warning
from .selectors import warning_active_count, warning_counted
from .signals import action_completed

Type = ModerationAction.Type


class NotAMemberError(DomainError):
    code = ErrorCode.NOT_A_MEMBER
    default_message = "The target is not a member of this group"


@dataclass(frozen=True)
class WarnOutcome:
    warning: Warning | None
    active_warnings: int
    warn_limit: int
    required_action: dict | None  # what the group's settings demand once the limit is reached


def _validate_until(action_type: str, until: datetime | None, now: datetime) -> None:
    if until is None:
        return
    if action_type not in ModerationAction.MAY_BE_TEMPORARY:
        raise ValidationFailed(f"A {action_type} cannot be temporary", details={"until": ["Only ban and mute."]})
    seconds = (until - now).total_seconds()
    if not MIN_RESTRICTION_SECONDS <= seconds <= MAX_RESTRICTION_SECONDS:
        raise ValidationFailed(
            "A temporary action must last between 30 seconds and 366 days; Telegram treats anything else as forever",
            details={"until": ["Must be 30 s to 366 days from now."]},
        )


def _present_membership(group: Group, user: User) -> Membership | None:
    return Membership.objects.filter(group=group, user=user, status__in=Membership.PRESENT).first()


def active_warning_count(*, group: Group, user: User) -> int:
    """The warnings that count toward the limit: not removed nor expired (the group's warn_expiry_seconds)."""
    return warning_active_count(group=group, user=user)


def _required_action(group: Group) -> dict:
    required = {"type": group.warn_action, "duration_seconds": None}
    if group.warn_action == Group.WarnAction.TMUTE:
        required = {"type": "mute", "duration_seconds": group.warn_action_duration_seconds}
    return required


def moderation_actor_authorize(*, permission: str, group: Group, actor_user_id=None,
                               actor_telegram_user_id: int | None = None) -> None:
    """Core's permission check of a request's actor in its group, put on the record like any other check.
    Refused: PermissionDeniedError naming the permission, before anything about the request is written."""
    permission_require(query=PermissionQuery(permission=permission, user_id=actor_user_id,
                                             telegram_user_id=actor_telegram_user_id, group_id=group.pk),
                       message=f"The actor needs the {permission} permission in this group ({{reason}})")


def moderation_target_authorize(*, type: str, group: Group, actor: User | None, target: User | None) -> None:
    """With a permission checked for the actor, the rank rule too: nobody acts on a member whose rank in the group
    is equal to or above their own (a Telegram administrator counts at least as an admin). Refused: 403
    rank_violation, on the audit trail, nothing recorded."""
    if actor is not None and target is not None:
        outrank_require(actor=actor, target=target, group=group, action=actions.MODERATION_REQUEST, verb=type)


def moderation_action_record(*, type: str, group: Group, actor: User | None, target: User | None, reason: str = "",
                             until: datetime | None = None, telegram_message_id: int | None = None,
                             details: dict | None = None,
                             rule: str = "") -> tuple[ModerationAction, WarnOutcome | None]:
    """Records a requested action. `rule`: the automated protection asking for it ("antiflood"...), with no actor;
    apps.protection.services.protection_action_record refuses exempt members before calling this."""
    now = timezone.now()
    if type in ModerationAction.TARGETS_A_USER and target is None:
        raise ValidationFailed(f"A {type} needs a target user", details={"target_user_id": ["Required."]})
    _validate_until(type, until, now)
    warn_outcome = None
    for attempt in atomic_attempts():
        with attempt:
            if type in (Type.WARN, Type.UNWARN) and _present_membership(group, target) is None:
                raise NotAMemberError(f"Only members of this group can be {type}ed: the target is not in it",
                                      details={"user_id": str(target.pk), "group_id": str(group.pk)})
            action = ModerationAction.objects.create(
                type=type, group=group, actor=actor, target=target, reason=reason, until=until,
                telegram_message_id=telegram_message_id, source_service=current_context().service or "internal",
                details=details or {}, rule=rule,
            )
            if type == Type.WARN:
                warning = Warning.objects.create(group=group, user=target, action=action, issued_by=actor,
                                                 reason=reason)
                warn_outcome = _warn_outcome(group, target, warning)
            elif type == Type.UNWARN:
                latest = (Warning.objects.filter(user=target, **warning_counted(group=group, now=now))
                          .order_by("-id").first())
                if latest is not None:
                    _remove(latest, actor=actor, reason=reason or "unwarn", now=now)
                warn_outcome = _warn_outcome(group, target, latest)
            audit_change(
                action=actions.MODERATION_REQUEST,
                actor=actor,
                target_type="user" if target else "group",
                target_id=target.pk if target else group.pk,
                group=group,
                reason=reason[:255],
                details={"type": type, "action_id": str(action.pk), "until": until.isoformat() if until else None,
                         **({"active_warnings": warn_outcome.active_warnings} if warn_outcome else {}),
                         **({"rule": rule} if rule else {})},
            )
    return action, warn_outcome


def _warn_outcome(group: Group, target: User, warning: Warning | None) -> WarnOutcome:
    count = active_warning_count(group=group, user=target)
    required = _required_action(group) if count >= group.warn_limit else None
    return WarnOutcome(warning=warning, active_warnings=count, warn_limit=group.warn_limit, required_action=required)


_MEMBERSHIP_EFFECTS = {
    Type.BAN: {"status": Membership.Status.BANNED},
    Type.KICK: {"status": Membership.Status.KICKED},
    Type.MUTE: {"status": Membership.Status.RESTRICTED},
    # Unban lifts the ban; the user is out of the chat until they rejoin (a join event makes them a member).
    Type.UNBAN: {"status": Membership.Status.LEFT},
    Type.UNMUTE: {"status": Membership.Status.MEMBER},
    Type.PROMOTE: {"is_admin": True},
    Type.DEMOTE: {"is_admin": False},
}


def moderation_action_complete(*, action: ModerationAction, status: str, error: str = "") -> ModerationAction:
    for attempt in atomic_attempts():
        with attempt:
            # A conditional update instead of SELECT ... FOR UPDATE (which MongoDB lacks): of two concurrent
            # completions exactly one moves the action out of "requested".
            claimed = ModerationAction.objects.filter(pk=action.pk, status=ModerationAction.Status.REQUESTED).update(
                status=status, error=error if status == ModerationAction.Status.FAILED else "",
                completed_at=timezone.now(),
            )
            locked = ModerationAction.objects.get(pk=action.pk)
            if not claimed:
                raise ConflictError(f"Action {action.pk} was already completed ({locked.status})")
            effect = _MEMBERSHIP_EFFECTS.get(locked.type)
            if status == ModerationAction.Status.EXECUTED and effect and locked.target_id:
                if locked.type == Type.UNBAN and not Membership.objects.filter(
                    group_id=locked.group_id, user_id=locked.target_id, status=Membership.Status.BANNED
                ).exists():
                    effect = None  # unbanning someone who was not banned changes nothing
                if effect:
                    extra = {"restricted_until": locked.until} if locked.type == Type.MUTE and locked.until else {}
                    membership_set(group=locked.group, user=locked.target, actor=locked.actor, **effect, **extra)
            if status == ModerationAction.Status.FAILED and locked.type == Type.WARN:
                for warning in Warning.objects.filter(action=locked, removed_at__isnull=True):
                    _remove(warning, actor=None, reason="the warn could not be delivered", now=locked.completed_at)
            audit_record(
                action=actions.MODERATION_COMPLETE,
                result="success" if status == ModerationAction.Status.EXECUTED else "failure",
                actor_user_id=locked.actor_id,
                target_type="user" if locked.target_id else "group",
                target_id=locked.target_id or locked.group_id,
                group_id=locked.group_id,
                reason=error[:255],
                details={"type": locked.type, "action_id": str(locked.pk), "status": status,
                         **({"rule": locked.rule} if locked.rule else {})},
            )
            action_completed.send(sender=ModerationAction, action=locked)
    return locked


def _remove(warning: Warning, *, actor: User | None, reason: str, now: datetime) -> None:
    warning.removed_at = now
    warning.removed_by = actor
    warning.remove_reason = reason[:255]
    warning.save(update_fields=["removed_at", "removed_by", "remove_reason"])


def warning_remove(*, warning: Warning, actor: User | None = None, reason: str = "") -> Warning:
    for attempt in atomic_attempts():
        with attempt:
            # A conditional update instead of SELECT ... FOR UPDATE: only one of two concurrent removals applies.
            removed = Warning.objects.filter(pk=warning.pk, removed_at__isnull=True).update(
                removed_at=timezone.now(), removed_by=actor, remove_reason=reason[:255]
            )
            if not removed:
                raise ConflictError(f"Warning {warning.pk} was already removed")
            locked = Warning.objects.get(pk=warning.pk)
            audit_record(
                action=actions.WARNING_REMOVE, result="success", actor_user_id=actor.pk if actor else None,
                target_type="user", target_id=locked.user_id, group_id=locked.group_id, reason=reason[:255],
                details={"warning_id": str(locked.pk)},
            )
    return locked


def warnings_reset(*, group: Group, user: User, actor: User | None = None, reason: str = "") -> int:
    now = timezone.now()
    for attempt in atomic_attempts():
        with attempt:
            removed = Warning.objects.filter(group=group, user=user, removed_at__isnull=True).update(
                removed_at=now, removed_by=actor, remove_reason=(reason or "reset")[:255]
            )
            audit_change(action=actions.WARNINGS_RESET, actor=actor, target_type="user", target_id=user.pk, group=group,
                         reason=reason[:255], details={"removed": removed})
    return removed

