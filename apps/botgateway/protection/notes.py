"""Notes (Rose's): saved replies a member asks for by name with #name or /get <name>.

/save <name> <text> (or in reply to the message to keep: its text or caption, photo/sticker/... by file id and URL
buttons), /get <name> [noformat], #name [noformat], /clear <name...>, /clearall (the group's owner, after a
confirmation), /notes (/saved), /privatenotes on|off. Anybody in the group may read a note; changes go to core with
the actor (core checks MANAGE_SETTINGS) and core's answer is kept in the settings cache, whose list of names lets
content.py recognise #name in a plain message without asking core and call `reply_hashtag`. A note's content is kept
in the bot for the settings version it was read under (note_cache.py): a #name or /get asks core only the first time
after a change, a name not listed asks nothing, and the same note is answered by #name at most once in a few seconds
per chat (a flood of #name gets one reply).

Private notes (the group's `private_notes`): the group gets a button instead of the note, deep-linking to a private
chat with the bot (/start note_<chat id>_<name>, as /rules does), which answers the note there.
"""

from __future__ import annotations

import html
import logging
import re

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update, User
from telegram.constants import ChatMemberStatus
from telegram.error import TelegramError
from telegram.ext import CallbackQueryHandler, CommandHandler, filters

from apps.common.error_codes import ErrorCode
from apps.coreclient import CoreError, CoreUnavailable

from ..command_frame import run_command
from ..flows import UNAVAILABLE_REPLY, StopCommand, core_call, reply
from ..helplines import HelpLine
from ..parsing import UsageError
from .commands import settings_write, toggle_command
from .rules import _settings as group_settings
from .saved_replies import (
    NOTE_PAYLOAD,
    Rendered,
    html_from,
    note_link,
    remember,
    remove_all_commands,
    reply_saved,
    saved_reply_of,
    send_saved,
)
from .settings_cache import protection_settings

logger = logging.getLogger(__name__)

PERMISSION = "MANAGE_SETTINGS"
NAME = re.compile(r"^[a-z0-9_-]{1,64}$")
NOFORMAT = "noformat"
CALLBACK_PREFIX = "nts"
CLEARALL_DATA, CANCEL_DATA = f"{CALLBACK_PREFIX}:clearall", f"{CALLBACK_PREFIX}:cancel"
PRIVATE_BUTTON = "Click me!"
_START_NOTE = re.compile(rf"^/start(?:@\w+)?\s+{NOTE_PAYLOAD}(-?\d{{1,20}})_([a-z0-9_-]{{1,64}})\s*$")
_COMMAND = re.compile(r"^/\w+(?:@\w+)?\s*")

SAVE_USAGE = ("Use /save <name> <text>, or reply to a message with /save <name> to keep it (text, photo, sticker, "
              "...). Names are letters, digits, _ and -; the text keeps Telegram's formatting, {first}-style "
              "placeholders and [label](buttonurl://https://...) buttons.")

HELP_LINES: list[HelpLine] = [
    HelpLine("#name, /get <name> [noformat]", "a saved note"),
    HelpLine("/notes", "this group's notes"),
    HelpLine("/save <name> <text> (or reply)", "save a note", PERMISSION),
    HelpLine("/clear <name>, /clearall", "remove a note, or all of them (the owner)", PERMISSION),
    HelpLine("/privatenotes on|off", "send notes in a private chat", PERMISSION),
]


def note_name(token: str) -> str:
    """A note's name as typed (a leading # allowed), lowercased; UsageError when it is not one."""
    name = token.lstrip("#").lower()
    if not NAME.match(name):
        raise UsageError("A note's name is 1 to 64 letters, digits, _ or - (no spaces).")
    return name


def hashtag_request(text: str) -> tuple[str, bool] | None:
    """#name [noformat] at the start of a message: (name, noformat)."""
    parts = text.split(None, 2)
    if not parts or not parts[0].startswith("#") or len(parts[0]) < 2:
        return None
    name = parts[0][1:].lower()
    if not NAME.match(name):
        return None
    return name, len(parts) > 1 and parts[1].lower() == NOFORMAT


async def _settings(context, chat_id: int):
    settings = await protection_settings(context, chat_id)
    if settings is None:
        raise StopCommand(UNAVAILABLE_REPLY)
    return settings


async def _note(bot_data, settings, name: str) -> dict | None:
    """The note, kept in the bot for the settings' version (note_cache.py): a core call only the first time it is
    asked for after a change, none for a name the settings do not list."""
    async def fetch() -> dict | None:
        try:
            return await core_call(bot_data.core.note_get(settings.group_id, name))
        except CoreError as exc:
            if exc.code == ErrorCode.NOT_FOUND:
                return None
            raise

    return await bot_data.notes.get(settings, name, fetch)


def _missing(name: str) -> StopCommand:
    return StopCommand(f"There is no note called <code>{html.escape(name)}</code> here. /notes lists them.")


async def deliver(bot, bot_data, chat_id: int, title: str, settings, name: str, *, user: User | None,
                  reply_to: int | None, noformat: bool) -> bool:
    """The note in the group: with private notes on, a button opening it in a private chat; else the note itself
    (as a reply to `reply_to`), placeholders filled in for `user`. False when there is no such note."""
    if settings.private_notes and not noformat:
        link = note_link(bot.username, chat_id, name)
        if link is not None:
            if name not in settings.notes:
                return False
            markup = InlineKeyboardMarkup([[InlineKeyboardButton(PRIVATE_BUTTON, url=link)]])
            text = f"Tap here to view <code>{html.escape(name)}</code> in your private chat."
            await send_saved(bot, chat_id, {}, Rendered(text, markup), reply_to=reply_to)
            return True
    note = await _note(bot_data, settings, name)
    if note is None:
        return False
    await reply_saved(bot, chat_id, title, note, user=user, reply_to=reply_to, noformat=noformat)
    return True


def _reply_target(message: Message) -> int:
    """A note asked for in reply to a message answers that message (as Rose); else the asking one."""
    replied = message.reply_to_message
    return replied.message_id if replied is not None else message.message_id


async def get_command(update: Update, context) -> None:
    async def body():
        args = context.args or []
        if not args or len(args) > 2 or (len(args) == 2 and args[1].lower() != NOFORMAT):
            raise UsageError("Use /get <name>, or /get <name> noformat for the note as it was saved.")
        name = note_name(args[0])
        chat, message = update.effective_chat, update.effective_message
        settings = await _settings(context, chat.id)
        found = await deliver(context.bot, context.bot_data, chat.id, chat.title or settings.title, settings, name,
                              user=update.effective_user, reply_to=_reply_target(message),
                              noformat=len(args) == 2)
        if not found:
            raise _missing(name)

    await run_command(update, context, "get", body)


async def save_command(update: Update, context) -> None:
    async def body():
        message: Message = update.effective_message
        text = message.text or ""
        command = _COMMAND.match(text)
        start = command.end() if command else 0
        token = text[start:].split(None, 1)[0] if text[start:].strip() else ""
        if not token:
            raise UsageError(SAVE_USAGE)
        name = note_name(token)
        saved = saved_reply_of(message, html_from(message, start + len(token)), SAVE_USAGE,
                               bot_username=context.bot.username)
        answer = await settings_write(update, context, lambda group_id, actor:
                                      context.core.note_save(group_id, name=name, **saved.wire(), **actor))
        chat_id = update.effective_chat.id

        def listed(wire: dict) -> dict:
            names = list(wire.get("notes") or [])
            return {**wire, "notes": names if name in names else sorted([*names, name])}

        await remember(context.bot_data, chat_id, answer.get("version"), listed)
        await reply(update, f"Saved note <code>{html.escape(name)}</code>. Get it with /get {html.escape(name)} or "
                            f"#{html.escape(name)}.")

    await run_command(update, context, "save", body)


async def clear_command(update: Update, context) -> None:
    async def body():
        args = context.args or []
        if not args:
            raise UsageError("Use /clear <name> (several names: /clear a b c); /clearall removes every note.")
        names = list(dict.fromkeys(note_name(arg) for arg in args))
        answer = await settings_write(update, context, lambda group_id, actor:
                                      context.core.notes_remove(group_id, names=names, **actor))
        chat_id = update.effective_chat.id
        await remember(context.bot_data, chat_id, answer.get("version"),
                       lambda wire: {**wire, "notes": [n for n in wire.get("notes") or [] if n not in names]})
        removed = answer.get("removed", 0)
        if not removed:
            raise _missing(names[0]) if len(names) == 1 else StopCommand("None of those notes exist. /notes lists "
                                                                          "them.")
        shown = ", ".join(f"<code>{html.escape(name)}</code>" for name in names)
        await reply(update, f"Note {shown} removed." if len(names) == 1 else f"Removed {removed} of the notes "
                                                                            f"{shown}.")

    await run_command(update, context, "clear", body)


async def notes_command(update: Update, context) -> None:
    async def body():
        chat = update.effective_chat
        settings = await _settings(context, chat.id)
        title = html.escape(chat.title or settings.title or "this group")
        if not settings.notes:
            raise StopCommand(f"No notes in <b>{title}</b>! /save &lt;name&gt; &lt;text&gt; saves one.")
        lines = [f"- <code>#{html.escape(name)}</code>" for name in sorted(settings.notes)]
        await reply(update, f"Notes in <b>{title}</b>:\n" + "\n".join(lines)
                    + "\nYou can retrieve these notes by using <code>/get notename</code>, or <code>#notename</code>.")

    await run_command(update, context, "notes", body)


# /clearall: the owner confirms with a button.
clearall_command, on_press = remove_all_commands(
    command="clearall", question="Are you sure you would like to clear <b>all</b> notes in <b>{title}</b>? This "
    "can't be undone.", confirm=("Delete all notes", CLEARALL_DATA), cancel=CANCEL_DATA,
    refusal="Only the group's owner can remove all notes at once.", what="notes", clear="notes_clear")


async def start_note(update: Update, context) -> None:
    """/start note_<chat id>_<name> in private: a private note's deep link. For members of that group only."""
    async def body():
        match = _START_NOTE.match(update.effective_message.text)
        chat_id, name = int(match.group(1)), match.group(2)
        user = update.effective_user
        settings = await group_settings(context, chat_id)  # as /rules' deep link finds its group
        try:
            member = await context.bot.get_chat_member(chat_id, user.id)
        except TelegramError as exc:
            logger.info("note asked by someone Telegram does not show in the group",
                        extra={"chat_id": chat_id, "error": str(exc)})
            raise StopCommand("Notes are for the group's members.") from exc
        if member.status in (ChatMemberStatus.LEFT, ChatMemberStatus.BANNED):
            raise StopCommand("Notes are for the group's members.")
        note = await _note(context.bot_data, settings, name)
        if note is None:
            raise _missing(name)
        await reply_saved(context.bot, update.effective_chat.id, settings.title, note, user=user, reply_to=None,
                          group_chat_id=chat_id)

    await run_command(update, context, "start", body, anywhere=True)


async def reply_hashtag(application, chat_id: int, message: dict, name: str) -> None:
    """Answers #name at the start of a plain group message (content.py found a known note's name, on a task of its
    own): the note (or, with private notes, its button) as a reply, placeholders filled in for the sender;
    "#name noformat" shows it as saved. Never raises (logged)."""
    try:
        bot, bot_data = application.bot, application.bot_data
        settings = bot_data.protection.get(chat_id)
        if settings is None:
            return
        asked = hashtag_request(message.get("text") or message.get("caption") or "")
        noformat = asked is not None and asked[0] == name and asked[1]
        form = "raw" if noformat else "private" if settings.private_notes else "note"
        if not bot_data.notes.first_answer(chat_id, name, form):
            return  # just answered here: the answer is right above (a flood of #name posts one reply)
        sender = User.de_json(message["from"], bot) if message.get("from") else None
        replied = message.get("reply_to_message") or {}
        reply_to = replied.get("message_id") or message.get("message_id")
        title = (message.get("chat") or {}).get("title") or settings.title
        await deliver(bot, bot_data, chat_id, title, settings, name, user=sender, reply_to=reply_to,
                      noformat=noformat)
    except (CoreUnavailable, CoreError, StopCommand) as exc:
        logger.info("note not answered", extra={"chat_id": chat_id, "error": str(exc)})
    except Exception:  # a task of its own: nobody else would see it
        logger.exception("note reply failed", extra={"chat_id": chat_id})


def start_handlers() -> list[CommandHandler]:
    """The private note's deep link: registered ahead of handlers.info's /start (it takes only its own payload)."""
    return [CommandHandler("start", start_note, filters=filters.UpdateType.MESSAGE & filters.ChatType.PRIVATE
                           & filters.Regex(_START_NOTE))]


def handlers() -> list:
    message_only = filters.UpdateType.MESSAGE
    return [
        CommandHandler("get", get_command, filters=message_only),
        CommandHandler("save", save_command, filters=message_only),
        CommandHandler("clear", clear_command, filters=message_only),
        CommandHandler("clearall", clearall_command, filters=message_only),
        CommandHandler(["notes", "saved"], notes_command, filters=message_only),
        CommandHandler("privatenotes", toggle_command("privatenotes", "private_notes", "Sending notes in private"),
                       filters=message_only),
        CallbackQueryHandler(on_press, pattern=rf"^{CALLBACK_PREFIX}:"),
    ]
