"""Every write of the RBAC engine. Each one audits itself inside the same transaction."""

import logging
from datetime import datetime

from django.db import IntegrityError
from django.db.models import F
from django.utils import timezone

from apps.audit.services import AuditEntry, audit_append_many, audit_change
from apps.common import audit_actions as actions
from apps.common.db import atomic_attempts
from apps.common.errors import ConflictError, LastOwnerError, PermissionDeniedError, ValidationFailed
from apps.common.metrics import PERMISSION_CHECKS
from apps.groups.models import Group
from apps.users.models import User
from apps.users.services import OWNER_ROLE, active_global_owner_ids, user_bump_rbac_version

from .decisions import permission_decide_many
from .errors import RankViolationError
from .models import CatalogueVersion, Permission, Role, RoleAssignment
from .scopes import role_scope_require, scope_kind_of
from .selectors import (
    Decision,
    PermissionQuery,
    actor_has_permission,
    actor_rank,
    ensure_known_permissions,
    member_rank,
)

logger = logging.getLogger(__name__)


def permission_check_many(*, queries: list[PermissionQuery]) -> list[Decision]:
    """Decides each query and puts every decision on the record, in one transaction."""
    decisions = permission_decide_many(queries)
    allowed = 0
    entries = []
    for query, decision in zip(queries, decisions, strict=True):
        allowed += decision.allowed
        entries.append(
            AuditEntry(
                action=actions.PERMISSION_CHECK,
                result="allowed" if decision.allowed else "denied",
                actor_user_id=decision.user_pk,
                group_id=decision.group_pk,
                reason=decision.reason,
                details=_check_details(query, decision),
            )
        )
    audit_append_many(entries)
    if allowed:
        PERMISSION_CHECKS.labels(result="allowed").inc(allowed)
    if len(decisions) - allowed:
        PERMISSION_CHECKS.labels(result="denied").inc(len(decisions) - allowed)
    return decisions


def permission_check(*, query: PermissionQuery) -> Decision:
    (decision,) = permission_check_many(queries=[query])
    logger.debug(
        "permission check",
        extra={
            "user_id": decision.user_pk,
            "permission": decision.permission,
            "group_id": decision.group_pk,
            "result": "allowed" if decision.allowed else "denied",
            "reason": decision.reason,
        },
    )
    return decision


def permission_require(*, query: PermissionQuery, message: str) -> Decision:
    """`permission_check`, and a refusal as PermissionDeniedError(`message`, where "{reason}" stands for the
    decision's reason) with the permission and the reason in its details: for requests that core authorizes
    itself before doing anything."""
    decision = permission_check(query=query)
    if not decision.allowed:
        raise PermissionDeniedError(message.format(reason=decision.reason),
                                    details={"permission": query.permission, "reason": decision.reason})
    return decision


def outrank_require(*, actor: User, target: User, group: Group, action: str, verb: str) -> None:
    """The rank rule for acting on a member: the actor's highest rank in the group must be above the target's
    (`member_rank`: a Telegram administrator counts at least as an admin). Refused: on the audit trail under
    `action`, then RankViolationError saying whose rank stops it. Superusers are platform operators, not bound
    (as for role changes)."""
    if actor.is_superuser and actor.is_active:
        return
    own_rank = actor_rank(user=actor, group=group)
    target_rank, source = member_rank(user=target, group=group)
    if target_rank >= own_rank:
        _refuse(action=action, actor=actor, error=RankViolationError, target_type="user", target_id=target.pk,
                group=group, details={"actor_rank": own_rank, "target_rank": target_rank, "target_rank_from": source},
                message=f"You can't {verb} this member: their rank here ({source}, {target_rank}) is not below "
                        f"yours ({own_rank}). Only someone who outranks them can.")


def _check_details(query: PermissionQuery, decision: Decision) -> dict:
    details = {"permission": query.permission}
    if decision.user_pk is None:
        details["user"] = query.user_id if query.user_id is not None else f"telegram:{query.telegram_user_id}"
    if query.group_scoped and decision.group_pk is None:
        details["group"] = query.group_id if query.group_id is not None else f"telegram:{query.telegram_chat_id}"
    if decision.ban_list_pk is not None:
        details["ban_list_id"] = str(decision.ban_list_pk)
    elif query.ban_list_id is not None:
        details["ban_list"] = str(query.ban_list_id)
    return details


def _catalogue_bump() -> None:
    updated = CatalogueVersion.objects.update(version=F("version") + 1)
    if not updated:
        CatalogueVersion.objects.create(version=1)


def _refuse(*, action: str, actor: User, message: str, error, target_type: str, target_id, group=None, details=None,
            scope: str | None = None):
    """Records a refused change on the trail (its own transaction, as the change never happens), then raises."""
    if scope is not None:
        details = {**(details or {}), "scope": scope}
    audit_change(action=action, actor=actor, target_type=target_type, target_id=target_id, group=group,
                 result="denied", reason=error.code, details=details)
    raise error(message)


def _authorize_role_change(*, action: str, actor: User | None, role_rank: int, group: Group | None,
                           target_type: str, target_id, new_rank: int | None = None,
                           scope: str | None = None) -> None:
    """The rank rule: the actor holds MANAGE_ROLES in the scope (the group, or `scope`: a ban list's) and
    outranks every rank the change touches.

    No actor means the calling service acts as the system; Django superusers are platform operators (they
    already hold every power through /admin), so the rule does not bind them either.
    """
    if actor is None or (actor.is_superuser and actor.is_active):
        return
    refused = {"action": action, "actor": actor, "target_type": target_type, "target_id": target_id,
               "group": group, "scope": scope}
    if not actor.is_active:
        _refuse(**refused, message="The acting user is deactivated", error=PermissionDeniedError)
    if not actor_has_permission(user=actor, permission="MANAGE_ROLES", group=group, scope=scope):
        _refuse(**refused, message="User does not have permission for this action (MANAGE_ROLES)",
                error=PermissionDeniedError)
    own_rank = actor_rank(user=actor, group=group, scope=scope)
    highest_touched = max(role_rank, new_rank or 0)
    if highest_touched >= own_rank:
        _refuse(
            **refused,
            message=f"Your highest rank here is {own_rank}; you may only act on roles ranked below it "
            f"(this one is {highest_touched})",
            error=RankViolationError,
            details={"actor_rank": own_rank, "role_rank": highest_touched},
        )


def _permissions_for(codes: list[str]) -> list[Permission]:
    ensure_known_permissions(codes)
    return list(Permission.objects.filter(code__in=set(codes)))


def role_create(*, name: str, rank: int, permissions: list[str], description: str = "",
                actor: User | None = None) -> Role:
    _authorize_role_change(action=actions.ROLE_CREATE, actor=actor, role_rank=rank, group=None,
                           target_type="role", target_id=name)
    permission_rows = _permissions_for(permissions)
    for attempt in atomic_attempts():
        with attempt:
            if Role.objects.filter(name=name).exists():
                raise ConflictError(f"Role {name!r} already exists")
            role = Role.objects.create(name=name, rank=rank, description=description)
            role.permissions.set(permission_rows)
            _catalogue_bump()
            audit_change(action=actions.ROLE_CREATE, actor=actor, target_type="role", target_id=name,
                         details={"rank": rank, "permissions": sorted(permissions)})
    return role


def role_update(*, role: Role, rank: int | None = None, permissions: list[str] | None = None,
                description: str | None = None, actor: User | None = None) -> Role:
    _authorize_role_change(action=actions.ROLE_UPDATE, actor=actor, role_rank=role.rank, group=None,
                           target_type="role", target_id=role.name, new_rank=rank)
    permission_rows = _permissions_for(permissions) if permissions is not None else None
    field_changes = {}
    if rank is not None and rank != role.rank:
        field_changes["rank"] = [role.rank, rank]
    if description is not None and description != role.description:
        field_changes["description"] = [role.description, description]
    for attempt in atomic_attempts():  # each attempt starts from the same intended changes
        with attempt:
            changes = dict(field_changes)
            if changes:
                for name, (_, new_value) in changes.items():
                    setattr(role, name, new_value)
                role.save()
            if permission_rows is not None:
                before = sorted(role.permissions.values_list("code", flat=True))
                after = sorted({row.code for row in permission_rows})
                if before != after:
                    role.permissions.set(permission_rows)
                    changes["permissions"] = {
                        "added": sorted(set(after) - set(before)),
                        "removed": sorted(set(before) - set(after)),
                    }
            if changes:
                _catalogue_bump()
                audit_change(action=actions.ROLE_UPDATE, actor=actor, target_type="role", target_id=role.name,
                             details=changes)
    return role


def role_assign(*, user: User, role: Role, group: Group | None = None, expires_at: datetime | None = None,
                reason: str = "", actor: User | None = None, source: str = RoleAssignment.Source.MANUAL,
                scope: str | None = None) -> tuple[RoleAssignment, bool]:
    """Grants `role` globally, in `group`, or in `scope` (a registered kind's, "banlist:<pk>", resolved by the
    caller; group None); when the user already holds it in that scope, returns that assignment (created=False).
    A kind's roles are granted only in its scopes, and only they are granted there (400)."""
    now = timezone.now()
    if expires_at is not None and expires_at <= now:
        raise ValidationFailed("expires_at must be in the future", details={"expires_at": ["Must be in the future."]})
    if not user.is_active:
        raise ValidationFailed(f"User {user.pk} is deactivated")
    if scope is not None and group is not None:
        raise ValidationFailed("Give a group or a ban list's scope, not both")
    kind_scope = scope
    scope = scope if scope is not None else RoleAssignment.scope_for(group)
    role_scope_require(role_name=role.name, scope=scope)
    _authorize_role_change(action=actions.ROLE_ASSIGN, actor=actor, role_rank=role.rank, group=group,
                           target_type="user", target_id=user.pk, scope=kind_scope)
    try:
        for attempt in atomic_attempts():
            with attempt:
                current = RoleAssignment.objects.filter(user=user, role=role, scope=scope,
                                                        revoked_at__isnull=True).first()
                if current is not None:
                    if current.expires_at is None or current.expires_at > now:
                        return current, False
                    # Expired: close it (kept as history, reads as expired) so the new grant can be the open one.
                    current.revoked_at = current.expires_at
                    current.revoke_reason = "expired"
                    current.active_scope = None
                    current.save(update_fields=["revoked_at", "revoke_reason", "active_scope"])
                assignment = RoleAssignment.objects.create(
                    user=user, role=role, group=group, scope=scope, active_scope=scope, expires_at=expires_at,
                    reason=reason, granted_by=actor, source=source,
                )
                user_bump_rbac_version(user_id=user.pk)
                audit_change(
                    action=actions.ROLE_ASSIGN,
                    actor=actor,
                    target_type="user",
                    target_id=user.pk,
                    group=group,
                    reason=reason,
                    details={"role": role.name, "assignment_id": str(assignment.pk), "scope": scope,
                             "expires_at": expires_at.isoformat() if expires_at else None, "source": source},
                )
    except IntegrityError:
        # A concurrent grant of the same role in the same scope won: that one is the active assignment.
        existing = RoleAssignment.objects.get(user=user, role=role, scope=scope, revoked_at__isnull=True)
        return existing, False
    return assignment, True


def _last_owner(assignment: RoleAssignment) -> LastOwnerError:
    return LastOwnerError(f"Assignment {assignment.pk} is the last active global owner grant: grant the owner role "
                          "globally to another active user before revoking it")


def role_revoke(*, assignment: RoleAssignment, reason: str = "", actor: User | None = None) -> RoleAssignment:
    """Closes an assignment. The last active global owner grant is never revoked, whoever asks (their own
    included): 409 last_owner, on the audit trail; no one could grant roles in the dashboard again."""
    group = assignment.group
    _authorize_role_change(action=actions.ROLE_REVOKE, actor=actor, role_rank=assignment.role.rank, group=group,
                           target_type="user", target_id=assignment.user_id,
                           scope=assignment.scope if scope_kind_of(assignment.scope) else None)
    owners = active_global_owner_ids() if group is None and assignment.role.name == OWNER_ROLE else set()
    revoking_an_owner = assignment.user_id in owners
    if revoking_an_owner and owners == {assignment.user_id}:
        audit_change(action=actions.ROLE_REVOKE, actor=actor, target_type="user", target_id=assignment.user_id,
                     result="denied", reason=LastOwnerError.code,
                     details={"role": assignment.role.name, "assignment_id": str(assignment.pk), "scope": "global"})
        raise _last_owner(assignment)
    for attempt in atomic_attempts():
        with attempt:
            # A conditional update instead of SELECT ... FOR UPDATE (which MongoDB lacks): of two concurrent
            # revokes exactly one changes the row, and only that one is recorded.
            closed = RoleAssignment.objects.filter(pk=assignment.pk, revoked_at__isnull=True).update(
                revoked_at=timezone.now(), revoked_by=actor, revoke_reason=reason, active_scope=None
            )
            if not closed:
                raise ConflictError(f"Assignment {assignment.pk} was already revoked")
            if revoking_an_owner and not active_global_owner_ids():  # counted after the write: a concurrent revoke
                raise _last_owner(assignment)
            locked = RoleAssignment.objects.get(pk=assignment.pk)
            user_bump_rbac_version(user_id=locked.user_id)
            audit_change(action=actions.ROLE_REVOKE, actor=actor, target_type="user", target_id=locked.user_id,
                         group=group, reason=reason,
                         details={"role": assignment.role.name, "assignment_id": str(assignment.pk),
                                  "scope": locked.scope})
    return locked
