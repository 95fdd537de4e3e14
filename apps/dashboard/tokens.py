"""Access and refresh tokens (djangorestframework-simplejwt), signed with the web role's private key.

Claims: user_id (core's id), username, sid (the login session, the tokens' family: the first refresh token's jti,
kept through rotations and copied into every access token), jti, token_type, iat, exp, aud, iss. simplejwt's
backend decodes with exactly one algorithm (JWT_ALGORITHM) and checks signature, expiry, audience and issuer;
anything it refuses is a 401. A session that core has revoked (a refresh token of it used twice) is refused too:
401 token_revoked, within JWT_FAMILY_CHECK_SECONDS of the revocation on every web process.
"""

import math
import threading
import time
from datetime import UTC, datetime

from cachetools import TLRUCache
from django.conf import settings
from rest_framework_simplejwt.exceptions import ExpiredTokenError, TokenError
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from .core import async_core, core
from .errors import SigningUnavailable, TokenExpired, TokenRejected, TokenRevoked

MAX_TOKEN_LENGTH = 4096


class DashboardUser:
    """The browser's user, as its access token names it. Permissions are never read from the token: every
    request asks core."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False

    def __init__(self, token: AccessToken):
        self.token = token
        self.id = str(token["user_id"])
        self.username = str(token.get("username", ""))
        self.session_id = str(token.get("sid", ""))
        # (permission, group id or None) that core allowed during this request: a page that reads a group, its
        # members and its settings asks core once, not once per read. Lives as long as the request's user.
        self.granted: set[tuple[str, str | None]] = set()

    @property
    def pk(self) -> str:
        return self.id

    def __str__(self):
        return self.username or self.id


def expiry(token) -> datetime:
    return datetime.fromtimestamp(token["exp"], UTC)


def can_sign() -> bool:
    return bool(settings.SIMPLE_JWT.get("SIGNING_KEY"))


def issue_pair(user: dict, *, session_id: str | None = None) -> dict:
    """A fresh access and refresh token for `user` (core's user object)."""
    if not can_sign():
        raise SigningUnavailable()
    refresh = RefreshToken()
    refresh["user_id"] = str(user["id"])
    refresh["username"] = user["username"]
    refresh["sid"] = session_id or refresh["jti"]
    access = refresh.access_token
    return {
        "access": str(access),
        "refresh": str(refresh),
        "token_type": "Bearer",
        "access_expires_at": expiry(access).isoformat(),
        "refresh_expires_at": expiry(refresh).isoformat(),
        "user": {key: user[key] for key in ("id", "username", "display_name", "is_staff") if key in user},
    }


def _decode(token_class, raw):
    if not isinstance(raw, str) or not raw or len(raw) > MAX_TOKEN_LENGTH:
        raise TokenRejected("The token is missing or not a JWT")
    try:
        token = token_class(raw)
    except ExpiredTokenError:
        raise TokenExpired() from None
    except TokenError:
        raise TokenRejected() from None
    if not isinstance(token.get("user_id"), str) or not token["user_id"]:
        raise TokenRejected("The token names no user")
    return token


def read_refresh(raw) -> RefreshToken:
    return _decode(RefreshToken, raw)


# Access tokens whose signature and claims checked out, by their exact text: a browser sends the same token with
# every request until it expires, and verifying it (EdDSA and simplejwt's checks) is a tenth of web's CPU for
# a request. Only the expiry can change its signature's verdict, so a token is kept until its exp (plus the leeway)
# and no longer; an expired one takes the full path again, which answers token_expired. Whether its session (family)
# was revoked is asked separately, on every use (below).
# Web serves requests from a pool of threads and cachetools' caches are not thread-safe: one lock for both caches.
_VERIFIED_MAX = 4096
_caches_lock = threading.Lock()


def _usable_until(_raw, token: AccessToken, _now) -> float:
    return token["exp"] + token.get_token_backend().get_leeway().total_seconds()


def verified_tokens() -> TLRUCache:
    return TLRUCache(maxsize=_VERIFIED_MAX, ttu=_usable_until, timer=time.time)


_verified = verified_tokens()


def _verified_access(raw) -> AccessToken:
    if isinstance(raw, str):
        with _caches_lock:
            token = _verified.get(raw)
        if token is not None:
            return token
    token = _decode(AccessToken, raw)
    with _caches_lock:
        _verified[raw] = token
    return token


# Login sessions (families) and what core last said about each (revoked or not). A "not revoked" answer is
# trusted for JWT_FAMILY_CHECK_SECONDS, after which the next request of that session asks core again; a revocation
# is final. So a session revoked through another web process (or replica) stops here within that bound, and at
# once when the reuse was seen by this process. One core call per live session per bound, not per request.
_FAMILIES_MAX = 4096
FAMILY_CHECK_SECONDS = 15.0  # the default of the setting


def _trusted_until(_family, revoked: bool, now: float) -> float:
    return math.inf if revoked else now + family_check_seconds()


def family_verdicts() -> TLRUCache:
    """Forgetting a verdict (when full, the least recently used) only costs a question to core; a revocation is kept
    there."""
    return TLRUCache(maxsize=_FAMILIES_MAX, ttu=_trusted_until)


_families = family_verdicts()


def _family(token) -> str:
    family = token.get("sid")
    return family if isinstance(family, str) else ""


def remember_family(family: str, *, revoked: bool) -> bool:
    with _caches_lock:
        _families[family] = revoked
    return revoked


def family_check_seconds() -> float:
    return float(getattr(settings, "JWT_FAMILY_CHECK_SECONDS", FAMILY_CHECK_SECONDS))


def _known_family_verdict(family: str) -> bool | None:
    """True (revoked), False (not revoked, recently asked) or None (ask core)."""
    with _caches_lock:
        return _families.get(family)


def _refuse_revoked(revoked: bool) -> None:
    if revoked:
        raise TokenRevoked("The token's login session has been revoked (one of its refresh tokens was used twice)")


def access_token_user(raw) -> DashboardUser:
    """The user of a valid access token of a live session, or TokenRejected / TokenExpired / TokenRevoked."""
    token = _verified_access(raw)
    family = _family(token)
    if family:
        revoked = _known_family_verdict(family)
        if revoked is None:
            revoked = remember_family(family, revoked=core().token_family_revocation(family)["revoked"])
        _refuse_revoked(revoked)
    return DashboardUser(token)


async def access_token_user_async(raw) -> DashboardUser:
    """access_token_user for the event loop (the WebSocket feed): core is asked without blocking it."""
    token = _verified_access(raw)
    family = _family(token)
    if family:
        revoked = _known_family_verdict(family)
        if revoked is None:
            answer = await async_core().token_family_revocation(family)
            revoked = remember_family(family, revoked=answer["revoked"])
        _refuse_revoked(revoked)
    return DashboardUser(token)
