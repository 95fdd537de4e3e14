"""What filters and notes share: a saved reply (Telegram HTML, a photo/sticker/... by file id, URL buttons) taken
from a command and the message it replies to, sent back with its {placeholders} filled in as welcome fills them,
and each change to a group's filters or notes asked of core with the actor and kept in the settings cache.

A saved reply is core's wire shape: {"text", "media_type", "media_file_id", "buttons"} with buttons as rows of
{"text", "url"} (Rose's `[label](buttonurl://...)` syntax is read by apps.common.contentrules.parse_buttons).
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

from telegram import (
    Bot,
    ChatMemberOwner,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    MessageEntity,
    ReplyParameters,
    Update,
    User,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, TelegramError

from apps.common.contentrules import parse_buttons
from apps.common.welcome import html_problems, render_greeting
from apps.coreclient import CoreError, CoreUnavailable, ProtectionSettings

from ..command_frame import run_command
from ..flows import Actor, StopCommand
from ..parsing import UsageError
from .commands import settings_write
from .welcome import greeting_member, rules_link

logger = logging.getLogger(__name__)

TEXT_LIMIT = 4096  # Telegram's limit for a message's text
CAPTION_LIMIT = 1024  # ... and for a media's caption
# Core's media types, each sent by its Bot API method (a file id is reusable by the bot that received it).
MEDIA_TYPES = ("photo", "sticker", "document", "animation", "video", "audio", "voice")
BUTTON_URL = re.compile(r"^(https?|tg)://", re.I)
NOTE_PAYLOAD = "note_"  # /start note_<chat id>_<name>: the deep link of a note, opened in a private chat
START_PAYLOAD_LIMIT = 64  # Telegram's limit for a deep link's start parameter
_NOTE_BUTTON = re.compile(r"\(buttonurl:(?://)?#([a-z0-9_-]{1,64})(:same)?\)", re.I)


@dataclass(frozen=True)
class SavedReply:
    text: str = ""
    media_type: str | None = None
    media_file_id: str | None = None
    buttons: list[list[dict]] = field(default_factory=list)

    def wire(self) -> dict:
        return {"text": self.text, "media_type": self.media_type, "media_file_id": self.media_file_id,
                "buttons": self.buttons}


# -- reading a saved reply from a command

def html_from(message: Message, start: int) -> str:
    """The message's text from `start` (a Python index) on, as Telegram HTML: the formatting the sender gave it
    kept, entities cut where the text is cut."""
    text = message.text or ""
    while start < len(text) and text[start].isspace():
        start += 1
    if start >= len(text):
        return ""
    cut = len(text[:start].encode("utf-16-le")) // 2
    entities = []
    for entity in message.entities or ():
        end = entity.offset + entity.length
        if end <= cut:
            continue
        offset = max(entity.offset, cut)
        entities.append(MessageEntity(entity.type, offset - cut, end - offset, url=entity.url, user=entity.user,
                                      language=entity.language, custom_emoji_id=entity.custom_emoji_id))
    rest = Message(message.message_id, message.date, message.chat, text=text[start:], entities=entities)
    return rest.text_html.strip()


def media_of(message: Message) -> tuple[str, str] | None:
    """(media type, file id) of the message's attachment, when it is one a saved reply can send again."""
    if message.photo:
        return "photo", message.photo[-1].file_id  # the largest size
    # An animation's message also carries it as a document: the animation first.
    for kind in ("animation", "sticker", "video", "audio", "voice", "document"):
        attachment = getattr(message, kind, None)
        if attachment is not None:
            return kind, attachment.file_id
    return None


def url_buttons_of(message: Message) -> list[list[dict]]:
    """The message's inline URL buttons, row by row (other kinds of button cannot be sent again as they were)."""
    markup = message.reply_markup
    if not isinstance(markup, InlineKeyboardMarkup):
        return []
    rows = [[{"text": button.text, "url": button.url} for button in row if button.url]
            for row in markup.inline_keyboard]
    return [row for row in rows if row]


def _buttons_in(text_html: str) -> tuple[str, list[list[dict]]]:
    """Rose's button syntax read off the HTML text: the text without it, and the buttons (labels and URLs unescaped:
    they are sent as plain strings)."""
    text, rows = parse_buttons(text_html)
    buttons = [[{"text": html.unescape(button["text"]), "url": html.unescape(button["url"])} for button in row]
               for row in rows]
    return text.strip(), [row for row in buttons if row]


def note_link(bot_username: str | None, chat_id: int, name: str) -> str | None:
    """The deep link that opens a group's note in a private chat with the bot (/start note_<chat id>_<name>); None
    when the bot has no username or the link would not fit Telegram's 64 characters of start parameter."""
    payload = f"{NOTE_PAYLOAD}{chat_id}_{name}"
    if not bot_username or len(payload) > START_PAYLOAD_LIMIT:
        return None
    return f"https://t.me/{bot_username}?start={payload}"


def _note_buttons(text_html: str, bot_username: str | None, chat_id: int) -> str:
    """Rose's note buttons, [label](buttonurl://#name): the note's deep link (opened in a private chat)."""
    def link(match: re.Match) -> str:
        url = note_link(bot_username, chat_id, match.group(1).lower())
        return match.group(0) if url is None else f"(buttonurl://{url}{match.group(2) or ''})"
    return _NOTE_BUTTON.sub(link, text_html)


def saved_reply_of(message: Message, own_html: str, usage: str, *, bot_username: str | None = None) -> SavedReply:
    """The reply a /filter or /save keeps: the command's own text (HTML, after the trigger or name), else the text or
    caption of the message it replies to; that message's photo/sticker/... by file id and its URL buttons, and
    buttons written in the text with Rose's syntax ([label](buttonurl://#note): that note, in a private chat).
    UsageError when there is nothing to save or Telegram would refuse it."""
    replied = message.reply_to_message
    text_html = own_html
    media = None
    buttons: list[list[dict]] = []
    if replied is not None:
        if not text_html:
            text_html = (replied.text_html if replied.text else replied.caption_html if replied.caption else "")
            text_html = (text_html or "").strip()
        media = media_of(replied)
        buttons = url_buttons_of(replied)
    text, written = _buttons_in(_note_buttons(text_html, bot_username, message.chat_id))
    buttons = buttons + written
    if not text and media is None:
        if buttons:
            raise UsageError("Buttons need some text (or a photo, sticker, ...) to go with.")
        raise UsageError(usage)
    limit = CAPTION_LIMIT if media is not None and media[0] != "sticker" else TEXT_LIMIT
    if len(text) > limit:
        what = "a caption" if limit == CAPTION_LIMIT else "a message"
        raise UsageError(f"That text is {len(text)} characters; Telegram sends at most {limit} in {what}.")
    problems = html_problems(text)
    if problems:
        raise UsageError(f"Not saved: {problems[0]}")
    for row in buttons:
        for button in row:
            if not BUTTON_URL.match(button["url"]) or not button["text"].strip():
                raise UsageError(f"Not saved: the button {button['text']!r} needs a label and an http(s):// or "
                                 "tg:// link.")
    return SavedReply(text=text, media_type=media[0] if media else None, media_file_id=media[1] if media else None,
                      buttons=buttons)


def button_markup(rows: list[list[Mapping]]) -> str:
    """Buttons written back in Rose's syntax (what /get <name> noformat shows)."""
    written = []
    for row in rows:
        for index, button in enumerate(row):
            same = ":same" if index else ""
            written.append(f"[{button['text']}](buttonurl://{button['url']}{same})")
    return "\n".join(written)


# -- sending a saved reply

@dataclass(frozen=True)
class Rendered:
    text: str
    markup: InlineKeyboardMarkup | None
    parse_mode: str | None = ParseMode.HTML


def render(saved: Mapping, *, user: User | None, chat_id: int, chat_title: str, bot_username: str | None,
           count: int | None = None, noformat: bool = False) -> Rendered:
    """The saved reply as it is sent: placeholders filled in for `user` (as welcome fills them: {rules} a button);
    with `noformat`, its text as saved (HTML source and button syntax shown, nothing filled in), without buttons."""
    rows = [list(row) for row in saved.get("buttons") or []]
    text = saved.get("text") or ""
    if noformat:
        raw = "\n".join(part for part in (text, button_markup(rows)) if part)
        return Rendered(raw, None, None)
    if user is not None:
        rendered = render_greeting(text, member=greeting_member(user), chat_title=chat_title, count=count,
                                   rules_url=rules_link(bot_username, chat_id))
        text = rendered.text
        rows += [[{"text": button.text, "url": button.url}] for button in rendered.buttons if button.url]
    keyboard = [[InlineKeyboardButton(button["text"], url=button["url"]) for button in row] for row in rows]
    return Rendered(text, InlineKeyboardMarkup(keyboard) if keyboard else None)


async def member_count(bot: Bot, chat_id: int, text: str) -> int | None:
    """The group's member count, asked of Telegram only when the text has a {count} to fill."""
    if "{count}" not in text:
        return None
    try:
        return await bot.get_chat_member_count(chat_id)
    except TelegramError as exc:
        logger.info("no member count for a saved reply", extra={"chat_id": chat_id, "error": str(exc)})
        return None


async def _send_once(bot: Bot, chat_id: int, saved: Mapping, rendered: Rendered, reply_to: int | None,
                     parse_mode: str | None) -> Message:
    reply = ReplyParameters(reply_to, allow_sending_without_reply=True) if reply_to else None
    media_type, file_id = saved.get("media_type"), saved.get("media_file_id")
    text = rendered.text
    if media_type in MEDIA_TYPES and file_id:
        if media_type == "sticker":  # a sticker has no caption: its text, if any, follows it
            sent = await bot.send_sticker(chat_id, file_id, reply_markup=None if text else rendered.markup,
                                          reply_parameters=reply)
            if text:
                sent = await bot.send_message(chat_id, text, parse_mode=parse_mode, reply_markup=rendered.markup,
                                              reply_parameters=reply)
            return sent
        send = getattr(bot, f"send_{media_type}")
        return await send(chat_id, file_id, caption=text or None, parse_mode=parse_mode,
                          reply_markup=rendered.markup, reply_parameters=reply)
    return await bot.send_message(chat_id, text, parse_mode=parse_mode, reply_markup=rendered.markup,
                                  reply_parameters=reply)


async def send_saved(bot: Bot, chat_id: int, saved: Mapping, rendered: Rendered, *,
                     reply_to: int | None = None) -> Message | None:
    """Sends the rendered reply (as a reply to `reply_to` when that message is still there). Best effort: a text whose
    HTML Telegram refuses (saved before it was checked) goes as plain text; any other refusal is logged."""
    if not rendered.text and not saved.get("media_file_id"):
        return None
    try:
        return await _send_once(bot, chat_id, saved, rendered, reply_to, rendered.parse_mode)
    except BadRequest as exc:
        if rendered.parse_mode is None or "can't parse entities" not in exc.message.lower():
            logger.warning("saved reply not sent", extra={"chat_id": chat_id, "error": exc.message})
            return None
        logger.warning("saved reply's HTML refused by Telegram: sent as plain text",
                       extra={"chat_id": chat_id, "error": exc.message})
    except TelegramError as exc:
        logger.warning("saved reply not sent", extra={"chat_id": chat_id, "error": str(exc)})
        return None
    try:
        return await _send_once(bot, chat_id, saved, rendered, reply_to, None)
    except TelegramError as exc:
        logger.warning("saved reply not sent", extra={"chat_id": chat_id, "error": str(exc)})
        return None


async def reply_saved(bot: Bot, chat_id: int, chat_title: str, saved: Mapping, *, user: User | None,
                      reply_to: int | None, noformat: bool = False, group_chat_id: int | None = None
                      ) -> Message | None:
    """Renders the saved reply for `user` and sends it in the chat. `group_chat_id`: the group it belongs to, when it
    is sent elsewhere (a private note in the bot's private chat): {count} and {rules} are that group's."""
    group = chat_id if group_chat_id is None else group_chat_id
    count = None if noformat else await member_count(bot, group, saved.get("text") or "")
    rendered = render(saved, user=user, chat_id=group, chat_title=chat_title, bot_username=bot.username,
                      count=count, noformat=noformat)
    return await send_saved(bot, chat_id, saved, rendered, reply_to=reply_to)


# -- changes asked of core, kept in the settings cache

async def remember(bot_data, chat_id: int, version: int | None, change: Callable[[dict], dict] | None) -> None:
    """Keeps core's answer to a change in the settings cache: the cached settings with `change` applied to their wire
    form and core's new version, when core's version follows the cached one (nothing else changed meanwhile);
    otherwise (or with no `change`) the settings are loaded again from core."""
    cache = bot_data.protection
    cached: ProtectionSettings | None = cache.get(chat_id)
    if cached is not None and version is not None and version <= cached.version:
        return
    if cached is not None and change is not None and version == cached.version + 1:
        cache.store(ProtectionSettings.from_wire(change({**cached.wire, "version": version})))
        return
    try:
        await cache.load(bot_data.core, chat_id)
    except (CoreUnavailable, CoreError) as exc:  # the poller brings the change in later
        logger.info("settings not reloaded after a change", extra={"chat_id": chat_id, "error": str(exc)})
        cache.invalidate(chat_id)


async def is_owner(bot: Bot, chat_id: int, user_id: int | None) -> bool:
    """Whether Telegram says this user owns the chat (asked each time: a transfer of ownership must count at once)."""
    if user_id is None:
        return False
    try:
        member = await bot.get_chat_member(chat_id, user_id)
    except TelegramError as exc:
        logger.info("owner not known", extra={"chat_id": chat_id, "error": str(exc)})
        return False
    return isinstance(member, ChatMemberOwner)


# -- remove-everything confirmations (/stopall, /clearall): the owner's, by button

def _plain(text: str | None) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", text or ""))


async def _answer(query, text: str | None, *, alert: bool = False) -> None:
    try:
        await query.answer(text, show_alert=alert)
    except TelegramError as exc:
        logger.info("press not answered", extra={"error": str(exc)})


async def _edit(query, text: str) -> None:
    try:
        await query.edit_message_text(text, reply_markup=None)
    except TelegramError as exc:
        logger.info("confirmation not edited", extra={"error": str(exc)})


async def ask_to_confirm(update: Update, context, *, question: str, confirm: tuple[str, str], cancel: str,
                         refusal: str) -> None:
    """Asks the group's owner (only them, as Rose) to confirm with a button; `question` may name {title}."""
    chat, user = update.effective_chat, update.effective_user
    if update.effective_message.sender_chat is not None or not await is_owner(context.bot, chat.id,
                                                                             user.id if user else None):
        raise StopCommand(refusal)
    settings = context.bot_data.protection.get(chat.id)
    title = chat.title or (settings.title if settings is not None else "") or "this group"
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton(confirm[0], callback_data=confirm[1])],
                                     [InlineKeyboardButton("Cancel", callback_data=cancel)]])
    try:
        await update.effective_message.reply_html(question.format(title=html.escape(title)), do_quote=False,
                                                  reply_markup=keyboard)
    except TelegramError as exc:
        logger.warning("could not ask for a confirmation", extra={"chat_id": chat.id, "error": str(exc)})


async def confirm_all(update: Update, context, *, what: str, clear: Callable[[str, dict], Awaitable]) -> None:
    """A press on "remove all": the owner's only (asked of Telegram again); `clear(group_id, actor fields)` makes
    core's call with the presser as the actor (core checks MANAGE_SETTINGS and audits it); `what` is the settings
    key emptied in the cache ("filters", "notes") and the word in the answer."""
    query, chat, user = update.callback_query, update.effective_chat, update.effective_user
    if chat is None or not await is_owner(context.bot, chat.id, user.id):
        await _answer(query, "Only the group's owner can do this.", alert=True)
        return
    actor = Actor(telegram_user_id=user.id, core_user_id=None, display=user.mention_html())
    try:
        answer = await settings_write(update, context, clear, actor=actor)
    except StopCommand as stop:
        await _answer(query, _plain(stop.reply)[:200] or None, alert=bool(stop.reply))
        return
    except CoreError as exc:
        await _answer(query, _plain(exc.message or exc.code)[:200], alert=True)
        return
    await remember(context.bot_data, chat.id, answer.get("version"), lambda wire: {**wire, what: []})
    removed = answer.get("removed", 0)
    await _answer(query, None)
    await _edit(query, f"Removed all {what} ({removed}) from <b>{html.escape(chat.title or 'this group')}</b>.")


async def cancel_all(update: Update, context, *, what: str) -> None:
    query, chat, user = update.callback_query, update.effective_chat, update.effective_user
    if chat is None or not await is_owner(context.bot, chat.id, user.id):
        await _answer(query, "Only the group's owner can do this.", alert=True)
        return
    await _answer(query, None)
    await _edit(query, f"Removing all {what} has been cancelled.")


def remove_all_commands(*, command: str, question: str, confirm: tuple[str, str], cancel: str, refusal: str,
                        what: str, clear: str, cancelled: str | None = None):
    """A "remove them all" command (/stopall, /clearall, /unblocklistall) and its confirmation buttons' callback:
    the command asks the owner (ask_to_confirm), a press on `confirm` empties the settings key `what` by core's
    `clear` call (confirm_all), any other press cancels (cancel_all, naming `cancelled` or `what`)."""

    async def ask(update: Update, context) -> None:
        async def body():
            await ask_to_confirm(update, context, question=question, confirm=confirm, cancel=cancel, refusal=refusal)

        await run_command(update, context, command, body)

    async def on_press(update: Update, context) -> None:
        if update.callback_query.data == confirm[1]:
            await confirm_all(update, context, what=what,
                              clear=lambda group_id, actor: getattr(context.core, clear)(group_id, **actor))
        else:
            await cancel_all(update, context, what=cancelled or what)

    return ask, on_press
