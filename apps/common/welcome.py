"""Welcome and goodbye texts as Rose writes them: a template in Telegram's HTML with placeholders (fillings).

Pure functions, shared by the bot (which sends the greeting) and web (which previews it as Telegram would show it):

- `render_greeting(template, member=..., chat_title=..., count=..., rules_url=...)` -> `RenderedGreeting(text,
  buttons)`: the placeholders filled in, the member's and chat's names HTML-escaped, the template's own HTML kept,
  an unknown placeholder left as typed, `{{` and `}}` written as `{` and `}`; `{rules}` is not text but a button.
- `greeting_problems(template)` and `html_problems(text)`: why Telegram would refuse the text (its HTML parser
  answers 400 "can't parse entities" for an unbalanced or unsupported tag), or what would not be filled in, worded
  for the moderator who typed it; empty when the text is fine.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

DEFAULT_WELCOME = "Hey {first}, how are you?"
DEFAULT_GOODBYE = "Nice knowing ya!"
RULES_BUTTON_TEXT = "Rules"
TELEGRAM_TEXT_LIMIT = 4096

PLACEHOLDERS: dict[str, str] = {
    "first": "the member's first name",
    "last": "the member's last name (empty when none)",
    "fullname": "the member's first and last name",
    "username": "the member's @username (a mention by first name when they have none)",
    "mention": "a mention of the member by first name",
    "id": "the member's Telegram id",
    "chatname": "the group's title",
    "count": "how many members the group has",
    "rules": "a button opening the group's rules (not text)",
}

# `{{` and `}}` first, so that `{{first}}` is the literal `{first}`; then a placeholder-shaped name.
_TOKEN = re.compile(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True)
class GreetingMember:
    """Who joined or left: the fields of Telegram's User that the placeholders read."""

    id: int
    first_name: str
    last_name: str = ""
    username: str = ""


@dataclass(frozen=True)
class GreetingButton:
    """An inline keyboard button: `url` None only when the caller has no link to give (a preview without the bot's
    username)."""

    text: str
    url: str | None = None


@dataclass(frozen=True)
class RenderedGreeting:
    """The text to send with parse_mode HTML, and the buttons under it (one per row)."""

    text: str
    buttons: tuple[GreetingButton, ...] = ()


def _escape(value: str) -> str:
    # quote=True: a value may land inside an attribute the template wrote (<a href="...{id}">).
    return html.escape(value, quote=True)


def mention_html(member: GreetingMember, label: str | None = None) -> str:
    """A mention of the member that notifies them whether or not they have a username."""
    return f'<a href="tg://user?id={member.id}">{_escape(label if label is not None else member.first_name)}</a>'


def render_greeting(template: str, *, member: GreetingMember, chat_title: str, count: int | None = None,
                    rules_url: str | None = None) -> RenderedGreeting:
    """The template with its placeholders filled in (see the module). `count` None leaves `{count}` as typed."""
    fullname = " ".join(part for part in (member.first_name, member.last_name) if part)
    values = {
        "first": _escape(member.first_name),
        "last": _escape(member.last_name),
        "fullname": _escape(fullname),
        "username": f"@{_escape(member.username)}" if member.username else mention_html(member),
        "mention": mention_html(member),
        "id": str(member.id),
        "chatname": _escape(chat_title),
    }
    if count is not None:
        values["count"] = str(count)
    buttons: list[GreetingButton] = []

    def fill(match: re.Match) -> str:
        typed = match.group(0)
        if typed == "{{":
            return "{"
        if typed == "}}":
            return "}"
        name = match.group(1)
        if name == "rules":
            if not buttons:
                buttons.append(GreetingButton(RULES_BUTTON_TEXT, rules_url))
            return ""
        return values.get(name, typed)

    text = _TOKEN.sub(fill, template)
    if buttons:
        # "{rules}" alone on its line leaves an empty line behind: Telegram trims the ends, do the same inside.
        text = re.sub(r"[ \t]+\n", "\n", text).strip()
    return RenderedGreeting(text=text, buttons=tuple(buttons))


def unknown_placeholders(template: str) -> list[str]:
    """The placeholder-shaped names in the template that are not fillings, in order, each once."""
    seen: list[str] = []
    for match in _TOKEN.finditer(template):
        name = match.group(1)
        if name is not None and name not in PLACEHOLDERS and name not in seen:
            seen.append(name)
    return seen


# Telegram's HTML: the tags it knows (https://core.telegram.org/bots/api#html-style); anything else is refused.
_SUPPORTED_TAGS = frozenset({"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "tg-spoiler", "span", "a",
                             "code", "pre", "blockquote", "tg-emoji"})
_ATTRIBUTE = re.compile(r"""([a-zA-Z][\w-]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?""")
_TAG_NAME = re.compile(r"([a-zA-Z][\w-]*)(.*)", re.S)


def html_problems(text: str) -> list[str]:
    """Why Telegram would refuse `text` sent with parse_mode HTML (empty when it would not): a `<` that opens no
    supported tag, a tag that is not closed, closed out of order or never opened. Stops at the first problem of
    structure, as Telegram does."""
    stack: list[str] = []
    index = 0
    while True:
        index = text.find("<", index)
        if index == -1:
            break
        end = text.find(">", index)
        if end == -1:
            return ["A '<' opens no tag: write &lt; for the character itself."]
        inner = text[index + 1:end]
        if inner.startswith("/"):
            name = inner[1:].strip().lower()
            if not stack:
                return [f"</{name}> closes a tag that was never opened." if name
                        else "</> closes a tag that was never opened."]
            top = stack.pop()
            if name and name != top:
                return [f"</{name}> closes <{top}>: close the tags in the reverse order they were opened."]
        else:
            match = _TAG_NAME.match(inner)
            if match is None:
                return ["A '<' opens no tag: write &lt; for the character itself."]
            name = match.group(1).lower()
            attributes = {attribute.group(1).lower(): next((v for v in attribute.groups()[1:] if v is not None), "")
                          for attribute in _ATTRIBUTE.finditer(match.group(2))}
            if name not in _SUPPORTED_TAGS or (name == "span" and attributes.get("class") != "tg-spoiler"):
                return [f"<{name}> is not a tag Telegram supports (b, i, u, s, a, code, pre, blockquote, tg-spoiler, "
                        "tg-emoji); write &lt; for a literal '<'."]
            stack.append(name)
        index = end + 1
    if stack:
        return [f"<{stack[-1]}> is never closed: add </{stack[-1]}>."]
    return []


def greeting_problems(template: str) -> list[str]:
    """Why a welcome/goodbye template would not be sent as typed: its HTML (`html_problems`), an unknown placeholder
    (it would be sent as typed), a text over Telegram's limit. Empty when it is fine."""
    problems = html_problems(template)
    unknown = unknown_placeholders(template)
    if unknown:
        names = ", ".join("{" + name + "}" for name in unknown)
        known = ", ".join("{" + name + "}" for name in PLACEHOLDERS)
        problems.append(f"Unknown placeholder {names}: the placeholders are {known} (write {{{{ and }}}} for literal "
                        "braces).")
    if len(template) > TELEGRAM_TEXT_LIMIT:
        problems.append(f"The text is {len(template)} characters long: Telegram sends at most {TELEGRAM_TEXT_LIMIT}.")
    return problems
