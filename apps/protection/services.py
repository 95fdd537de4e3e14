"""Every write of group protection: settings (versioned, audited), raid mode, automated actions (refused for exempt
members) and approvals (the built-in role `approved`, through RBAC's grants). Signals go out after commit."""

import contextlib
import re
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from apps.audit.services import audit_change
from apps.common import audit_actions as actions
from apps.common.db import atomic_attempts
from apps.common.errors import ConflictError, DomainError, ErrorCode, ValidationFailed
from apps.groups.models import MAX_RESTRICTION_SECONDS, MIN_RESTRICTION_SECONDS, Group
from apps.groups.services import group_bump_settings_version
from apps.moderation.models import ModerationAction
from apps.moderation.services import moderation_action_record
from apps.rbac.catalogue import APPROVED_ROLE
from apps.rbac.selectors import PermissionQuery, role_get
from apps.rbac.services import permission_require, role_assign, role_revoke
from apps.users.models import User

from . import signals
from .models import ProtectionSettings
from .selectors import GROUP_FIELDS, PROTECTION_FIELDS, approval_get, exemption, protection_row, protection_view

FLOOD_LIMIT_MIN, FLOOD_LIMIT_MAX = 3, 100
# The automated protections that ask core for actions ("banlist": a ban list's ban on arrival, apps.banlists).
RULES = ("antiflood", "antiraid", "captcha", "locks", "blocklist", "banlist")
DISABLED_COMMAND = re.compile(r"[a-z0-9_]{1,32}")  # a Telegram bot command's name
MAX_DISABLED_COMMANDS = 200


class ExemptMemberError(DomainError):
    code = ErrorCode.EXEMPT_MEMBER
    default_message = "The member is exempt from automated protection"



def _validate(merged: dict, changes: dict) -> None:
    errors = {}
    limit = merged["flood_limit"]
    if limit and not FLOOD_LIMIT_MIN <= limit <= FLOOD_LIMIT_MAX:
        errors["flood_limit"] = [f"0 (off) or {FLOOD_LIMIT_MIN} to {FLOOD_LIMIT_MAX} messages."]
    duration = merged["flood_action_duration_seconds"]
    if merged["flood_action"] in ProtectionSettings.TIMED_FLOOD_ACTIONS and duration is None:
        errors["flood_action_duration_seconds"] = [f"Required when flood_action is {merged['flood_action']}."]
    if duration is not None and not MIN_RESTRICTION_SECONDS <= duration <= MAX_RESTRICTION_SECONDS:
        errors["flood_action_duration_seconds"] = ["Must be 30 seconds to 366 days."]
    duration = merged["blocklist_action_duration_seconds"]
    if merged["blocklist_action"] in ProtectionSettings.TIMED_FLOOD_ACTIONS and duration is None:
        errors["blocklist_action_duration_seconds"] = [f"Required when blocklist_action is "
                                                       f"{merged['blocklist_action']}."]
    if duration is not None and not MIN_RESTRICTION_SECONDS <= duration <= MAX_RESTRICTION_SECONDS:
        errors["blocklist_action_duration_seconds"] = ["Must be 30 seconds to 366 days."]
    commands = merged["disabled_commands"]
    if not isinstance(commands, list) or len(commands) > MAX_DISABLED_COMMANDS or not all(
            isinstance(name, str) and DISABLED_COMMAND.fullmatch(name) for name in commands):
        errors["disabled_commands"] = [f"A list of at most {MAX_DISABLED_COMMANDS} command names (lowercase "
                                       f"a-z, 0-9 and _, 1 to 32 characters, without /)."]
    if errors:
        field = next(iter(errors))
        raise ValidationFailed(f"{field}: {errors[field][0]}", details=errors)


def _plain(value):
    return value.isoformat() if isinstance(value, datetime) else value


def protection_update(*, group: Group, changes: dict, actor: User | None = None,
                      expected_version: int | None = None) -> dict:
    """Changes the settings given (EDITABLE_FIELDS); bumps the group's settings version and audits
    `protection.update` {"changed": {field: [before, after]}} in the same transaction, then sends settings_changed.
    `expected_version`: the version the caller's edit is based on; another one is 409 conflict, nothing written.
    Changing nothing writes nothing. Returns the settings' view."""
    unknown = set(changes) - set(GROUP_FIELDS) - set(PROTECTION_FIELDS)
    if unknown:
        raise ValidationFailed(f"Cannot change {', '.join(sorted(unknown))}",
                               details={name: ["Not an editable setting."] for name in sorted(unknown)})
    for attempt in atomic_attempts():
        with attempt:
            fresh = Group.objects.get(pk=group.pk)
            row = protection_row(group=fresh)
            if expected_version is not None and fresh.settings_version != expected_version:
                raise ConflictError(f"The settings changed meanwhile (version {fresh.settings_version}, not "
                                    f"{expected_version}): reload them and try again",
                                    details={"version": fresh.settings_version})
            current = {name: getattr(fresh, name) for name in GROUP_FIELDS}
            current |= {name: getattr(row, name) for name in PROTECTION_FIELDS}
            _validate({**current, **changes}, changes)
            changed = {name: [current[name], value] for name, value in changes.items() if current[name] != value}
            if changed:
                group_changes = [name for name in changed if name in GROUP_FIELDS]
                for name in group_changes:
                    setattr(fresh, name, changes[name])
                if group_changes:
                    fresh.save(update_fields=[*group_changes, "updated_at"])
                row_changes = [name for name in changed if name in PROTECTION_FIELDS]
                for name in row_changes:
                    setattr(row, name, changes[name])
                if row_changes:
                    row.save()
                group_bump_settings_version(group=fresh)
                audit_change(action=actions.PROTECTION_UPDATE, actor=actor, target_type="group", target_id=fresh.pk,
                             group=fresh, details={"changed": changed, "version": fresh.settings_version})
                transaction.on_commit(lambda g=fresh, c=changed: signals.settings_changed.send(
                    sender=ProtectionSettings, group=g, actor=actor, changed=c))
            view = protection_view(group=fresh, row=row)
    return view


def protection_raid_set(*, group: Group, active: bool, minutes: int | None = None,
                        actor: User | None = None) -> dict:
    """Raid mode on (for `minutes`, default the group's raid_duration_minutes; when already on, the later end wins)
    or off. Without an actor it is the bot's raid detection (`system:antiraid`). Versioned, audited
    `protection.raid`; raid_changed after commit. Returns the settings' view."""
    for attempt in atomic_attempts():
        with attempt:
            fresh = Group.objects.get(pk=group.pk)
            row = protection_row(group=fresh)
            now = timezone.now()
            running = row.raid_until if row.raid_until is not None and row.raid_until > now else None
            if active:
                until = now + timedelta(minutes=minutes or row.raid_duration_minutes)
                # To the millisecond, as MongoDB keeps it: the answer now and a later read agree.
                until = until.replace(microsecond=until.microsecond // 1000 * 1000)
                until = max(until, running) if running is not None else until
            else:
                until = None
            if until != running or (not active and row.raid_until is not None):
                row.raid_until = until
                row.save()
                group_bump_settings_version(group=fresh)
                details = {"active": active, "until": _plain(until), "previous_until": _plain(running),
                           "version": fresh.settings_version}
                if actor is None:
                    details["rule"] = "antiraid"
                audit_change(action=actions.PROTECTION_RAID, actor=actor, target_type="group", target_id=fresh.pk,
                             group=fresh, details=details)
                transaction.on_commit(lambda g=fresh, u=until: signals.raid_changed.send(
                    sender=ProtectionSettings, group=g, actor=actor, active=active, until=u))
            view = protection_view(group=fresh, row=row)
    return view


def protection_action_record(*, group: Group, rule: str, type: str, target: User, reason: str = "",
                             until: datetime | None = None, telegram_message_id: int | None = None,
                             details: dict | None = None) -> ModerationAction:
    """An automated protection's action on a member, recorded as requested with no actor (`system:<rule>`).
    An exempt member (a Telegram admin, or approved): 403 exempt_member with details.reason, nothing recorded."""
    if rule not in RULES:
        raise ValidationFailed(f"Unknown rule {rule!r}", details={"rule": [f"One of {', '.join(RULES)}."]})
    reason_exempt = exemption(group=group, user=target)
    if reason_exempt is not None:
        raise ExemptMemberError(f"The member is exempt from automated protection here ({reason_exempt})",
                                details={"reason": reason_exempt})
    action, _ = moderation_action_record(type=type, group=group, actor=None, target=target, reason=reason,
                                         until=until, telegram_message_id=telegram_message_id, details=details,
                                         rule=rule)
    return action


def approval_view(*, group: Group, user: User) -> dict:
    return {"user_id": str(user.pk), "telegram_user_id": user.telegram_user_id,
            "display_name": user.display_name or (f"@{user.telegram_username}" if user.telegram_username
                                                  else user.username),
            "approved": approval_get(group=group, user=user) is not None}


def _require_manage_roles(*, group: Group, actor: User | None) -> None:
    """The grant's own rule checks this too; asked first, the refusal names the permission in its details (the bot
    says which one is missing) and is on the trail as a check."""
    if actor is not None and not (actor.is_superuser and actor.is_active):
        permission_require(query=PermissionQuery(permission="MANAGE_ROLES", user_id=actor.pk, group_id=group.pk),
                           message="The actor needs the MANAGE_ROLES permission in this group ({reason})")


def approval_grant(*, group: Group, target: User, actor: User | None, reason: str = "approved") -> dict:
    """Approves the member in the group: the built-in role `approved` there, granted through RBAC (the actor needs
    MANAGE_ROLES in the group and must outrank the role, as for any grant; audited as role.assign). Idempotent."""
    _require_manage_roles(group=group, actor=actor)
    role_assign(user=target, role=role_get(name=APPROVED_ROLE), group=group, actor=actor, reason=reason)
    return approval_view(group=group, user=target)


def approval_revoke(*, group: Group, target: User, actor: User | None, reason: str = "unapproved") -> dict:
    """Withdraws the member's approval in the group through RBAC (audited as role.revoke). Idempotent: with none
    to withdraw, the actor's right to is still checked (MANAGE_ROLES) and nothing is written."""
    _require_manage_roles(group=group, actor=actor)
    assignment = approval_get(group=group, user=target)
    if assignment is None:
        return approval_view(group=group, user=target)
    with contextlib.suppress(ConflictError):  # revoked concurrently: the outcome asked for
        role_revoke(assignment=assignment, actor=actor, reason=reason)
    return approval_view(group=group, user=target)
