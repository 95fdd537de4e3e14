"""Every write of the accounts app, each with its audit event in the same transaction."""

import logging
from datetime import datetime

from django.contrib.auth.hashers import make_password
from django.db import IntegrityError
from django.utils import timezone

from apps.audit.services import audit_record
from apps.common import audit_actions as actions
from apps.common.db import atomic_attempts
from apps.common.errors import LoginRateLimited
from apps.common.ratelimit import login_limiter
from apps.users.models import User

from .errors import InvalidCredentialsError
from .models import RevokedToken, RevokedTokenFamily

logger = logging.getLogger(__name__)

# Why a login failed: kept on the audit trail, never told to the caller (one answer for all of them).
UNKNOWN_USER = "unknown_user"
NO_PASSWORD = "no_password"  # noqa: S105 (a reason code)
WRONG_PASSWORD = "wrong_password"  # noqa: S105
USER_INACTIVE = "user_inactive"
NOT_STAFF = "not_staff"
RATE_LIMITED = "rate_limited"
ALREADY_REVOKED = "already_revoked"


def _ms(value: datetime) -> datetime:
    """Millisecond precision, what every backend stores (MongoDB keeps no more)."""
    return value.replace(microsecond=value.microsecond - value.microsecond % 1000)


def _login_audit(*, username: str, client_ip: str, user: User | None, reason: str, result: str | None = None,
                 via: str = "", details: dict | None = None) -> None:
    audit_record(
        action=actions.AUTH_LOGIN,
        result=result or ("failure" if reason else "success"),
        actor_user_id=user.pk if user else None,
        target_type="user",
        target_id=user.pk if user else None,
        reason=reason,
        details={"username": username[:150], "client_ip": client_ip, **({"via": via} if via else {}),
                 **(details or {})},
    )


def login_throttle_check(*, username: str, client_ip: str, via: str = "") -> None:
    """Refuses (429, audited as denied) a login attempt for an account or from an address at its failure limit,
    before any password is checked. Every login of core goes through here first."""
    locked = login_limiter().lockout(username=username, ip=client_ip)
    if locked is None:
        return
    _login_audit(username=username, client_ip=client_ip, user=User.objects.filter(username=username).first(),
                 reason=RATE_LIMITED, result="denied", via=via,
                 details={"scope": locked.scope, "retry_after": locked.retry_after})
    raise LoginRateLimited(scope=locked.scope, retry_after=locked.retry_after)


def login_attempt_record(*, username: str, client_ip: str, user: User | None, reason: str, via: str = "") -> None:
    """Audits a login attempt and counts a failure (`reason` set) against the account and the address; a success
    clears the account's count. Updates last_login on success, in the audit's transaction."""
    limiter = login_limiter()
    if reason:
        limiter.record_failure(username=username, ip=client_ip)
    else:
        limiter.record_success(username=username)
    for attempt in atomic_attempts():
        with attempt:
            if not reason:
                User.objects.filter(pk=user.pk).update(last_login=timezone.now())
            _login_audit(username=username, client_ip=client_ip, user=user, reason=reason, via=via)


def login_failure_reason(*, username: str, authenticated: User | None) -> str:
    """Why a session login (admin, browsable API) failed, for the audit trail only."""
    user = authenticated or User.objects.filter(username=username).first()
    if user is None:
        return UNKNOWN_USER
    if not user.is_active:
        return USER_INACTIVE
    return NOT_STAFF if authenticated is not None else WRONG_PASSWORD


def credentials_verify(*, username: str, password: str, client_ip: str = "") -> User:
    """The active user with this username and password, or InvalidCredentialsError. Every attempt is audited,
    and limited per account and per client address (LoginRateLimited, 429, before the password is checked).

    The password hasher runs whether or not the user exists (or has a usable password), so the answer's
    timing does not tell which usernames exist.
    """
    login_throttle_check(username=username, client_ip=client_ip)
    user = User.objects.filter(username=username).first()
    if user is None:
        make_password(password)
        reason = UNKNOWN_USER
    elif not user.has_usable_password():
        make_password(password)
        reason = NO_PASSWORD
    elif not user.check_password(password):
        reason = WRONG_PASSWORD
    elif not user.is_active:
        reason = USER_INACTIVE
    else:
        reason = ""
    login_attempt_record(username=username, client_ip=client_ip, user=user, reason=reason)
    if reason:
        raise InvalidCredentialsError()
    return user


def token_revoke(*, jti: str, expires_at: datetime, user_id: str = "", reason: str = "", family: str = "",
                 family_expires_at: datetime | None = None,
                 reuse_grace_seconds: float = 0) -> tuple[RevokedToken, bool]:
    """Records `jti` as revoked; returns the row and whether this call revoked it.

    Exactly one of several concurrent calls for the same jti gets True (the unique jti decides), which is
    what makes refresh-token rotation single-use. A repeat is audited as a failure: presenting a token
    that was already rotated away is what a stolen refresh token looks like, so a rotation (reason `rotated`)
    of an already revoked token that names its `family` (the login session) revokes the whole family, in the
    same transaction: the token issued in its place stops working too. Unless it comes within
    `reuse_grace_seconds` of the rotation: a browser's tabs refreshing at the same moment present the same token
    side by side, and the pair one of them got must not die for it; such a repeat is refused all the same.
    """
    now = _ms(timezone.now())
    try:
        for attempt in atomic_attempts():
            with attempt:
                existing = RevokedToken.objects.filter(jti=jti).first()
                if existing is not None:
                    concurrent = (existing.reason == RevokedToken.Reason.ROTATED
                                  and (now - existing.revoked_at).total_seconds() < reuse_grace_seconds)
                    audit_record(action=actions.AUTH_TOKEN_REVOKE, result="failure", actor_user_id=user_id or None,
                                 target_type="token", target_id=jti, reason=ALREADY_REVOKED,
                                 details={"requested_reason": reason, **({"family": family} if family else {}),
                                          **({"within_grace": True} if concurrent else {})})
                    if family and reason == RevokedToken.Reason.ROTATED and not concurrent:
                        token_family_revoke(family=family, expires_at=family_expires_at or expires_at,
                                            user_id=user_id, reason=RevokedTokenFamily.Reason.REUSED,
                                            details={"reused_jti": jti})
                    return existing, False
                token = RevokedToken.objects.create(jti=jti, expires_at=_ms(expires_at), revoked_at=now,
                                                    user_id=user_id, reason=reason)
                audit_record(action=actions.AUTH_TOKEN_REVOKE, result="success", actor_user_id=user_id or None,
                             target_type="token", target_id=jti, reason=reason,
                             details={"expires_at": token.expires_at.isoformat()})
    except IntegrityError:  # a concurrent call inserted the same jti first
        return RevokedToken.objects.get(jti=jti), False
    return token, True


def token_family_revoke(*, family: str, expires_at: datetime, user_id: str = "", reason: str,
                        details: dict | None = None) -> tuple[RevokedTokenFamily, bool]:
    """Revokes every token of a login session; returns the row and whether this call revoked it. Joins the
    caller's transaction when there is one."""
    for attempt in atomic_attempts():
        with attempt:
            existing = RevokedTokenFamily.objects.filter(family=family).first()
            if existing is not None:
                return existing, False
            row = RevokedTokenFamily.objects.create(family=family, expires_at=_ms(expires_at),
                                                    revoked_at=_ms(timezone.now()), user_id=user_id, reason=reason)
            audit_record(action=actions.AUTH_TOKEN_REVOKE, result="success", actor_user_id=user_id or None,
                         target_type="token_family", target_id=family, reason=reason,
                         details={"expires_at": row.expires_at.isoformat(), **(details or {})})
    return row, True


def revoked_tokens_purge(*, now: datetime | None = None) -> int:
    """Deletes the rows of tokens (and sessions) that have expired anyway (they can no longer be presented).
    Returns how many."""
    now = now or timezone.now()
    deleted, _ = RevokedToken.objects.filter(expires_at__lt=now).delete()
    families, _ = RevokedTokenFamily.objects.filter(expires_at__lt=now).delete()
    deleted += families
    if deleted:
        logger.info("revoked tokens purged", extra={"deleted": deleted})
    return deleted
