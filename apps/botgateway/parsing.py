"""Command arguments: who the command targets, for how long, and why. Pure functions, no I/O."""

import re
from dataclasses import dataclass

DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DURATION = re.compile(r"^(\d{1,7})([smhdw])$", re.IGNORECASE)
_USERNAME = re.compile(r"^@([A-Za-z][A-Za-z0-9_]{3,31})$")
_NUMERIC_ID = re.compile(r"^-?\d{1,19}$")


class UsageError(ValueError):
    """The arguments do not fit the command; the message tells the user how to use it."""


def parse_duration(token: str) -> int | None:
    """'30s', '10m', '3h', '2d', '1w' -> seconds; None when the token is not a duration."""
    match = _DURATION.match(token)
    if not match:
        return None
    return int(match.group(1)) * DURATION_UNITS[match.group(2).lower()]


@dataclass(frozen=True)
class TargetRef:
    """Whom a command names: the author of the replied-to message, a @username, or a numeric Telegram id."""

    telegram_user_id: int | None = None
    username: str | None = None
    display: str = ""


@dataclass(frozen=True)
class ParsedCommand:
    target: TargetRef | None
    duration_seconds: int | None
    reason: str
    rest: list[str]


def parse_target_args(args: list[str], *, reply_from: TargetRef | None, wants_duration: bool = False,
                      needs_target: bool = True) -> ParsedCommand:
    """Reply target first; otherwise the first argument as @username or id. Then an optional duration, then
    the reason (the rest of the line)."""
    remaining = list(args)
    target = reply_from
    if target is None and remaining:
        first = remaining[0]
        if (match := _USERNAME.match(first)) is not None:
            target = TargetRef(username=match.group(1), display=first)
            remaining.pop(0)
        elif _NUMERIC_ID.match(first):
            target = TargetRef(telegram_user_id=int(first), display=first)
            remaining.pop(0)
    if needs_target and target is None:
        raise UsageError("Reply to the user's message, or name them: @username or their numeric id.")
    duration = None
    if wants_duration:
        duration = parse_duration(remaining[0]) if remaining else None
        if duration is None:
            raise UsageError("Give a duration such as 30s, 10m, 3h, 2d or 1w.")
        remaining.pop(0)
    reason = " ".join(remaining).strip()[:1024]
    return ParsedCommand(target=target, duration_seconds=duration, reason=reason, rest=remaining)
