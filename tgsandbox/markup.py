"""Message text from its markup: ``parse_mode`` HTML, MarkdownV2 and legacy Markdown, with Telegram's
error texts for bad markup (``can't parse entities: ...``), and :func:`render_text`, the whole pipeline
(markup or explicit entities, whitespace trimming, server-detected entities).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Any

from .entities import merge_detected, sort_entities, strip_text, utf16_len
from .errors import bad_request


def _entity_error(message: str):
    return bad_request(f"can't parse entities: {message}")


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


@dataclass
class _Builder:
    pieces: list[str] = field(default_factory=list)
    pos: int = 0
    entities: list[dict[str, Any]] = field(default_factory=list)

    def add(self, chunk: str) -> None:
        self.pieces.append(chunk)
        self.pos += utf16_len(chunk)

    def entity(self, kind: str, start: int, **extra: Any) -> None:
        if self.pos > start:
            self.entities.append({"offset": start, "length": self.pos - start, "type": kind, **extra})

    def text(self) -> str:
        return "".join(self.pieces)


_HTML_TAGS = {
    "b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline", "ins": "underline",
    "s": "strikethrough", "strike": "strikethrough", "del": "strikethrough", "tg-spoiler": "spoiler",
    "span": "spoiler", "a": "text_link", "code": "code", "pre": "pre", "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_ATTR = re.compile(r"""([a-zA-Z][\w-]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?""")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


def parse_html(source: str) -> tuple[str, list[dict[str, Any]]]:
    out = _Builder()
    stack: list[dict[str, Any]] = []
    i = 0
    while i < len(source):
        char = source[i]
        if char == "<":
            end = source.find(">", i)
            if end == -1:
                raise _entity_error(f"Unclosed start tag at byte offset {_byte_offset(source, i)}")
            inner = source[i + 1 : end]
            if inner.startswith("/"):
                name = inner[1:].strip().lower()
                if not stack:
                    raise _entity_error(f"Unexpected end tag at byte offset {_byte_offset(source, i)}")
                top = stack.pop()
                if name and name != top["tag"]:
                    raise _entity_error(
                        f'Unmatched end tag at byte offset {_byte_offset(source, i)}, expected "</{top["tag"]}>", '
                        f'found "</{name}>"'
                    )
                _close_html(out, top, stack)
            else:
                stack.append(_open_html(source, i, inner, out.pos))
            i = end + 1
        elif char == "&":
            match = re.match(r"&(#[xX][0-9a-fA-F]+|#\d+|[a-zA-Z]+);", source[i:])
            if match and (match.group(1).startswith("#") or match.group(1) in _NAMED):
                name = match.group(1)
                out.add(_NAMED[name] if name in _NAMED else html.unescape(match.group(0)))
                i += len(match.group(0))
            else:
                out.add("&")
                i += 1
        else:
            out.add(char)
            i += 1
    if stack:
        raise _entity_error(f'Can\'t find end tag corresponding to start tag "{stack[-1]["tag"]}"')
    return out.text(), sort_entities(out.entities)


def _open_html(source: str, index: int, inner: str, start: int) -> dict[str, Any]:
    match = re.match(r"([a-zA-Z][\w-]*)(.*)", inner, re.S)
    name = match.group(1).lower() if match else inner.strip().lower()
    attrs = {}
    if match:
        for attr in _ATTR.finditer(match.group(2)):
            value = next((v for v in attr.groups()[1:] if v is not None), "")
            attrs[attr.group(1).lower()] = html.unescape(value)
    kind = _HTML_TAGS.get(name)
    if kind is None or (name == "span" and attrs.get("class") != "tg-spoiler"):
        raise _entity_error(f'Unsupported start tag "{name}" at byte offset {_byte_offset(source, index)}')
    return {"tag": name, "type": kind, "attrs": attrs, "start": start}


def _close_html(out: _Builder, top: dict[str, Any], stack: list[dict[str, Any]]) -> None:
    start, kind, attrs, extra = top["start"], top["type"], top["attrs"], {}
    if kind == "text_link":
        href = attrs.get("href", "")
        user = re.fullmatch(r"tg://user\?id=(\d+)", href)
        if user:
            kind, extra = "text_mention", {"user": {"id": int(user.group(1)), "is_bot": False, "first_name": ""}}
        elif not href:
            return
        else:
            extra = {"url": href}
    elif kind == "custom_emoji":
        extra = {"custom_emoji_id": attrs.get("emoji-id", "")}
    elif kind == "blockquote" and "expandable" in attrs:
        kind = "expandable_blockquote"
    elif kind == "code" and stack and stack[-1]["type"] == "pre":
        language = attrs.get("class", "")
        if language.startswith("language-"):
            stack[-1]["language"] = language[len("language-") :]
        return
    elif kind == "pre" and top.get("language"):
        extra = {"language": top["language"]}
    out.entity(kind, start, **extra)


_MDV2_RESERVED = set("_*[]()~`>#+-=|{}.!")
_MDV2_NAMES = {"*": "Bold", "_": "Italic", "__": "Underline", "~": "Strikethrough", "||": "Spoiler"}
_MDV2_TYPES = {"*": "bold", "_": "italic", "__": "underline", "~": "strikethrough", "||": "spoiler"}


def parse_markdown_v2(source: str) -> tuple[str, list[dict[str, Any]]]:
    out = _Builder()
    open_marks: list[tuple[str, int, int]] = []  # (mark, start16, byte offset)
    links: list[tuple[int, int]] = []  # (start16, byte offset)
    i, n = 0, len(source)
    while i < n:
        char = source[i]
        if char == "\\":
            if i + 1 < n and 0 < ord(source[i + 1]) < 127:
                out.add(source[i + 1])
                i += 2
                continue
            raise _entity_error("Character '\\' is reserved and must be escaped with the preceding '\\'")
        if char == "`":
            i = _mdv2_code(source, i, out)
            continue
        if char in "*_~|":
            mark = char
            if char == "_" and source.startswith("__", i):
                mark = "__"
            elif char == "|":
                if not source.startswith("||", i):
                    raise _entity_error("Character '|' is reserved and must be escaped with the preceding '\\'")
                mark = "||"
            if open_marks and open_marks[-1][0] == mark:
                _, start, _ = open_marks.pop()
                out.entity(_MDV2_TYPES[mark], start)
            elif any(m == mark for m, _, _ in open_marks):
                raise _entity_error(f"Can't find end of {_MDV2_NAMES[open_marks[-1][0]]} entity at byte offset "
                                    f"{open_marks[-1][2]}")
            else:
                open_marks.append((mark, out.pos, _byte_offset(source, i)))
            i += len(mark)
            continue
        if char == "[":
            links.append((out.pos, _byte_offset(source, i)))
            i += 1
            continue
        if char == "]" and links:
            start, _ = links.pop()
            if not source.startswith("(", i + 1):
                raise _entity_error("Character ']' is reserved and must be escaped with the preceding '\\'")
            url, i = _mdv2_url(source, i + 2)
            user = re.fullmatch(r"tg://user\?id=(\d+)", url)
            if user:
                out.entity("text_mention", start, user={"id": int(user.group(1)), "is_bot": False, "first_name": ""})
            else:
                out.entity("text_link", start, url=url)
            continue
        if char == ">" and (i == 0 or source[i - 1] == "\n"):
            i = _mdv2_quote(source, i, out)
            continue
        if char in _MDV2_RESERVED:
            raise _entity_error(f"Character '{char}' is reserved and must be escaped with the preceding '\\'")
        out.add(char)
        i += 1
    if open_marks:
        mark, _, offset = open_marks[-1]
        raise _entity_error(f"Can't find end of {_MDV2_NAMES[mark]} entity at byte offset {offset}")
    if links:
        raise _entity_error(f"Can't find end of a url at byte offset {links[-1][1]}")
    return out.text(), sort_entities(out.entities)


def _mdv2_code(source: str, i: int, out: _Builder) -> int:
    pre = source.startswith("```", i)
    fence = "```" if pre else "`"
    start_byte = _byte_offset(source, i)
    j = i + len(fence)
    language = ""
    if pre:
        line_end = source.find("\n", j)
        first = source[j:line_end] if line_end != -1 else ""
        if line_end != -1 and first and not any(c.isspace() for c in first):
            language, j = first, line_end + 1
    start = out.pos
    chunk = []
    while True:
        if j >= len(source):
            kind = "Pre" if pre else "Code"
            raise _entity_error(f"Can't find end of {kind} entity at byte offset {start_byte}")
        if source[j] == "\\" and j + 1 < len(source):
            chunk.append(source[j + 1])
            j += 2
            continue
        if source.startswith(fence, j):
            break
        chunk.append(source[j])
        j += 1
    out.add("".join(chunk))
    if pre:
        out.entity("pre", start, **({"language": language} if language else {}))
    else:
        out.entity("code", start)
    return j + len(fence)


def _mdv2_url(source: str, j: int) -> tuple[str, int]:
    url = []
    while j < len(source) and source[j] != ")":
        if source[j] == "\\" and j + 1 < len(source):
            url.append(source[j + 1])
            j += 2
            continue
        url.append(source[j])
        j += 1
    if j >= len(source):
        raise _entity_error("Can't find end of a url")
    return "".join(url), j + 1


def _mdv2_quote(source: str, i: int, out: _Builder) -> int:
    """A block quote: consecutive lines starting with '>'; the content is parsed as plain text here."""
    start = out.pos
    lines = []
    while i < len(source) and source[i] == ">" and (i == 0 or source[i - 1] == "\n"):
        end = source.find("\n", i)
        end = len(source) if end == -1 else end
        lines.append(re.sub(r"\\(.)", r"\1", source[i + 1 : end]))
        i = end + 1 if end < len(source) else end
    out.add("\n".join(lines) + ("\n" if i <= len(source) and source[i - 1 : i] == "\n" else ""))
    out.entity("blockquote", start)
    return i


def parse_markdown(source: str) -> tuple[str, list[dict[str, Any]]]:
    """Legacy Markdown: *bold*, _italic_, `code`, ```pre```, [text](url)."""
    out = _Builder()
    i, n = 0, len(source)
    while i < n:
        char = source[i]
        if char == "\\" and i + 1 < n and source[i + 1] in "_*`[":
            out.add(source[i + 1])
            i += 2
            continue
        if char in "*_`[":
            start_byte = _byte_offset(source, i)
            if char == "[":
                close = source.find("](", i + 1)
                end = source.find(")", close + 2) if close != -1 else -1
                if close == -1 or end == -1:
                    raise _entity_error(f"Can't find end of the entity starting at byte offset {start_byte}")
                start = out.pos
                out.add(source[i + 1 : close])
                out.entity("text_link", start, url=source[close + 2 : end])
                i = end + 1
                continue
            fence = "```" if source.startswith("```", i) else char
            end = source.find(fence, i + len(fence))
            if end == -1:
                raise _entity_error(f"Can't find end of the entity starting at byte offset {start_byte}")
            start = out.pos
            out.add(source[i + len(fence) : end])
            kind = {"*": "bold", "_": "italic", "`": "code", "```": "pre"}[fence]
            out.entity(kind, start)
            i = end + len(fence)
            continue
        out.add(char)
        i += 1
    return out.text(), sort_entities(out.entities)


def render_text(text: str, parse_mode: str | None, entities: list[dict[str, Any]] | None) -> tuple[str, list]:
    """Apply parse_mode or explicit entities, strip, and add server-detected entities."""
    mode = (parse_mode or "").strip().lower()
    if entities:
        plain, parsed = text, sort_entities([dict(e) for e in entities])
    elif mode == "html":
        plain, parsed = parse_html(text)
    elif mode == "markdownv2":
        plain, parsed = parse_markdown_v2(text)
    elif mode == "markdown":
        plain, parsed = parse_markdown(text)
    elif mode:
        raise bad_request("unsupported parse_mode")
    else:
        plain, parsed = text, []
    plain, parsed = strip_text(plain, parsed)
    return plain, merge_detected(plain, parsed)
