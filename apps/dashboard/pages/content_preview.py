"""A filter's or note's reply as Telegram would show it: the URL buttons typed in Rose's syntax taken out of the text
(apps.common.contentrules.parse_buttons, as the bot does), the {placeholders} filled in for the viewer as the welcome
does (apps.common.welcome), and Telegram's HTML made safe for the page (greeting.telegram_html_to_page)."""

import html
from dataclasses import dataclass

from apps.common.contentrules import parse_buttons
from apps.common.welcome import greeting_problems, html_problems, render_greeting

from .greeting import greeted_member, telegram_html_to_page


@dataclass(frozen=True)
class ReplyPreview:
    html: str  # safe
    rows: tuple[tuple[dict, ...], ...]  # rows of {"text", "url"}
    problems: tuple[str, ...]
    refused: bool
    member_name: str
    media: str  # "" or "a photo", "a sticker"...
    empty: bool


def unparse_buttons(text: str, buttons: list[list[dict]] | None) -> str:
    """Core's text and button rows back as the text one types (Rose's syntax): what the edit form shows."""
    lines = []
    for row in buttons or []:
        for index, button in enumerate(row):
            same = ":same" if index else ""
            lines.append(f"[{button.get('text', '')}](buttonurl://{button.get('url', '')}{same})")
    if not lines:
        return text
    return f"{text}\n" + "\n".join(lines) if text else "\n".join(lines)


def preview(typed: str, *, group: dict, profile: dict | None, media_type: str | None = None,
            buttons: list[list[dict]] | None = None) -> ReplyPreview:
    """`typed`: the text as the form holds it (buttons in Rose's syntax), unless `buttons` are given apart."""
    if buttons is None:
        text, rows = parse_buttons(typed)
    else:
        text, rows = typed, buttons
    member, member_name = greeted_member(profile)
    rendered = render_greeting(text, member=member, chat_title=group.get("title", ""),
                               count=group.get("member_count"))
    problems = list(greeting_problems(text))
    refused = bool(html_problems(text))
    body = html.escape(rendered.text, quote=False) if refused else telegram_html_to_page(rendered.text)
    all_rows = [tuple({"text": str(b.get("text", "")), "url": str(b.get("url", ""))} for b in row) for row in rows]
    all_rows += [({"text": button.text, "url": button.url or ""},) for button in rendered.buttons]
    if len(rendered.text) > 4096:
        problems.append(f"{len(rendered.text)} characters: Telegram sends at most 4096 in one message.")
    media = f"a {media_type.replace('animation', 'GIF')}" if media_type else ""
    return ReplyPreview(html=body, rows=tuple(all_rows), problems=tuple(problems), refused=refused,
                        member_name=member_name, media=media, empty=not rendered.text.strip() and not media)
