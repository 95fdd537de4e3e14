"""Everything the web role does, behind thin views: logins and tokens, and every read and write of the
dashboard's API, each preceded by the token user's permission check in core. Pages and the WebSocket feed
call these too, so they follow the same rules.
"""

import logging
from collections.abc import Iterator

from django.conf import settings
from django.utils import timezone

from apps.common.errors import ErrorCode, LoginRateLimited, PermissionDeniedError
from apps.common.ratelimit import login_limiter
from apps.coreclient import CoreError, Group, ids

from .core import core
from .errors import InvalidCredentials, SigningUnavailable, TokenRejected, TokenRevoked
from .tokens import DashboardUser, can_sign, expiry, issue_pair, read_refresh, remember_family

logger = logging.getLogger(__name__)

# The permissions the dashboard asks core about (apps/rbac/catalogue.py holds the catalogue).
ADMIN_DASHBOARD = "ADMIN_DASHBOARD"
VIEW_GROUPS = "VIEW_GROUPS"
MANAGE_ROLES = "MANAGE_ROLES"
VIEW_AUDIT = "VIEW_AUDIT"
VIEW_STATS = "VIEW_STATS"


# -- authentication


def login(*, username: str, password: str, client_ip: str) -> dict:
    """Core checks the password (and audits the attempt); web issues the tokens. Failures count against the
    account and the address; at the limit, attempts are refused here without reaching core."""
    limiter = login_limiter()
    locked = limiter.lockout(username=username, ip=client_ip)
    if locked is not None:
        logger.warning("login throttled", extra={"scope": locked.scope, "retry_after": locked.retry_after,
                                                 "client_ip": client_ip})
        raise LoginRateLimited(scope=locked.scope, retry_after=locked.retry_after)
    if not can_sign():  # before the password is sent anywhere
        raise SigningUnavailable()
    try:
        user = core().verify_credentials(username=username, password=password, client_ip=client_ip or None)
    except CoreError as exc:
        if exc.code == ErrorCode.RATE_LIMITED:  # core's own count (its other logins, or other web replicas) is full
            details = exc.details if isinstance(exc.details, dict) else {}
            raise LoginRateLimited(scope=details.get("scope", "account"),
                                 retry_after=int(details.get("retry_after", 1))) from None
        if exc.code != ErrorCode.INVALID_CREDENTIALS:
            raise
        limiter.record_failure(username=username, ip=client_ip)
        raise InvalidCredentials() from None
    limiter.record_success(username=username)
    return issue_pair(user)


def refresh(*, refresh_token: str) -> dict:
    """Rotation: the presented refresh token is revoked in core, and only the call that revoked it gets a new
    pair. A refresh token that was already used (or logged out) is refused: 401 token_revoked; one that had been
    rotated away revokes its whole login session in core (reuse detection: the pair issued in its place, and the
    session's access tokens, stop working too), unless it comes within JWT_REFRESH_REUSE_GRACE_SECONDS of the
    rotation (concurrent refreshes from one browser)."""
    token = read_refresh(refresh_token)
    if not can_sign():  # before the token is spent
        raise SigningUnavailable()
    family = token.get("sid") if isinstance(token.get("sid"), str) else None
    # No token of this session outlives the refresh token issued now: the session's row in core may go after it.
    family_expires_at = timezone.now() + settings.SIMPLE_JWT["REFRESH_TOKEN_LIFETIME"] if family else None
    revocation = core().token_revoke(jti=token["jti"], expires_at=expiry(token), user_id=token["user_id"],
                                     reason="rotated", family=family, family_expires_at=family_expires_at,
                                     reuse_grace_seconds=settings.JWT_REFRESH_REUSE_GRACE_SECONDS)
    if revocation.get("family_revoked"):
        remember_family(family, revoked=True)
        logger.warning("refresh token of a revoked session", extra={"user_id": token["user_id"], "sid": family,
                                                                     "reused": revocation["already_revoked"]})
        raise TokenRevoked("The refresh token's login session has been revoked (one of its refresh tokens was "
                           "used twice); log in again")
    if revocation["already_revoked"]:
        logger.warning("refresh token reused", extra={"user_id": token["user_id"], "sid": family})
        raise TokenRevoked()
    try:
        user = core().user_get(token["user_id"])
    except CoreError as exc:
        if exc.status_code == 404:
            raise TokenRejected("The token's user no longer exists") from None
        raise
    if not user["is_active"]:
        raise TokenRejected("The token's user has been deactivated")
    return issue_pair(user, session_id=token.get("sid"))


def logout(*, refresh_token: str) -> dict:
    """Makes the refresh token unusable (idempotent). The access token lives out its short lifetime."""
    token = read_refresh(refresh_token)
    core().token_revoke(jti=token["jti"], expires_at=expiry(token), user_id=token["user_id"], reason="logout")
    return {"revoked": True}


# -- permission checks


def _denied(permission: str, reason: str) -> PermissionDeniedError:
    return PermissionDeniedError(f"You need the {permission} permission for this ({reason})",
                                 details={"permission": permission, "reason": reason})


def require(user: DashboardUser, permission: str, *, group_id: str | None = None) -> None:
    """Asks core whether `user` holds `permission`: globally, or, for a request about one group, globally or
    in that group (a platform admin holds global roles without being a member of every group, which core's
    group-scoped check alone would require). Raises 403 permission_denied naming the permission. What core
    allowed is remembered for the rest of the request (`DashboardUser.granted`)."""
    if group_id is not None:
        ids.store_id(group_id, name="group_id")  # InvalidId (400 invalid_id) before core is asked anything
    if (permission, None) in user.granted or (permission, group_id) in user.granted:
        return
    if group_id is None:
        decision = core().check_permission(user_id=user.id, permission=permission)
        if not decision.allowed:
            raise _denied(permission, decision.reason)
        user.granted.add((permission, None))
        return
    checks = [{"user_id": user.id, "permission": permission},
              {"user_id": user.id, "permission": permission, "group_id": group_id}]
    global_decision, group_decision = core().check_permissions(checks)
    if not (global_decision.allowed or group_decision.allowed):
        raise _denied(permission, group_decision.reason)
    user.granted.add((permission, None if global_decision.allowed else group_id))


def read_as(user: DashboardUser, permission: str, read, /, **arguments):
    """`require(user, permission)` and then `read(**arguments)`, in one round trip: core's endpoint checks
    `permission` globally for the user (`acting_user_id`; audited like a separate check) before it reads, and
    refuses with 403 naming it. For global rules only: core's endpoint declares the same permission."""
    if (permission, None) in user.granted:
        return read(**arguments)
    try:
        result = read(acting_user_id=user.id, **arguments)
    except CoreError as exc:
        raise _refusal(exc, permission) from None
    user.granted.add((permission, None))
    return result


def read_in_group(user: DashboardUser, permission: str, group_id: str, read, /, **arguments):
    """`read(group_id, **arguments)` of one group's data, authorized by core in the same request on the group it
    reads: core resolves the group first (404 when there is none), then `permission` must be held globally or in
    that group (apps/rbac/permissions.py). The id is checked first (400 invalid_id), so it names one group only,
    and what core allowed is remembered for that group alone."""
    ids.store_id(group_id, name="group_id")
    if (permission, None) in user.granted or (permission, group_id) in user.granted:
        return read(group_id, **arguments)
    try:
        result = read(group_id, acting_user_id=user.id, **arguments)
    except CoreError as exc:
        raise _refusal(exc, permission) from None
    user.granted.add((permission, group_id))
    return result


def _refusal(exc: CoreError, permission: str) -> Exception:
    """Core's 403 for `permission` in web's words; any other error as it is."""
    details = exc.details if isinstance(exc.details, dict) else {}
    if exc.status_code == 403 and exc.code == ErrorCode.PERMISSION_DENIED and details.get("permission") == permission:
        return _denied(permission, details.get("reason", ""))
    return exc


def me(user: DashboardUser) -> dict:
    """The token user and the permissions they hold globally (what the dashboard may show them). A user deactivated
    (or deleted) in core is 401: the token names no one who may use the dashboard."""
    try:
        profile = core().user_get(user.id)
    except CoreError as exc:
        if exc.status_code == 404:
            raise TokenRejected("The token's user no longer exists") from None
        raise
    if not profile.get("is_active"):
        raise TokenRejected("The token's user has been deactivated")
    codes = [permission["code"] for permission in core().permissions()]
    decisions = core().check_permissions([{"user_id": user.id, "permission": code} for code in codes])
    return {
        "user": {key: profile.get(key) for key in ("id", "username", "display_name", "is_active", "is_staff")},
        "permissions": [code for code, decision in zip(codes, decisions, strict=True) if decision.allowed],
    }


# -- groups and users


def group_list(user: DashboardUser, **filters) -> dict:
    return read_as(user, VIEW_GROUPS, core().group_list, **filters)


def group_get(user: DashboardUser, group_id: str) -> dict:
    return read_in_group(user, VIEW_GROUPS, group_id, core().group_get)


def group_members(user: DashboardUser, group_id: str, **filters) -> dict:
    return read_in_group(user, VIEW_GROUPS, group_id, core().members, **filters)


def user_list(user: DashboardUser, **filters) -> dict:
    return read_as(user, ADMIN_DASHBOARD, core().user_list, **filters)


def user_get(user: DashboardUser, user_id: str) -> dict:
    ids.store_id(user_id, name="user_id")
    require(user, ADMIN_DASHBOARD)
    return core().user_get(user_id)


# -- roles and assignments


def role_list(user: DashboardUser) -> list[dict]:
    return read_as(user, MANAGE_ROLES, core().roles)


def assignment_list(user: DashboardUser, **filters) -> dict:
    if filters.get("group_id") is None:
        return read_as(user, MANAGE_ROLES, core().assignments, **filters)
    require(user, MANAGE_ROLES, group_id=filters["group_id"])
    return core().assignments(**filters)


def assignment_grant(user: DashboardUser, *, user_id: str, role: str, group_id: str | None = None,
                     expires_at=None, reason: str = "") -> dict:
    """Core applies the rank rule to the token user (actor_user_id): no one grants at or above their own rank."""
    require(user, MANAGE_ROLES, group_id=group_id)
    return core().assign_role(user_id=user_id, role=role, group_id=group_id, expires_at=expires_at, reason=reason,
                              actor_user_id=user.id)


def assignment_revoke(user: DashboardUser, assignment_id: str, *, reason: str = "",
                      group_id: str | None = None) -> dict:
    """`group_id` (the assignment's group, which the dashboard shows) lets a group's own admin pass the first
    check; core then holds the actor to the assignment's real scope and the rank rule, whatever was claimed."""
    ids.store_id(assignment_id, name="assignment_id")
    require(user, MANAGE_ROLES, group_id=group_id)
    return core().revoke_assignment(assignment_id, reason=reason, actor_user_id=user.id)


# -- audit, moderation, stats


def audit_list(user: DashboardUser, **filters) -> dict:
    if filters.get("group_id") is None:
        return read_as(user, VIEW_AUDIT, core().audit_events, **filters)
    require(user, VIEW_AUDIT, group_id=filters["group_id"])
    return core().audit_events(**filters)


def audit_csv(user: DashboardUser, **filters) -> Iterator[bytes]:
    require(user, VIEW_AUDIT, group_id=filters.get("group_id"))
    return core().audit_csv(**filters)


def moderation_list(user: DashboardUser, **filters) -> dict:
    require(user, VIEW_AUDIT, group_id=filters.get("group_id"))
    return core().moderation_list(**filters)


def stats_overview(user: DashboardUser) -> dict:
    require(user, ADMIN_DASHBOARD)
    return core().system_stats()


def stats_group(user: DashboardUser, group_id: str, **query) -> dict:
    return read_in_group(user, VIEW_STATS, group_id, core().group_stats, **query)


# -- for the dashboard's pages

MANAGE_GROUPS = "MANAGE_GROUPS"
TIMELINE_GROUPS = 8


def group_update(user: DashboardUser, group_id: str, **fields) -> Group:
    """A group's settings, changed as the token user (core audits the change under their id)."""
    require(user, MANAGE_GROUPS, group_id=group_id)
    return core().group_update(group_id, actor_user_id=user.id, **fields)


def stats_timeline(user: DashboardUser, *, groups: int = TIMELINE_GROUPS) -> dict:
    """Messages and executed moderation actions (and the automated ones among them) per hour over the last day,
    summed over the busiest groups (core keeps series per group only).
    {"groups": n, "points": [{"start", "messages", "moderation", "automated"}]}"""
    require(user, ADMIN_DASHBOARD)
    busiest = core().group_list(sort="-messages", limit=groups, page=1)["items"]
    points: dict[str, dict] = {}
    for group in busiest:
        for point in core().group_stats(group["id"], bucket="hour")["series"]:
            total = points.setdefault(point["start"], {"start": point["start"], "messages": 0, "moderation": 0,
                                                       "automated": 0})
            total["messages"] += point["messages"]
            total["moderation"] += sum(point["moderation"].values())
            total["automated"] += sum(point.get("automated", {}).values())
    return {"groups": len(busiest), "points": [points[start] for start in sorted(points)]}


def audit_verify(user: DashboardUser) -> dict:
    require(user, VIEW_AUDIT)
    return core().audit_verify()


# -- a group's protection settings (core's ProtectionSettings), its raid mode and approved members

MANAGE_SETTINGS = "MANAGE_SETTINGS"


def protection_get(user: DashboardUser, group_id: str) -> dict:
    """Core's JSON of the settings, as it came (the typed answer reads as it)."""
    return dict(read_in_group(user, VIEW_GROUPS, group_id, core().protection_get))


def protection_update(user: DashboardUser, group_id: str, *, expected_version: int | None = None,
                      **fields) -> dict:
    """Changed as the token user: core checks MANAGE_SETTINGS in the group (403 naming it, nothing written) and
    refuses a stale `expected_version` (409 conflict), so two admins' saves never overwrite each other unseen."""
    ids.store_id(group_id, name="group_id")
    try:
        return dict(core().protection_update(group_id, actor_user_id=user.id, expected_version=expected_version,
                                             **fields))
    except CoreError as exc:
        raise _refusal(exc, MANAGE_SETTINGS) from None


def protection_raid(user: DashboardUser, group_id: str, *, active: bool) -> dict:
    """Raid mode on (for the group's raid_duration_minutes) or off, by hand: core checks MANAGE_SETTINGS."""
    ids.store_id(group_id, name="group_id")
    try:
        return dict(core().protection_raid(group_id, active=active, actor_user_id=user.id))
    except CoreError as exc:
        raise _refusal(exc, MANAGE_SETTINGS) from None


def approval_list(user: DashboardUser, group_id: str, *, limit: int = 200) -> list[dict]:
    return read_in_group(user, VIEW_GROUPS, group_id, core().approvals, limit=limit)["items"]


def approval_revoke(user: DashboardUser, *, telegram_chat_id: int, target_user_id: str) -> dict:
    """Core revokes the `approved` role as the token user: MANAGE_ROLES in the group and the rank rule apply."""
    ids.store_id(target_user_id, name="target_user_id")
    try:
        return core().approval_revoke(telegram_chat_id=telegram_chat_id, actor_user_id=user.id,
                                      target_user_id=target_user_id)
    except CoreError as exc:
        raise _refusal(exc, MANAGE_ROLES) from None


def viewer_profile(user: DashboardUser) -> dict:
    """The token user's own profile (whose name the welcome preview greets): no permission needed for oneself."""
    return core().user_get(user.id)
