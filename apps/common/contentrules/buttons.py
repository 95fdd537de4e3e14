"""Rose's button markup in filter and note text: `[label](buttonurl://https://example.com)` starts a row,
`[label](buttonurl://https://example.com:same)` joins the row above. `buttonurl:` with or without `//`; a URL without a
scheme is https (Rose's `buttonurl://example.com`). Only http(s) and tg:// URLs make buttons: other markup stays in
the text as written."""

import re
from urllib.parse import urlsplit

__all__ = ["MAX_BUTTON_LABEL", "MAX_BUTTON_URL", "parse_buttons"]

MAX_BUTTON_LABEL = 64
MAX_BUTTON_URL = 2048
_BUTTON = re.compile(r"\[([^\[\]\n]{1,200})\]\(buttonurl:(?://)?([^\s()]{1,2100}?)(:same)?\)", re.IGNORECASE)
_HOST = re.compile(r"^[\w-]+(?:\.[\w-]+)*\.[\w-]{2,}$|^localhost$", re.ASCII)


def button_url(raw: str) -> str | None:
    """The button's URL (http(s) or tg://), or None when `raw` is not one."""
    url = raw.strip()
    lowered = url.lower()
    if lowered.startswith("tg://"):
        return url if len(url) > 5 and len(url) <= MAX_BUTTON_URL else None
    if not lowered.startswith(("http://", "https://")):
        if ":" in url.split("/", 1)[0] and not re.match(r"^[\w.-]+:\d+(?:/|$)", url):
            return None  # another scheme (javascript:, mailto:...)
        url = "https://" + url
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname or not _HOST.match(parts.hostname):
        return None
    return url if len(url) <= MAX_BUTTON_URL else None


def parse_buttons(text: str) -> tuple[str, list[list[dict]]]:
    """(the text without the button markup, rows of {"text", "url"})."""
    if not isinstance(text, str) or "buttonurl:" not in text.lower():
        return (text if isinstance(text, str) else ""), []
    rows: list[list[dict]] = []
    lines: list[str] = []
    for line in text.split("\n"):
        kept: list[str] = []
        at = 0
        for match in _BUTTON.finditer(line):
            label = match.group(1).strip()
            url = button_url(match.group(2))
            if not label or url is None or len(label) > MAX_BUTTON_LABEL:
                continue
            before = line[at:match.start()]
            after = line[match.end():match.end() + 1]
            # "see [Site](buttonurl://...) here" reads "see here", not "see  here".
            kept.append(before[:-1] if before.endswith(" ") and after in (" ", "") else before)
            at = match.end()
            button = {"text": label, "url": url}
            if match.group(3) and rows:
                rows[-1].append(button)
            else:
                rows.append([button])
        if at == 0:
            lines.append(line.rstrip())
            continue
        kept.append(line[at:])
        rest = "".join(kept).rstrip()
        if rest.strip():  # a line left empty by the markup goes
            lines.append(rest)
    return "\n".join(lines).strip(), rows
