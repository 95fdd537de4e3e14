"""Access and refresh tokens (djangorestframework-simplejwt), signed with the web role's private key.

Claims: user_id (core's id), username, sid (the login session: the first refresh token's jti, kept through
rotations), jti, token_type, iat, exp, aud, iss. simplejwt's backend decodes with exactly one algorithm
(JWT_ALGORITHM) and checks signature, expiry, audience and issuer; anything it refuses is a 401.
"""

import time
from datetime import UTC, datetime

from django.conf import settings
from rest_framework_simplejwt.exceptions import ExpiredTokenError, TokenError
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from .errors import SigningUnavailable, TokenExpired, TokenRejected

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
# a request. Only the expiry can change its verdict, so a token found here is checked for that alone; an expired
# one takes the full path again, which answers token_expired. Access tokens are never revoked early.
_VERIFIED_MAX = 4096
_verified: dict[str, AccessToken] = {}


def _verified_access(raw) -> AccessToken:
    token = _verified.get(raw) if isinstance(raw, str) else None
    if token is not None and token["exp"] > time.time() - token.get_token_backend().get_leeway().total_seconds():
        return token
    token = _decode(AccessToken, raw)
    if len(_verified) >= _VERIFIED_MAX:
        _verified.clear()
    _verified[raw] = token
    return token


def access_token_user(raw) -> DashboardUser:
    """The user of a valid access token, or TokenRejected / TokenExpired. Also the WebSocket feed's check."""
    return DashboardUser(_verified_access(raw))
