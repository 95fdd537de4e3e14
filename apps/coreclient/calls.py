"""What an endpoint method hands the transport: one `Call`, and the helpers that build its path and body."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from apps.common.headers import ACTING_USER_HEADER

from . import ids

# Core checks a password with a deliberately slow hash (PBKDF2, 1,000,000 rounds: about 0.5 s of CPU on a
# busy 2-core machine, more under load); a user-facing 0.8 s timeout would turn slow successes into 503s.
PASSWORD_CHECK_SECONDS = 3.0


@dataclass(frozen=True, slots=True)
class Call:
    # The endpoint method's name (`check_permission`): the metrics' label, never the raw path.
    endpoint: str
    method: str
    path: str
    json: dict | None = None
    params: dict | None = None
    # Safe to send again after a timeout or a 5xx: reads, checks, and writes core de-duplicates (retry.py).
    retry: bool = False
    # A floor under the client's read timeout, for calls whose cost core chooses (a password hash is slow on
    # purpose). Connecting still fails fast, so a core that is down is reported as quickly as for any call.
    min_read_timeout: float | None = None
    headers: dict | None = None  # besides the client's own
    enveloped: bool = True  # False: the JSON body is the answer as is (/api/health answers in the seed's shape)
    # Turns the unwrapped data into the typed answer (answers.py); None: core's JSON as it came.
    answer: Callable[[Any], Any] | None = None


def acting(user_id: str | None) -> dict | None:
    """The read is for this user: core authorizes it as them, or answers 403 permission_denied naming the
    permission (apps/rbac/permissions.py)."""
    return {ACTING_USER_HEADER: ids.store_id(user_id, name="acting_user_id")} if user_id is not None else None


def group(group_id) -> str:
    return ids.store_id(group_id, name="group_id")


def user(user_id) -> str:
    return ids.store_id(user_id, name="user_id")


def object_id(value, name: str) -> str:
    return ids.store_id(value, name=name)


def compact(values: dict) -> dict:
    """The values given, datetimes as ISO 8601; None means "not given" and is left out."""
    return {key: (value.isoformat() if isinstance(value, datetime) else value)
            for key, value in values.items() if value is not None}
