"""Command arguments: who the command targets, for how long, and why. Pure functions, no I/O."""

import re
from dataclasses import dataclass

DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_UNIT_WORDS = {"sec": "s", "secs": "s", "second": "s", "seconds": "s", "min": "m", "mins": "m", "minute": "m",
               "minutes": "m", "hr": "h", "hrs": "h", "hour": "h", "hours": "h", "day": "d", "days": "d", "wk": "w",
               "wks": "w", "week": "w", "weeks": "w"}
_DURATION = re.compile(r"^(\d{1,7})([smhdw]|" + "|".join(_UNIT_WORDS) + ")$", re.IGNORECASE)
# A number with a unit-like suffix: read as a duration by the commands that take one, refused by those that do not,
# never folded into a reason ("/mute @x 10m spam" is not a permanent mute for "10m spam").
_DURATION_LIKE = re.compile(
    r"^\d+(s|m|h|d|w|mo|y|yr|yrs|years?|months?|" + "|".join(_UNIT_WORDS) + ")$", re.IGNORECASE)
DURATION_HINT = "Give a duration such as 30s, 10m, 3h, 2d or 1w."
_USERNAME = re.compile(r"^@([A-Za-z][A-Za-z0-9_]{3,31})$")
_NUMERIC_ID = re.compile(r"^-?\d{1,19}$")


class UsageError(ValueError):
    """The arguments do not fit the command; the message tells the user how to use it."""


def parse_duration(token: str) -> int | None:
    """'30s', '10m', '3h', '2d', '1w' -> seconds; None when the token is not a duration."""
    match = _DURATION.match(token)
    if not match:
        return None
    unit = match.group(2).lower()
    return int(match.group(1)) * DURATION_UNITS[_UNIT_WORDS.get(unit, unit)]


def looks_like_duration(token: str) -> bool:
    return _DURATION_LIKE.match(token) is not None


class Duration:
    """What a command does with a duration after its target: REQUIRED (/tban, /tmute), OPTIONAL (/ban, /mute: a
    leading duration-like token is the duration), REFUSED (/kick, /warn...: such a token is an error, as the action
    cannot be temporary), or None (the command does not look)."""

    REQUIRED = "required"
    OPTIONAL = "optional"
    REFUSED = "refused"


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


def parse_target_args(args: list[str], *, reply_from: TargetRef | None, duration: str | None = None,
                      needs_target: bool = True, refused_duration: str = "") -> ParsedCommand:
    """Reply target first; otherwise the first argument as @username or id. Then the duration (see `Duration`),
    then the reason (the rest of the line). `refused_duration`: the usage error when a duration is REFUSED
    ("{token}" stands for the token)."""
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
    seconds = None
    leading = remaining[0] if remaining else ""
    if duration == Duration.REQUIRED or (duration == Duration.OPTIONAL and looks_like_duration(leading)):
        seconds = parse_duration(leading)
        if seconds is None:
            unreadable = f"{leading} is not a duration I can read. " if looks_like_duration(leading) else ""
            raise UsageError(unreadable + DURATION_HINT)
        remaining.pop(0)
    elif duration == Duration.REFUSED and looks_like_duration(leading):
        raise UsageError((refused_duration or "This command takes no duration ({token}).").format(token=leading))
    reason = " ".join(remaining).strip()[:1024]
    return ParsedCommand(target=target, duration_seconds=seconds, reason=reason, rest=remaining)
