"""Filters (Rose's auto-replies): a trigger word, "a phrase", prefix:<text> or exact:<text>, answered with a saved
reply (Telegram HTML with {placeholders}, a photo/sticker/... by file id, URL buttons).

/filter <trigger> <reply> (or in reply to the message to answer with), several triggers at once as
(hi, "good morning", prefix:hey); /stop <trigger>; /stopall (the group's owner, after a confirmation); /filters.
Each change is one core call with the actor (core checks MANAGE_SETTINGS); the bot keeps core's answer in its
settings cache, whose compiled rules (content.py) find the trigger in each plain message without asking core, and
call `reply_filter`.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Mapping

from telegram import Message, Update, User
from telegram.ext import CallbackQueryHandler, CommandHandler, filters

from ..command_frame import run_command
from ..flows import UNAVAILABLE_REPLY, StopCommand, reply
from ..helplines import HelpLine
from ..parsing import UsageError
from .commands import settings_write
from .saved_replies import (
    html_from,
    remember,
    remove_all_commands,
    reply_saved,
    saved_reply_of,
)
from .settings_cache import protection_settings

logger = logging.getLogger(__name__)

PERMISSION = "MANAGE_SETTINGS"
MATCHES = ("word", "prefix", "exact")
QUOTES = {'"': '"', "“": "”", "„": "“", "«": "»"}
CALLBACK_PREFIX = "flt"
STOPALL_DATA, CANCEL_DATA = f"{CALLBACK_PREFIX}:stopall", f"{CALLBACK_PREFIX}:cancel"
_COMMAND = re.compile(r"^/\w+(?:@\w+)?")
_KIND = re.compile(r"^(prefix|exact):", re.I)

FILTER_USAGE = ("Use /filter <trigger> <reply>, or reply to a message with /filter <trigger>. A trigger is a word, "
                "a \"quoted phrase\", prefix:<text> (messages starting with it) or exact:<text> (messages that are "
                "only it); several at once as (hi, \"good morning\"). The reply keeps Telegram's formatting, "
                "{first}-style placeholders and [label](buttonurl://https://...) buttons.")

HELP_LINES: list[HelpLine] = [
    HelpLine("/filter <trigger> <reply> (or reply)", "answer a word, \"phrase\", prefix: or exact: text",
             PERMISSION),
    HelpLine("/stop <trigger>, /stopall", "remove a filter, or all of them (the owner)", PERMISSION),
    HelpLine("/filters", "this group's filters"),
]


class TriggerSyntax(UsageError):
    pass


def _quoted(text: str, pos: int) -> tuple[str, int] | None:
    """A quoted phrase starting at `pos`: (phrase, index after the closing quote)."""
    closing = QUOTES.get(text[pos:pos + 1])
    if closing is None:
        return None
    end = text.find(closing, pos + 1)
    if end == -1 and closing != '"':
        end = text.find('"', pos + 1)
    if end == -1:
        raise TriggerSyntax("A quoted trigger needs its closing quote.")
    return text[pos + 1:end], end + 1


def _one_trigger(text: str, pos: int, stop: str) -> tuple[tuple[str, str], int]:
    """One trigger at `pos` (kind prefix, then a quoted phrase or a word up to whitespace or a char in `stop`)."""
    match = "word"
    kind = _KIND.match(text[pos:])
    if kind:
        match, pos = kind.group(1).lower(), pos + kind.end()
    quoted = _quoted(text, pos)
    if quoted is not None:
        trigger, pos = quoted
        if match == "word" and (inner := _KIND.match(trigger)):  # "prefix:some phrase"
            match, trigger = inner.group(1).lower(), trigger[inner.end():]
    else:
        end = pos
        while end < len(text) and not text[end].isspace() and text[end] not in stop:
            end += 1
        trigger, pos = text[pos:end], end
    trigger = " ".join(trigger.split())
    if not trigger:
        raise TriggerSyntax("A trigger can't be empty.")
    return (trigger, match), pos


def parse_triggers(text: str) -> tuple[list[tuple[str, str]], int]:
    """The triggers after the command in `text` ((trigger, match) each, in order, each once) and the index where the
    rest (the reply) starts. Rose's syntax: word, "a phrase", prefix:x, exact:x, or several as (a, "b c", exact:d).
    TriggerSyntax when there is none."""
    command = _COMMAND.match(text)
    pos = command.end() if command else 0
    while pos < len(text) and text[pos].isspace():
        pos += 1
    if pos >= len(text):
        raise TriggerSyntax(FILTER_USAGE)
    triggers: list[tuple[str, str]] = []
    if text[pos] == "(":
        pos += 1
        while True:
            while pos < len(text) and (text[pos].isspace() or text[pos] == ","):
                pos += 1
            if pos >= len(text):
                raise TriggerSyntax("A list of triggers needs its closing ')'.")
            if text[pos] == ")":
                pos += 1
                break
            trigger, pos = _one_trigger(text, pos, ",)")
            triggers.append(trigger)
        if not triggers:
            raise TriggerSyntax("The list of triggers is empty.")
    else:
        trigger, pos = _one_trigger(text, pos, "")
        triggers.append(trigger)
    first_typed: dict[tuple[str, str], str] = {}
    for trigger, match in triggers:
        first_typed.setdefault((trigger.casefold(), match), trigger)
    return [(trigger, key[1]) for key, trigger in first_typed.items()], pos


def describe(trigger: str, match: str) -> str:
    shown = f'"{trigger}"' if " " in trigger else trigger
    return shown if match == "word" else f"{match}:{shown}"


def _title(update: Update, settings) -> str:
    chat = update.effective_chat
    return chat.title or (settings.title if settings is not None else "") or "this group"


def _after_save(filters_wire: list, item: Mapping) -> list:
    """The cached filters with core's answer to a save (a new filter, or the one of that id replaced)."""
    return [*(f for f in filters_wire if f.get("id") != item.get("id")), dict(item)]


async def filter_command(update: Update, context) -> None:
    async def body():
        message: Message = update.effective_message
        try:
            triggers, rest = parse_triggers(message.text or "")
        except TriggerSyntax as exc:
            raise UsageError(str(exc)) from None
        saved = saved_reply_of(message, html_from(message, rest), FILTER_USAGE, bot_username=context.bot.username)
        chat_id = update.effective_chat.id
        for trigger, match in triggers:
            answer = await settings_write(update, context, lambda group_id, actor, t=trigger, m=match:
                                          context.core.filter_save(group_id, trigger=t, match=m, **saved.wire(),
                                                                   **actor))
            item = {key: value for key, value in answer.items() if key != "version"}  # core: the filter + version
            await remember(context.bot_data, chat_id, answer.get("version"),
                           lambda wire, i=item: {**wire, "filters": _after_save(list(wire.get("filters") or []), i)})
        settings = context.bot_data.protection.get(chat_id)
        names = "\n".join(f"- <code>{html.escape(describe(t, m))}</code>" for t, m in triggers)
        await reply(update, f"Saved {len(triggers)} filter{'s' if len(triggers) != 1 else ''} in "
                            f"<b>{html.escape(_title(update, settings))}</b>:\n{names}")

    await run_command(update, context, "filter", body)


async def stop_command(update: Update, context) -> None:
    async def body():
        message: Message = update.effective_message
        try:
            triggers, _ = parse_triggers(message.text or "")
        except TriggerSyntax:
            raise UsageError("Use /stop <trigger> (as /filters lists it).") from None
        chat_id = update.effective_chat.id
        asked = [trigger if match == "word" else f"{match}:{trigger}" for trigger, match in triggers]
        answer = await settings_write(update, context, lambda group_id, actor:
                                      context.core.filters_remove(group_id, triggers=asked, **actor))
        await remember(context.bot_data, chat_id, answer.get("version"), None)
        removed = answer.get("removed", 0)
        if not removed:
            raise StopCommand("You haven't saved any filters on that trigger yet! /filters lists them.")
        shown = ", ".join(f"<code>{html.escape(describe(t, m))}</code>" for t, m in triggers)
        await reply(update, f"Filter {shown} has been stopped!" if len(triggers) == 1 else
                    f"Stopped {removed} filter{'s' if removed != 1 else ''}: {shown}.")

    await run_command(update, context, "stop", body)


async def filters_command(update: Update, context) -> None:
    async def body():
        chat = update.effective_chat
        settings = await protection_settings(context, chat.id)
        if settings is None:
            raise StopCommand(UNAVAILABLE_REPLY)
        title = html.escape(_title(update, settings))
        items = list(settings.filters)
        if not items:
            raise StopCommand(f"No filters in <b>{title}</b>! /filter &lt;trigger&gt; &lt;reply&gt; adds one.")
        lines = [f"- <code>{html.escape(describe(item['trigger'], item.get('match', 'word')))}</code>"
                 for item in sorted(items, key=lambda item: item["trigger"].casefold())]
        await reply(update, f"Filters in <b>{title}</b>:\n" + "\n".join(lines))

    await run_command(update, context, "filters", body)


# /stopall: the owner confirms with a button.
stopall_command, on_press = remove_all_commands(
    command="stopall", question="Are you sure you would like to stop <b>all</b> filters in <b>{title}</b>? This "
    "can't be undone.", confirm=("Delete all filters", STOPALL_DATA), cancel=CANCEL_DATA,
    refusal="Only the group's owner can remove all filters at once.", what="filters", clear="filters_clear")


async def reply_filter(application, chat_id: int, message: dict, filter_wire: Mapping) -> None:
    """Answers a plain group message whose text matched the filter (content.py found it, on a task of its own): the
    filter's reply to that message, placeholders filled in for its sender. Never raises (logged)."""
    try:
        bot = application.bot
        sender = User.de_json(message["from"], bot) if message.get("from") else None
        settings = application.bot_data.protection.get(chat_id)
        title = (message.get("chat") or {}).get("title") or (settings.title if settings is not None else "")
        await reply_saved(bot, chat_id, title, filter_wire, user=sender, reply_to=message.get("message_id"))
    except Exception:  # a task of its own: nobody else would see it
        logger.exception("filter reply failed", extra={"chat_id": chat_id})


def handlers() -> list:
    message_only = filters.UpdateType.MESSAGE
    return [
        CommandHandler("filter", filter_command, filters=message_only),
        CommandHandler("stop", stop_command, filters=message_only),
        CommandHandler("stopall", stopall_command, filters=message_only),
        CommandHandler("filters", filters_command, filters=message_only),
        CallbackQueryHandler(on_press, pattern=rf"^{CALLBACK_PREFIX}:"),
    ]
