"""A group's blocklist as a text file: what the dashboard exports and imports (and its bulk paste reads).

One entry a line:

    pattern
    pattern | mode
    pattern | mode | reason

- `pattern` is the blocklist pattern as typed (literal text, `*` for any run of characters within a word).
- `mode` is one of delete, warn, mute, tmute, kick, ban, tban; tmute and tban take a length after a space
  ("tmute 1h", "tban 2d": s, m, h, d, w, or plain seconds). An empty mode ("pattern | | reason") or none at all is
  the group's blocklist mode.
- `reason` is the rest of the line (it may hold "|").
- A line starting with "#" is a comment; blank lines are skipped; spaces around each part are dropped.
- A "|" or a "\\" inside a pattern is written "\\|" and "\\\\", and a pattern starting with "#" as "\\#" (the
  export does it), so every pattern survives the round trip.

Reading never raises: each line it cannot read is reported with its number and why, the others are read.
"""

import re
from dataclasses import dataclass

from apps.common.contentrules import MODES, TIMED_MODES

MAX_LINES = 5000  # core's most entries per group (and per call)
MAX_REASON = 512  # core's
MIN_SECONDS, MAX_SECONDS = 30, 366 * 86400  # what Telegram reads as a restriction's length (core's bounds)
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_LENGTH = re.compile(r"^(\d{1,9})([smhdw]?)$")


@dataclass(frozen=True)
class LineProblem:
    line: int
    text: str
    problem: str

    def __str__(self) -> str:
        return f"Line {self.line}: {self.problem} ({self.text[:60]})"


def parse_length(text: str) -> int | None:
    """'90s', '30m', '2h', '1d', '1w' or plain seconds -> seconds; None when it is not one."""
    match = _LENGTH.match(text.strip().lower())
    if match is None:
        return None
    return int(match.group(1)) * _UNITS[match.group(2) or "s"]


def format_length(seconds: int) -> str:
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _split(line: str) -> list[str]:
    """The line's parts at unescaped "|": at most three (pattern, mode, reason); escapes undone in the pattern."""
    parts, current, index = [], [], 0
    while index < len(line):
        char = line[index]
        if char == "\\" and index + 1 < len(line) and line[index + 1] in "|\\#" and not parts:
            current.append(line[index + 1])
            index += 2
            continue
        if char == "|" and len(parts) < 2:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
        index += 1
    parts.append("".join(current))
    return [part.strip() for part in parts]


def parse_mode(text: str) -> tuple[str | None, int | None, str | None]:
    """'' -> the group's mode; 'ban'; 'tmute 1h' -> (mode, seconds, problem)."""
    words = text.lower().split()
    if not words:
        return None, None, None
    mode = words[0]
    if mode not in MODES:
        return None, None, f'unknown mode "{words[0]}" (one of {", ".join(MODES)})'
    if mode in TIMED_MODES:
        if len(words) != 2:
            return None, None, f"{mode} needs a length, e.g. \"{mode} 1h\""
        seconds = parse_length(words[1])
        if seconds is None:
            return None, None, f'"{words[1]}" is not a length (e.g. 30m, 2h, 1d, 1w)'
        if not MIN_SECONDS <= seconds <= MAX_SECONDS:
            return None, None, "a length is 30 seconds to 366 days"
        return mode, seconds, None
    if len(words) > 1:
        return None, None, f"{mode} takes no length"
    return mode, None, None


def parse(text: str, *, default_mode: str | None = None,
          default_duration: int | None = None) -> tuple[list[dict], list[LineProblem]]:
    """The entries of `text` (core's blocklist entry bodies: pattern, and mode/duration_seconds/reason when given)
    and the lines that could not be read. A line without a mode gets `default_mode` (None: the group's). A pattern
    given twice counts once (the last line wins, as core's upsert would)."""
    entries: dict[str, dict] = {}
    problems: list[LineProblem] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = _split(line)
        pattern = parts[0]
        if not pattern:
            problems.append(LineProblem(number, raw, "no pattern before the first |"))
            continue
        mode, seconds, problem = parse_mode(parts[1] if len(parts) > 1 else "")
        if problem:
            problems.append(LineProblem(number, raw, problem))
            continue
        reason = parts[2] if len(parts) > 2 else ""
        if len(reason) > MAX_REASON:
            problems.append(LineProblem(number, raw, f"the reason is longer than {MAX_REASON} characters"))
            continue
        entry = {"pattern": pattern}
        if mode is None and default_mode:
            mode, seconds = default_mode, default_duration if default_mode in TIMED_MODES else None
        if mode is not None:
            entry["mode"] = mode
            if seconds is not None:
                entry["duration_seconds"] = seconds
        if reason:
            entry["reason"] = reason
        entries.pop(pattern, None)
        entries[pattern] = entry
    if len(entries) > MAX_LINES:
        problems.append(LineProblem(0, "", f"{len(entries)} entries: at most {MAX_LINES} at once"))
    return list(entries.values()), problems


def escape_pattern(pattern: str) -> str:
    escaped = pattern.replace("\\", "\\\\").replace("|", "\\|")
    return "\\" + escaped if escaped.startswith("#") else escaped


def entry_line(item: dict) -> str:
    """One entry of core's blocklist (pattern, mode, duration_seconds, reason) as a line of the file."""
    line = escape_pattern(item["pattern"])
    mode = item.get("mode") or ""
    if mode and item.get("duration_seconds"):
        mode = f"{mode} {format_length(item['duration_seconds'])}"
    reason = (item.get("reason") or "").replace("\n", " ")
    if reason:
        return f"{line} | {mode} | {reason}"
    if mode:
        return f"{line} | {mode}"
    return line


def export(items: list[dict], *, title: str) -> str:
    header = [f"# Blocklist of {title.replace(chr(10), ' ')}: {len(items)} entr{'y' if len(items) == 1 else 'ies'}.",
              "# One entry a line: pattern | mode | reason (mode and reason optional; an empty mode is the group's;",
              "# tmute and tban take a length: \"tban 2d\"). Lines starting with # are comments."]
    return "\n".join([*header, *(entry_line(item) for item in items)]) + "\n"
