"""The welcome and goodbye previews: the text as Telegram would show it, rendered here by apps.common.welcome (the
bot's own renderer) and turned from Telegram's HTML into HTML the page may show. The template is typed by a
moderator: only Telegram's own tags pass, as harmless tags of this page; everything else is text."""

import html
from dataclasses import dataclass
from html.parser import HTMLParser

from apps.common.welcome import (
    DEFAULT_WELCOME,
    GreetingButton,
    GreetingMember,
    greeting_problems,
    html_problems,
    render_greeting,
)

# Who the preview greets when the viewer has no Telegram account linked.
SAMPLE_MEMBER = GreetingMember(id=123456789, first_name="Sam", last_name="Sample", username="sam_sample")
SAMPLE_NAME = "Sam Sample (a sample member)"

# Telegram's tags -> the tag (and class) this page uses for them.
_TAGS = {"b": ("strong", ""), "strong": ("strong", ""), "i": ("em", ""), "em": ("em", ""), "u": ("u", ""),
         "ins": ("u", ""), "s": ("s", ""), "strike": ("s", ""), "del": ("s", ""), "code": ("code", ""),
         "pre": ("pre", ""), "blockquote": ("blockquote", ""), "tg-spoiler": ("span", "tg-spoiler"),
         "span": ("span", "tg-spoiler"), "tg-emoji": ("span", ""), "a": ("a", "")}
_LINK_SCHEMES = ("http://", "https://")


class _TelegramHtml(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.open: list[str] = []

    def handle_starttag(self, tag, attrs):
        mapped = _TAGS.get(tag)
        if mapped is None:
            self.out.append(html.escape(self.get_starttag_text() or ""))
            return
        name, css = mapped
        attributes = dict(attrs)
        if tag == "a":
            href = attributes.get("href") or ""
            if href.startswith(_LINK_SCHEMES):
                self.out.append(f'<a href="{html.escape(href)}" rel="noopener noreferrer nofollow">')
            else:  # a mention (tg://user?id=...) or another app's link: shown as a link, not followed
                name, css = "span", "tg-link"
                self.out.append(f'<span class="{css}" title="{html.escape(href)}">')
            self.open.append(name)
            return
        self.out.append(f'<{name} class="{css}">' if css else f"<{name}>")
        self.open.append(name)

    def handle_endtag(self, tag):
        if tag in _TAGS and self.open:
            self.out.append(f"</{self.open.pop()}>")
        elif tag not in _TAGS:
            self.out.append(html.escape(f"</{tag}>"))

    def handle_data(self, data):
        self.out.append(html.escape(data, quote=False))

    def result(self) -> str:
        self.close()
        return "".join(self.out) + "".join(f"</{name}>" for name in reversed(self.open))


def telegram_html_to_page(text: str) -> str:
    """Telegram-HTML `text` (already checked by greeting_problems) as safe HTML for the dashboard."""
    parser = _TelegramHtml()
    parser.feed(text)
    return parser.result()


@dataclass(frozen=True)
class Preview:
    kind: str  # "welcome" | "goodbye"
    html: str  # safe: built by telegram_html_to_page, or escaped text when Telegram would refuse it
    buttons: tuple[GreetingButton, ...]
    problems: tuple[str, ...]
    refused: bool  # Telegram would not send it at all (its HTML); other problems are notes
    member_name: str
    default_used: bool
    empty: bool  # a goodbye without text: the bot says nothing


def greeted_member(profile: dict | None) -> tuple[GreetingMember, str]:
    """The viewer as a Telegram member when their account is linked to Telegram, else the sample member."""
    if not profile or not profile.get("telegram_user_id"):
        return SAMPLE_MEMBER, SAMPLE_NAME
    names = (profile.get("display_name") or profile.get("username") or "").split(" ", 1)
    member = GreetingMember(id=int(profile["telegram_user_id"]), first_name=names[0],
                            last_name=names[1] if len(names) > 1 else "",
                            username=profile.get("telegram_username") or "")
    return member, f"{profile.get('display_name') or profile.get('username')} (you)"


def preview(kind: str, template: str, *, group: dict, profile: dict | None) -> Preview:
    """What the group would see for `template`; an empty welcome is the bot's default text."""
    default_used = kind == "welcome" and not template.strip()
    empty = kind != "welcome" and not template.strip()
    if default_used:
        template = DEFAULT_WELCOME
    member, member_name = greeted_member(profile)
    problems = tuple(greeting_problems(template))
    rendered = render_greeting(template, member=member, chat_title=group.get("title", ""),
                               count=group.get("member_count"))
    # Telegram refuses a text its parser cannot read: show the text as typed, and why.
    refused = bool(html_problems(template))
    body = html.escape(rendered.text, quote=False) if refused else telegram_html_to_page(rendered.text)
    return Preview(kind=kind, html=body, buttons=rendered.buttons, problems=problems, refused=refused,
                   member_name=member_name, default_used=default_used,
                   empty=empty)
