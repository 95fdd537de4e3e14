"""Every message the bot sees becomes an event for core's analytics (sent in batches by the shipper)."""

import contextlib

from telegram import Update
from telegram.ext import MessageHandler, filters

from ..context import BotContext
from ..flows import StopCommand, ensure_group, is_group
from ..metrics import BOT_UPDATES


def event_for(update: Update) -> dict | None:
    message = update.message
    if message is None or not is_group(message.chat):
        return None
    sender = message.from_user
    base = {
        "event_id": f"{message.chat.id}:{message.message_id}",
        "telegram_chat_id": message.chat.id,
        "occurred_at": message.date.isoformat(),
    }
    anonymous = message.sender_chat is not None
    if message.new_chat_members:
        member = message.new_chat_members[0]
        return {**base, "type": "join", "telegram_user_id": member.id, "username": member.username or "",
                "display_name": member.full_name}
    if message.left_chat_member:
        member = message.left_chat_member
        return {**base, "type": "leave", "telegram_user_id": member.id, "username": member.username or "",
                "display_name": member.full_name}
    user = None if anonymous or sender is None else sender.id
    command = None
    if message.text and message.text.startswith("/"):
        command = message.text.split()[0][1:].split("@")[0][:64]
    event = {**base, "type": "command" if command else "message", "telegram_user_id": user}
    if command:
        event["command"] = command
    if sender is not None and not anonymous:
        event["username"] = sender.username or ""
        event["display_name"] = sender.full_name[:255]
    return event


async def count(update: Update, context: BotContext) -> None:
    BOT_UPDATES.labels(kind="message").inc()
    event = event_for(update)
    if event is None:
        return
    if event["telegram_chat_id"] not in context.bot_data.groups:
        # Core must know the group before its events arrive; the first message registers it.
        with contextlib.suppress(StopCommand):  # core down: counted anyway, the outbox keeps it
            await ensure_group(context, update.effective_chat)
    context.shipper.record(event)


def handlers():
    # Group -1 runs before the command handlers, for every message, without stopping them.
    return [MessageHandler(filters.UpdateType.MESSAGE & filters.ChatType.GROUPS, count)]
