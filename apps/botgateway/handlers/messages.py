"""/pin, /unpin, /del, /purge: commands that act on messages, recorded in core like any moderation action."""

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
                          right: str, needs_reply: bool, act, done: str) -> None:
    async def body():
        message, chat = update.effective_message, update.effective_chat
        replied = message.reply_to_message
        if needs_reply and replied is None:
            raise UsageError(f"Reply to the message you want to {name.removeprefix('un')}.")
        actor = await resolve_actor(context, message)
        await ensure_group(context, chat)
        await require_permission(context, chat, actor, permission)
        await require_bot_right(context, chat, right)
        record = await record_action(context, chat, actor, action,
                                     telegram_message_id=replied.message_id if replied else None,
                                     reason=" ".join(context.args or []))
        error = None
        try:
            details = await act(context, message, replied)
        except TelegramError as exc:
            error, details = exc, None
        await complete_action(context, record.action.id, error)
        if error is not None:
            raise StopCommand(f"Telegram refused: {html.escape(error.message)}")
        if done:
            await reply(update, done.format(**(details or {})))

    await run_command(update, context, name, body)


async def _pin(context, message, replied):
    await context.bot.pin_chat_message(message.chat_id, replied.message_id, disable_notification=True)


async def _unpin(context, message, replied):
    await context.bot.unpin_chat_message(message.chat_id, replied.message_id if replied else None)


async def _delete(context, message, replied):
    await context.bot.delete_messages(message.chat_id, [replied.message_id, message.message_id])


async def _purge(context, message, replied):
    """Deletes from the replied-to message up to the command, inside Telegram's 48-hour window."""
    if datetime.now(UTC) - replied.date > TELEGRAM_DELETE_WINDOW:
        raise StopCommand("Telegram only lets bots delete messages from the last 48 hours.")
    ids = list(range(replied.message_id, message.message_id + 1))
    started = time.monotonic()
    for start in range(0, len(ids), 100):
        await context.bot.delete_messages(message.chat_id, ids[start:start + 100])
    return {"count": len(ids), "seconds": round(time.monotonic() - started, 1)}


async def pin(update, context):
    await _message_action(update, context, name="pin", action="pin", permission="PIN_MESSAGES",
                          right="can_pin_messages", needs_reply=True, act=_pin, done="")


async def unpin(update, context):
    await _message_action(update, context, name="unpin", action="unpin", permission="PIN_MESSAGES",
                          right="can_pin_messages", needs_reply=False, act=_unpin, done="")


async def delete(update, context):
    await _message_action(update, context, name="del", action="delete", permission="DELETE_MESSAGES",
                          right="can_delete_messages", needs_reply=True, act=_delete, done="")


async def purge(update, context):
    await _message_action(update, context, name="purge", action="purge", permission="DELETE_MESSAGES",
                          right="can_delete_messages", needs_reply=True, act=_purge,
                          done="Purged {count} messages.")

