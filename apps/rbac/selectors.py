"""Reads of the RBAC engine: the permission catalogue, roles, assignments and ranks, and the types of a permission
check (`PermissionQuery`, `Decision`). The check itself, the platform's hottest path, is in decisions.py."""

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.cache import cache
from django.db.models import Q, QuerySet
from django.utils import timezone

from apps.common.errors import NotFoundError
from apps.groups.models import Group, Membership
from apps.users.models import User

from .errors import UnknownPermissionError
from .models import CatalogueVersion, Permission, Role, RoleAssignment

# Reason codes of a permission decision.
USER_NOT_FOUND = "user_not_found"
USER_INACTIVE = "user_inactive"
GROUP_NOT_FOUND = "group_not_found"
GROUP_INACTIVE = "group_inactive"
BAN_LIST_NOT_FOUND = "ban_list_not_found"
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
    # A ban list's scope (apps/rbac/scopes.py): its grants and the global ones count, no membership needed.
    # Exclusive with the group.
    ban_list_id: object = None

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
    ban_list_pk: object = None


def catalogue_version() -> int:
    return CatalogueVersion.objects.order_by("pk").values_list("version", flat=True).first() or 0


def permission_codes(version: int | None = None) -> frozenset[str]:
    if version is None:
        version = catalogue_version()
    key = f"rbac:permissions:{version}"
    codes = cache.get(key)
    if codes is None:
        codes = frozenset(Permission.objects.values_list("code", flat=True))
        cache.set(key, codes, settings.RBAC_DECISION_CACHE_SECONDS)
    return codes


def ensure_known_permissions(codes, version: int | None = None) -> None:
    unknown = sorted(set(codes) - permission_codes(version))
    if unknown:
        raise UnknownPermissionError(f"Unknown permission: {', '.join(unknown)}", details={"permission": unknown})


def active_grants_query(user_pk, group_pk, scope: str | None = None) -> QuerySet:
    """The user's unrevoked assignments valid in the group, or in `scope` (a registered kind's, e.g.
    "banlist:<pk>") when given: the global ones count in every scope."""
    scopes = [RoleAssignment.GLOBAL_SCOPE]
    if scope is not None:
        scopes.append(scope)
    elif group_pk is not None:
        scopes.append(str(group_pk))
    return RoleAssignment.objects.filter(user_id=user_pk, revoked_at__isnull=True, scope__in=scopes)


def actor_rank(*, user: User, group: Group | None, scope: str | None = None) -> int:
    """The actor's highest rank in the scope (the group, or `scope` when given): global assignments count
    everywhere."""
    now = timezone.now()
    ranks = (
        active_grants_query(user.pk, group.pk if group else None, scope)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .values_list("role__rank", flat=True)
    )
    return max(ranks, default=0)


# The role a Telegram administrator's rank is at least (creators are synced as owners, see group_admins_sync).
TELEGRAM_ADMIN_ROLE = "admin"


def member_rank(*, user: User, group: Group) -> tuple[int, str]:
    """A member's rank in the group and what gives it: their highest role valid there (global roles count
    everywhere), and at least the admin role's when core's membership says Telegram made them an administrator
    (even if that role was revoked by hand in core). (0, "no role") for a plain member."""
    now = timezone.now()
    held = (
        active_grants_query(user.pk, group.pk)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .values_list("role__rank", "role__name")
    )
    rank, source = max(held, default=(0, "no role"))
    admin_rank = Role.objects.filter(name=TELEGRAM_ADMIN_ROLE).values_list("rank", flat=True).first()
    if admin_rank is not None and rank < admin_rank and Membership.objects.filter(
            user_id=user.pk, group_id=group.pk, is_admin=True).exists():
        rank, source = admin_rank, "Telegram administrator"
    return rank, source


def actor_has_permission(*, user: User, permission: str, group: Group | None, scope: str | None = None) -> bool:
    """Whether the actor holds `permission` through a role valid in the scope (the group, or `scope` when given;
    membership not required)."""
    now = timezone.now()
    return (
        active_grants_query(user.pk, group.pk if group else None, scope)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now), role__permissions__code=permission)
        .exists()
    )


def scope_object_ids(*, user_pk, kind: str, permission: str | None = None) -> set[str]:
    """The ids of the objects of a registered scope kind (apps/rbac/scopes.py) in whose scope the user holds a live
    role, or one granting `permission` when given: what a user may see of a kind ("banlist" -> list ids)."""
    now = timezone.now()
    held = RoleAssignment.objects.filter(user_id=user_pk, revoked_at__isnull=True, scope__startswith=f"{kind}:")
    held = held.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
    if permission is not None:
        held = held.filter(role__permissions__code=permission)
    return {scope.partition(":")[2] for scope in held.values_list("scope", flat=True)}


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
    *, user_id=None, group_id=None, scope: str | None = None, role: str | None = None, active: bool | None = None
) -> QuerySet[RoleAssignment]:
    """Assignments, newest first; `scope`: only those of that scope ("global", a group's pk, "banlist:<pk>")."""
    queryset = RoleAssignment.objects.select_related("role", "group")
    if user_id is not None:
        queryset = queryset.filter(user_id=user_id)
    if group_id is not None:
        queryset = queryset.filter(group_id=group_id)
    if scope is not None:
        queryset = queryset.filter(scope=scope)
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
