"""/pin, /unpin, /del, /purge, /spurge, /purgefrom, /purgeto: commands that act on messages, recorded in core like
any moderation action.

As Rose: /pin pins silently, /pin loud (or notify) notifies the members. /purge (reply) deletes from the replied-to
message to the command; /purge <n> (reply) the replied-to message and the n-1 after it, without a reply the n messages
before the command; /spurge does the same and says nothing. /purgefrom (reply) marks where to start, /purgeto (reply)
deletes from the mark to the replied-to message (one mark per admin and chat, kept ten minutes)."""

import html
import time
from datetime import UTC, datetime, timedelta

from telegram import Update
from telegram.error import TelegramError

from ..command_frame import run_command
from ..context import BotContext
from ..flows import (
    StopCommand,
    complete_action,
    ensure_group,
    record_action,
    reply,
    require_bot_right,
    require_permission,
    resolve_actor,
)
from ..parsing import UsageError

TELEGRAM_DELETE_WINDOW = timedelta(hours=48)


async def _message_action(update: Update, context: BotContext, *, name: str, action: str, permission: str,
                          right: str, needs_reply: bool, act, done: str, parse=None) -> None:
    """`parse(args, message)`: reads the command's arguments (a UsageError for bad ones) and returns what `act`
    gets as its fourth argument and the reason to record; by default, no options and the arguments as the reason."""
    async def body():
        message, chat = update.effective_message, update.effective_chat
        replied = message.reply_to_message
        if needs_reply and replied is None:
            raise UsageError(f"Reply to the message you want to {name.removeprefix('un')}.")
        options, reason = parse(list(context.args or []), message) if parse else (None, " ".join(context.args or []))
        actor = await resolve_actor(context, message)
        await ensure_group(context, chat)
        await require_permission(context, chat, actor, permission)
        await require_bot_right(context, chat, right)
        record = await record_action(context, chat, actor, action,
                                     telegram_message_id=replied.message_id if replied else None,
                                     reason=reason)
        error = None
        try:
            details = await act(context, message, replied, options)
        except TelegramError as exc:
            error, details = exc, None
        except StopCommand as refusal:  # the bot's own refusal (e.g. older than Telegram's window): on the record
            await complete_action(context, record.action.id, refusal.reply or "refused by the bot")
            raise
        await complete_action(context, record.action.id, error)
        if error is not None:
            raise StopCommand(f"Telegram refused: {html.escape(error.message)}")
        if done:
            await reply(update, done.format(**(details or {})))

    await run_command(update, context, name, body)


LOUD_WORDS = {"loud", "notify"}


def _pin_options(args: list[str], message) -> tuple[bool, str]:
    """/pin [loud|notify] [reason]: whether to notify the members, and the reason."""
    loud = bool(args) and args[0].lower() in LOUD_WORDS
    return loud, " ".join(args[1:] if loud else args)


async def _pin(context, message, replied, loud):
    await context.bot.pin_chat_message(message.chat_id, replied.message_id, disable_notification=not loud)


async def _unpin(context, message, replied, options):
    await context.bot.unpin_chat_message(message.chat_id, replied.message_id if replied else None)


async def _delete(context, message, replied, options):
    await context.bot.delete_messages(message.chat_id, [replied.message_id, message.message_id])


PURGE_AT_MOST = 1000  # messages one /purge <n> deletes
PURGE_MARK_SECONDS = 600  # how long a /purgefrom mark waits for its /purgeto
PURGE_MARKS = "purge_marks"  # chat_data key: admin's user id -> (marked message id, when)
PURGE_USAGE = (f"Reply to a message with /purge: it and everything after it go. /purge <n> (1 to {PURGE_AT_MOST}): "
               "the n messages starting with the replied-to one, or without a reply the n before the command.")


def _purge_options(args: list[str], message) -> tuple[list[int], str]:
    """The message ids a /purge or /spurge deletes (always ending with the command itself), and the reason."""
    replied = message.reply_to_message
    count = None
    if args and args[0].isdigit():
        count = int(args.pop(0))
        if not 1 <= count <= PURGE_AT_MOST:
            raise UsageError(PURGE_USAGE)
    if replied is None and count is None:
        raise UsageError(PURGE_USAGE)
    if replied is None:
        first, last = max(1, message.message_id - count), message.message_id - 1
    elif count is None:
        first, last = replied.message_id, message.message_id - 1
    else:
        first, last = replied.message_id, min(replied.message_id + count - 1, message.message_id - 1)
    return [*range(first, last + 1), message.message_id], " ".join(args)


async def _delete_ids(context, chat_id: int, ids: list[int]) -> dict:
    """Deletes `ids` (Telegram's 100 a call), inside Telegram's 48-hour window."""
    started = time.monotonic()
    for start in range(0, len(ids), 100):
        await context.bot.delete_messages(chat_id, ids[start:start + 100])
    return {"count": len(ids), "seconds": round(time.monotonic() - started, 1)}


async def _purge(context, message, replied, ids):
    """Deletes the messages `_purge_options` chose, inside Telegram's 48-hour window."""
    if replied is not None and datetime.now(UTC) - replied.date > TELEGRAM_DELETE_WINDOW:
        raise StopCommand("Telegram only lets bots delete messages from the last 48 hours.")
    return await _delete_ids(context, message.chat_id, ids)


async def pin(update, context):
    await _message_action(update, context, name="pin", action="pin", permission="PIN_MESSAGES",
                          right="can_pin_messages", needs_reply=True, act=_pin, done="", parse=_pin_options)


async def unpin(update, context):
    await _message_action(update, context, name="unpin", action="unpin", permission="PIN_MESSAGES",
                          right="can_pin_messages", needs_reply=False, act=_unpin, done="")


async def delete(update, context):
    await _message_action(update, context, name="del", action="delete", permission="DELETE_MESSAGES",
                          right="can_delete_messages", needs_reply=True, act=_delete, done="")


async def purge(update, context):
    await _message_action(update, context, name="purge", action="purge", permission="DELETE_MESSAGES",
                          right="can_delete_messages", needs_reply=False, act=_purge,
                          done="Purged {count} messages.", parse=_purge_options)


async def spurge(update, context):
    await _message_action(update, context, name="spurge", action="purge", permission="DELETE_MESSAGES",
                          right="can_delete_messages", needs_reply=False, act=_purge, done="",
                          parse=_purge_options)


def _marker(update: Update):
    message = update.effective_message
    return message.from_user.id if message.from_user is not None else ("chat", message.sender_chat.id)


async def purgefrom(update: Update, context: BotContext) -> None:
    """Marks the replied-to message as where the asker's next /purgeto starts (after the permission check)."""
    async def body():
        message, chat = update.effective_message, update.effective_chat
        if message.reply_to_message is None:
            raise UsageError("Reply with /purgefrom to the first message to delete, then with /purgeto to the last.")
        actor = await resolve_actor(context, message)
        await ensure_group(context, chat)
        await require_permission(context, chat, actor, "DELETE_MESSAGES")
        marks = context.chat_data.setdefault(PURGE_MARKS, {})
        marks[_marker(update)] = (message.reply_to_message.message_id, time.monotonic())
        await reply(update, "Marked. Reply with /purgeto to the last message to delete.")

    await run_command(update, context, "purgefrom", body)


def _purgeto_options(update: Update, context: BotContext):
    def parse(args: list[str], message) -> tuple[list[int], str]:
        mark = context.chat_data.get(PURGE_MARKS, {}).get(_marker(update))
        if mark is None or time.monotonic() - mark[1] > PURGE_MARK_SECONDS:
            raise UsageError("Mark the first message with /purgefrom (as a reply) first.")
        start, end = sorted((mark[0], message.reply_to_message.message_id))
        if end - start + 1 > PURGE_AT_MOST:
            raise UsageError(f"That is {end - start + 1} messages; one purge deletes at most {PURGE_AT_MOST}.")
        return [*range(start, end + 1), message.message_id], " ".join(args)

    return parse


async def purgeto(update: Update, context: BotContext) -> None:
    """Deletes from the asker's /purgefrom mark to the replied-to message (and the command)."""
    async def act(context, message, replied, ids):
        context.chat_data.get(PURGE_MARKS, {}).pop(_marker(update), None)
        return await _purge(context, message, None, ids)

    await _message_action(update, context, name="purgeto", action="purge", permission="DELETE_MESSAGES",
                          right="can_delete_messages", needs_reply=True, act=act,
                          done="Purged {count} messages.", parse=_purgeto_options(update, context))
