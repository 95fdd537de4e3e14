"""Where a scenario's CPU goes: a summary of the collapsed stacks `python -m bench.run --py-spy DIR` records.

    python -m bench.stacks DIR SCENARIO [--top 30]

Prints the share of samples (all workers together) that each part of the stack was on, inclusive of what it
called (a sample counts once per part even when the part recurs), then the functions with the most inclusive and
self samples. The parts are by file: a frame belongs to the first part whose marker is in its file's path.
"""

import argparse
import re
import sys
from collections import Counter
from pathlib import Path

PARTS = {
    "audit append (apps/audit)": ("apps/audit/",),
    "rbac decision (apps/rbac)": ("apps/rbac/",),
    "groups list (apps/groups)": ("apps/groups/",),
    "prometheus metrics": ("prometheus", "apps/common/metrics"),
    "logging": ("/logging/", "apps/common/logging", "pythonjsonlogger"),
    "request context middleware": ("apps/common/middleware",),
    "django middleware": ("django/middleware/", "django/contrib/sessions", "django/contrib/messages",
                          "django/contrib/auth/middleware", "whitenoise"),
    "authentication": ("apps/common/auth",),
    "envelope / renderer": ("apps/common/envelope", "rest_framework/renderers"),
    "body parsing / validation": ("apps/common/parsing", "apps/common/derivation", "rest_framework/parsers",
                                  "rest_framework/serializers", "rest_framework/fields"),
    "database (sqlite3 + ORM)": ("django/db/",),
    "gunicorn (HTTP parsing, sockets)": ("gunicorn/",),
}
_FRAME = re.compile(r"^(?P<function>.*?) \((?P<file>[^:]*):?(?P<line>\d*)\)$")


def read(directory: Path, scenario: str) -> Counter:
    stacks: Counter = Counter()
    for path in sorted(directory.glob(f"{scenario}-*.txt")):
        for line in path.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            if stack and count.isdigit():
                stacks[stack] += int(count)
    return stacks


def frames(stack: str) -> list[tuple[str, str]]:
    parsed = []
    for frame in stack.split(";"):
        match = _FRAME.match(frame)
        parsed.append((match["function"], match["file"]) if match else (frame, ""))
    return parsed


def summarise(stacks: Counter, top: int) -> None:
    total = sum(stacks.values())
    if not total:
        print("no samples")
        return
    parts: Counter = Counter()
    inclusive: Counter = Counter()
    own: Counter = Counter()
    for stack, count in stacks.items():
        parsed = frames(stack)
        seen_parts, seen_functions = set(), set()
        for function, file in parsed:
            for part, markers in PARTS.items():
                if any(marker in file for marker in markers):
                    seen_parts.add(part)
                    break
            seen_functions.add(f"{function} ({_short(file)})")
        for part in seen_parts:
            parts[part] += count
        for name in seen_functions:
            inclusive[name] += count
        function, file = parsed[-1]
        own[f"{function} ({_short(file)})"] += count
    print(f"{total:,} samples")
    print("\nby part (inclusive share of samples)")
    for part, count in parts.most_common():
        print(f"  {count / total:6.1%}  {part}")
    print(f"\ntop {top} functions, inclusive")
    for name, count in inclusive.most_common(top):
        print(f"  {count / total:6.1%}  {name}")
    print(f"\ntop {top} functions, self")
    for name, count in own.most_common(top):
        print(f"  {count / total:6.1%}  {name}")


_CHECKOUT = f"{Path(__file__).resolve().parents[1]}/"


def _short(file: str) -> str:
    for marker in ("site-packages/", _CHECKOUT, "lib/python3."):
        if marker in file:
            return file.split(marker, 1)[1]
    return file


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.stacks", description=__doc__.split("\n\n")[0])
    parser.add_argument("directory", type=Path)
    parser.add_argument("scenario")
    parser.add_argument("--top", type=int, default=30)
    args = parser.parse_args(argv)
    summarise(read(args.directory, args.scenario), args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
