"""Message entities the way Telegram computes them.

* offsets and lengths are in UTF-16 code units (what PTB's ``parse_entity`` expects);
* entities detected by the server in any text or caption: ``bot_command``, ``mention``, ``hashtag``,
  ``cashtag``, ``url`` (schemes http(s), tg, ton; ``www.`` and bare domains with a known top-level domain, so
  ``t.me/+abc`` and ``example.com/x``), ``email``, ``phone_number`` (international numbers: ``+1 555 010 0123``);
* leading and trailing whitespace of a message is removed, as Telegram does.

The parse modes (HTML, MarkdownV2, Markdown) and the whole text pipeline (``render_text``) are in
:mod:`tgsandbox.markup`.
"""

from __future__ import annotations

import re
from typing import Any


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def utf16_to_index(text: str, offset16: int) -> int:
    """The Python string index of a UTF-16 offset."""
    count = 0
    for index, char in enumerate(text):
        if count >= offset16:
            return index
        count += 2 if ord(char) > 0xFFFF else 1
    return len(text)


def entity_text(text: str, entity: dict[str, Any]) -> str:
    start = utf16_to_index(text, entity["offset"])
    end = utf16_to_index(text, entity["offset"] + entity["length"])
    return text[start:end]


# --- entities the server detects in any text ---------------------------------------------------

# Top-level domains a bare address must end in to count as a link (Telegram checks a list of real ones).
_TLDS = ("com|org|net|io|me|ru|de|uk|info|biz|co|app|dev|xyz|ly|gg|tv|us|eu|fr|it|es|nl|in|ai|ua|by|kz|br|jp|cn|"
         "online|site|shop|store|club|top|link|live|pro|tech|cc|ws|to|su|ir|tr|pl|ca|au|ch|se|no|fi")
_URL_TAIL = r"(?:[/?#][^\s<>\"]*[^\s<>\".,;:!?)\]'\"])?"
_AUTO_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("bot_command", re.compile(r"(?<![\w/@])/[a-zA-Z0-9_]{1,64}(?:@[a-zA-Z0-9_]{3,32})?(?![\w/])")),
    ("email", re.compile(r"(?<![\w.@])[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[a-zA-Z]{2,}\b")),
    ("url", re.compile(r"(?<![\w@])(?:(?:https?|tg|ton)://[^\s<>\"]*[^\s<>\".,;:!?)\]'\"]"
                       r"|(?:www\.)?(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+(?:" + _TLDS + r")(?![\w-])"
                       + _URL_TAIL + ")", re.IGNORECASE)),
    # International numbers (+ and 7-15 digits, spaces, dashes or brackets between them), as Telegram links them.
    ("phone_number", re.compile(r"(?<![\w+])\+\d(?:[\s()-]{0,2}\d){6,14}(?!\w)")),
    ("mention", re.compile(r"(?<![\w@/])@[a-zA-Z][a-zA-Z0-9_]{3,31}(?![\w@])")),
    ("hashtag", re.compile(r"(?<![\w#])#(?!\d+\b)\w+")),
    ("cashtag", re.compile(r"(?<![\w$])\$[A-Z]{3,8}(?![\w$])")),
]


def detect_entities(text: str) -> list[dict[str, Any]]:
    """Entities Telegram adds by itself: commands, mentions, hashtags, cashtags, URLs, e-mails, phone numbers."""
    found: list[tuple[int, int, str]] = []
    taken: list[tuple[int, int]] = []
    for kind, pattern in _AUTO_PATTERNS:
        for match in pattern.finditer(text):
            start, end = match.span()
            if any(start < t_end and t_start < end for t_start, t_end in taken):
                continue
            taken.append((start, end))
            found.append((start, end, kind))
    found.sort()
    return [
        {"offset": utf16_len(text[:start]), "length": utf16_len(text[start:end]), "type": kind}
        for start, end, kind in found
    ]


def merge_detected(text: str, entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Add auto-detected entities that do not overlap explicit ones (Telegram does not detect inside code)."""
    result = list(entities)
    for auto in detect_entities(text):
        a_start, a_end = auto["offset"], auto["offset"] + auto["length"]
        clash = False
        for explicit in entities:
            e_start, e_end = explicit["offset"], explicit["offset"] + explicit["length"]
            overlaps = a_start < e_end and e_start < a_end
            if overlaps and (explicit["type"] in {"code", "pre", "text_link", "text_mention", "url"} or
                             explicit["type"] == auto["type"]):
                clash = True
                break
        if not clash:
            result.append(auto)
    return sort_entities(result)


def sort_entities(entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(entities, key=lambda e: (e["offset"], -e["length"]))


# --- whitespace trimming -----------------------------------------------------------------------


def strip_text(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """Remove leading/trailing whitespace and shift/clip entities, as Telegram does."""
    stripped_left = text.lstrip()
    shift = utf16_len(text) - utf16_len(stripped_left)
    result = stripped_left.rstrip()
    limit = utf16_len(result)
    clipped = []
    for entity in entities:
        start = max(entity["offset"] - shift, 0)
        end = min(entity["offset"] + entity["length"] - shift, limit)
        if end > start:
            clipped.append({**entity, "offset": start, "length": end - start})
    return result, clipped
