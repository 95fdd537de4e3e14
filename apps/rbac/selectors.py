"""Reads of the RBAC engine, the permission check first among them: the platform's hottest path.

Decisions come from a per-(user, scope) snapshot of roles and membership, cached (locmem or Redis) under
a key that carries the user's `rbac_version` and the catalogue version. Every change that can alter a
decision bumps one of them inside its own transaction, so a check after a revoke, a deactivation or a
membership change never reads a stale snapshot, in any worker process. Expiry is compared at decision time.
"""

import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from apps.audit import actions
from apps.audit.models import AuditEvent
from apps.common.errors import NotFoundError
from apps.common.ids import parse_pk
from apps.groups.models import ChatIdAlias, Group, Membership
from apps.users.models import User

from .errors import UnknownPermissionError
from .models import CatalogueVersion, Permission, Role, RoleAssignment

# Reason codes of a permission decision.
USER_NOT_FOUND = "user_not_found"
USER_INACTIVE = "user_inactive"
GROUP_NOT_FOUND = "group_not_found"
GROUP_INACTIVE = "group_inactive"
NOT_GRANTED = "permission_not_granted"
NOT_A_MEMBER = "not_a_member"
BANNED_IN_GROUP = "banned_in_group"
GRANTED_BY_ROLE = "granted_by_role"


@dataclass(frozen=True)
class PermissionQuery:
    permission: str
    user_id: object = None
    telegram_user_id: int | None = None
    group_id: object = None
    telegram_chat_id: int | None = None

    @property
    def group_scoped(self) -> bool:
        return self.group_id is not None or self.telegram_chat_id is not None


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str
    permission: str
    user_pk: object = None
    group_pk: object = None


@dataclass(frozen=True)
class _Grant:
    role: str
    rank: int
    permissions: frozenset
    expires_at: float | None  # epoch seconds


@dataclass(frozen=True)
class _Snapshot:
    grants: tuple[_Grant, ...]
    membership_status: str | None


def catalogue_version() -> int:
    return CatalogueVersion.objects.values_list("version", flat=True).first() or 0


def permission_codes() -> frozenset[str]:
    version = catalogue_version()
    key = f"rbac:permissions:{version}"
    codes = cache.get(key)
    if codes is None:
        codes = frozenset(Permission.objects.values_list("code", flat=True))
        cache.set(key, codes, settings.RBAC_DECISION_CACHE_SECONDS)
    return codes


def ensure_known_permissions(codes) -> None:
    unknown = sorted(set(codes) - permission_codes())
    if unknown:
        raise UnknownPermissionError(f"Unknown permission: {', '.join(unknown)}", details={"permission": unknown})


def _active_grants_query(user_pk, group_pk) -> QuerySet:
    scopes = [RoleAssignment.GLOBAL_SCOPE] + ([str(group_pk)] if group_pk is not None else [])
    return RoleAssignment.objects.filter(user_id=user_pk, revoked_at__isnull=True, scope__in=scopes)


def _load_snapshot(user_pk, group_pk) -> _Snapshot:
    rows = _active_grants_query(user_pk, group_pk).values_list("role_id", "expires_at")
    role_ids = {role_id for role_id, _ in rows}
    roles = {role.pk: role for role in Role.objects.filter(pk__in=role_ids)}
    permissions_by_role: dict = {role_id: set() for role_id in role_ids}
    through = Role.permissions.through.objects.filter(role_id__in=role_ids).values_list("role_id", "permission__code")
    for role_id, code in through:
        permissions_by_role[role_id].add(code)
    grants = tuple(
        _Grant(
            role=roles[role_id].name,
            rank=roles[role_id].rank,
            permissions=frozenset(permissions_by_role[role_id]),
            expires_at=expires_at.timestamp() if expires_at else None,
        )
        for role_id, expires_at in rows
    )
    status = None
    if group_pk is not None:
        status = Membership.objects.filter(user_id=user_pk, group_id=group_pk).values_list("status", flat=True).first()
    return _Snapshot(grants=grants, membership_status=status)


def _snapshot(user_pk, user_version: int, group_pk, catalogue: int) -> _Snapshot:
    key = f"rbac:snap:{user_pk}:{user_version}:{catalogue}:{group_pk if group_pk is not None else '-'}"
    snapshot = cache.get(key)
    if snapshot is None:
        snapshot = _load_snapshot(user_pk, group_pk)
        cache.set(key, snapshot, settings.RBAC_DECISION_CACHE_SECONDS)
    return snapshot


def _decide(snapshot: _Snapshot, permission: str, group_scoped: bool, now: float) -> tuple[bool, str]:
    holding = [
        grant
        for grant in snapshot.grants
        if permission in grant.permissions and (grant.expires_at is None or grant.expires_at > now)
    ]
    if not holding:
        return False, NOT_GRANTED
    if group_scoped:
        if snapshot.membership_status is None or snapshot.membership_status in {
            Membership.Status.LEFT,
            Membership.Status.KICKED,
        }:
            return False, NOT_A_MEMBER
        if snapshot.membership_status == Membership.Status.BANNED:
            return False, BANNED_IN_GROUP
    best = max(holding, key=lambda grant: (grant.rank, grant.role))
    return True, f"{GRANTED_BY_ROLE}:{best.role}"


def _users_by(queries: list[PermissionQuery]) -> tuple[dict, dict]:
    """(pk -> (pk, is_active, version), telegram id -> same) for every user the queries name."""
    pks = {parse_pk(User, q.user_id) for q in queries if q.user_id is not None} - {None}
    telegram_ids = {q.telegram_user_id for q in queries if q.user_id is None and q.telegram_user_id is not None}
    condition = Q(pk__in=pks) | Q(telegram_user_id__in=telegram_ids)
    by_pk, by_telegram = {}, {}
    for pk, telegram_id, is_active, version in User.objects.filter(condition).values_list(
        "pk", "telegram_user_id", "is_active", "rbac_version"
    ):
        by_pk[pk] = (pk, is_active, version)
        if telegram_id is not None:
            by_telegram[telegram_id] = (pk, is_active, version)
    return by_pk, by_telegram


def _groups_by(queries: list[PermissionQuery]) -> tuple[dict, dict]:
    pks = {parse_pk(Group, q.group_id) for q in queries if q.group_id is not None} - {None}
    chat_ids = {q.telegram_chat_id for q in queries if q.group_id is None and q.telegram_chat_id is not None}
    if not pks and not chat_ids:
        return {}, {}
    by_pk, by_chat = {}, {}
    for pk, chat_id, is_active in Group.objects.filter(Q(pk__in=pks) | Q(telegram_chat_id__in=chat_ids)).values_list(
        "pk", "telegram_chat_id", "is_active"
    ):
        by_pk[pk] = by_chat[chat_id] = (pk, is_active)
    migrated_from = chat_ids - set(by_chat)
    if migrated_from:  # a chat id the group had before Telegram made it a supergroup
        aliases = ChatIdAlias.objects.filter(telegram_chat_id__in=migrated_from)
        for chat_id, pk, is_active in aliases.values_list("telegram_chat_id", "group_id", "group__is_active"):
            by_chat[chat_id] = (pk, is_active)
    return by_pk, by_chat


def permission_decide_many(queries: list[PermissionQuery]) -> list[Decision]:
    """Decides each query in order. Pure read: the caller records the decisions (see services)."""
    ensure_known_permissions({q.permission for q in queries})
    users_by_pk, users_by_telegram = _users_by(queries)
    groups_by_pk, groups_by_chat = _groups_by(queries)
    catalogue = catalogue_version()
    now = time.time()
    decisions = []
    for query in queries:
        if query.user_id is not None:
            user = users_by_pk.get(parse_pk(User, query.user_id))
        else:
            user = users_by_telegram.get(query.telegram_user_id)
        group = None
        if query.group_id is not None:
            group = groups_by_pk.get(parse_pk(Group, query.group_id))
        elif query.telegram_chat_id is not None:
            group = groups_by_chat.get(query.telegram_chat_id)
        user_pk, group_pk = (user[0] if user else None), (group[0] if group else None)

        if user is None:
            allowed, reason = False, USER_NOT_FOUND
        elif not user[1]:
            allowed, reason = False, USER_INACTIVE
        elif query.group_scoped and group is None:
            allowed, reason = False, GROUP_NOT_FOUND
        elif group is not None and not group[1]:
            allowed, reason = False, GROUP_INACTIVE
        else:
            snapshot = _snapshot(user_pk, user[2], group_pk, catalogue)
            allowed, reason = _decide(snapshot, query.permission, query.group_scoped, now)
        decisions.append(Decision(allowed, reason, query.permission, user_pk, group_pk))
    return decisions


def actor_rank(*, user: User, group: Group | None) -> int:
    """The actor's highest rank in the scope: global assignments count everywhere."""
    now = timezone.now()
    ranks = (
        _active_grants_query(user.pk, group.pk if group else None)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .values_list("role__rank", flat=True)
    )
    return max(ranks, default=0)


def actor_has_permission(*, user: User, permission: str, group: Group | None) -> bool:
    """Whether the actor holds `permission` through a role valid in the scope (membership not required)."""
    now = timezone.now()
    return (
        _active_grants_query(user.pk, group.pk if group else None)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now), role__permissions__code=permission)
        .exists()
    )


def permission_list() -> QuerySet[Permission]:
    return Permission.objects.order_by("code")


def role_list() -> QuerySet[Role]:
    return Role.objects.order_by("-rank", "name")


def role_get(*, name: str) -> Role:
    try:
        return Role.objects.get(name=name)
    except Role.DoesNotExist:
        raise NotFoundError(f"Role {name!r} not found") from None


def role_permission_codes(role: Role) -> list[str]:
    return sorted(role.permissions.values_list("code", flat=True))


def role_permission_codes_by_role(roles) -> dict:
    """role pk -> its sorted permission codes, for every role in `roles`, in one query over the through table.

    What prefetch_related("permissions") would do, written so that MongoDB runs it too.
    """
    codes: dict = {role.pk: [] for role in roles}
    rows = Role.permissions.through.objects.filter(role_id__in=list(codes)).values_list("role_id", "permission__code")
    for role_id, code in rows:
        codes[role_id].append(code)
    return {pk: sorted(role_codes) for pk, role_codes in codes.items()}


def assignment_list(
    *, user_id=None, group_id=None, role: str | None = None, active: bool | None = None
) -> QuerySet[RoleAssignment]:
    queryset = RoleAssignment.objects.select_related("role", "group")
    if user_id is not None:
        queryset = queryset.filter(user_id=user_id)
    if group_id is not None:
        queryset = queryset.filter(group_id=group_id)
    if role is not None:
        queryset = queryset.filter(role__name=role)
    now = timezone.now()
    live = Q(revoked_at__isnull=True) & (Q(expires_at__isnull=True) | Q(expires_at__gt=now))
    if active is True:
        queryset = queryset.filter(live)
    elif active is False:
        queryset = queryset.exclude(live)
    return queryset.order_by("-created_at", "-pk")


def assignment_status(assignment: RoleAssignment, now: datetime | None = None) -> str:
    now = now or timezone.now()
    if assignment.expires_at and assignment.expires_at <= (assignment.revoked_at or now):
        return "expired"
    if assignment.revoked_at:
        return "revoked"
    return "active"


def system_stats() -> dict:
    now = timezone.now()
    day_ago = now - timedelta(hours=24)
    checks = AuditEvent.objects.filter(action=actions.PERMISSION_CHECK, created_at__gte=day_ago)
    check_counts = checks.aggregate(total=Count("pk"), denied=Count("pk", filter=Q(result="denied")))
    live = Q(revoked_at__isnull=True) & (Q(expires_at__isnull=True) | Q(expires_at__gt=now))
    return {
        "users": User.objects.count(),
        "active_users": User.objects.filter(is_active=True).count(),
        "groups": Group.objects.count(),
        "active_groups": Group.objects.filter(is_active=True).count(),
        "roles": Role.objects.count(),
        "active_assignments": RoleAssignment.objects.filter(live).count(),
        "checks_24h": check_counts["total"],
        "denials_24h": check_counts["denied"],
        "audit_events": AuditEvent.objects.count(),
        "generated_at": now,
    }
