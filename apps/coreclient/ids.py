"""Every id that goes into a core URL passes through here: checked for its type, then percent-encoded.

Ids reach the client from browsers and chats. Put into a path unchecked, `../../users/1` or `?` would make the
caller's key read a different endpoint than the one named (httpx and yarl resolve dot segments). An id that is not
of its type raises `InvalidId` before anything is sent.
"""

import re
from urllib.parse import quote

from apps.common.error_codes import ErrorCode

from .errors import CoreError

INT64_MAX = 2**63 - 1
INT64_MIN = -(2**63)

# A core object id as core writes it: a positive integer on SQL stores (BigAutoField), an ObjectId's 24 lower-case
# hex digits on MongoDB. Core refuses other spellings of the same id too (apps/common/ids.py).
_STORE_ID = re.compile(r"[1-9][0-9]{0,18}|[0-9a-f]{24}")
# A Telegram chat or user id: a 64-bit integer, negative for groups and channels.
_TELEGRAM_ID = re.compile(r"-?[1-9][0-9]{0,18}|0")
# Core's role names (apps/rbac/models.py ROLE_NAME_PATTERN) and web's token ids (apps/accounts/apis.py JTI_PATTERN).
_ROLE_NAME = re.compile(r"[a-z][a-z0-9_-]{1,31}")
_JTI = re.compile(r"[A-Za-z0-9_-]{1,64}")
# A note's name (apps/contentrules: lowercase letters, digits, _ and -; core lowercases a name as it is saved).
_NOTE_NAME = re.compile(r"[a-z0-9_-]{1,64}")

_SHOWN = 40  # of a refused value, in the message


class InvalidId(CoreError, ValueError):
    """An id that cannot be one of core's, refused before any request. Caught like any `CoreError`, it reads as
    core's own 400 would: code `invalid_id`, with the id's kind and parameter name in `details`."""

    code = ErrorCode.INVALID_ID

    def __init__(self, kind: str, value, *, name: str | None = None):
        shown = repr(value)
        if len(shown) > _SHOWN:
            shown = shown[:_SHOWN] + "..."
        label = name or kind
        super().__init__(self.code, f"{label} must be a {kind}, not {shown}", 400,
                         {"parameter": label, "kind": kind})
        self.kind = kind


def _text(value) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None  # None, floats, ObjectId instances...: callers pass the string core gave them


def _checked(kind: str, pattern: re.Pattern, value, name: str | None) -> str:
    text = _text(value)
    if text is None or len(text) > 64 or not pattern.fullmatch(text):
        raise InvalidId(kind, value, name=name)
    return quote(text, safe="")


def store_id(value, *, name: str | None = None) -> str:
    """A core object id (user, group, assignment, action, warning), as a path segment."""
    text = _checked("core object id", _STORE_ID, value, name)
    if len(text) < 24 and int(text) > INT64_MAX:  # 24 characters: an ObjectId, even when all its digits are decimal
        raise InvalidId("core object id", value, name=name)
    return text


def telegram_id(value, *, name: str | None = None) -> str:
    """A Telegram chat or user id (64-bit, may be negative), as a path segment."""
    text = _checked("Telegram id", _TELEGRAM_ID, value, name)
    if not INT64_MIN <= int(text) <= INT64_MAX:
        raise InvalidId("Telegram id", value, name=name)
    return text


def role_name(value, *, name: str | None = None) -> str:
    return _checked("role name", _ROLE_NAME, value, name)


def token_id(value, *, name: str | None = None) -> str:
    """A token's jti."""
    return _checked("token id", _JTI, value, name)


def note_name(value, *, name: str | None = None) -> str:
    """A group note's name, lowercased as core keeps it."""
    return _checked("note name", _NOTE_NAME, value.lower() if isinstance(value, str) else value, name)
