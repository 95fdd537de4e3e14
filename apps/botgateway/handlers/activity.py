"""Every message the bot sees becomes an event for core's analytics (sent in batches by the shipper)."""

import contextlib
from datetime import UTC, datetime

from telegram import Update
from telegram.ext import MessageHandler, filters

from ..context import BotContext
from ..flows import StopCommand, ensure_group, is_group
from ..metrics import BOT_UPDATES
from ..protection.antiflood import observe_message
from ..protection.content import observe_message_object


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


# The fields of a message that only needs counting: text from a person, no command, nothing that a handler other
# than `count` acts on (service messages, migrations, members joining or leaving carry other fields).
_PLAIN_MESSAGE_FIELDS = frozenset({"message_id", "from", "chat", "date", "text", "entities", "reply_to_message",
                                   "message_thread_id", "is_topic_message", "link_preview_options", "quote",
                                   "forward_origin", "has_protected_content"})


def plain_message_event(payload: object, known_chats) -> dict | None:
    """For the webhook: the event of an update that needs nothing but counting, read straight from Telegram's
    JSON (a plain text message from a person in a group core already knows), exactly as `event_for` would make it
    from python-telegram-bot's objects; None for anything else, which goes through the application. Plain messages
    are nearly all of a bot's traffic, and parsing each into python-telegram-bot's objects was a third of its CPU."""
    if type(payload) is not dict or payload.keys() != {"update_id", "message"}:
        return None
    message = payload["message"]
    if type(message) is not dict or not message.keys() <= _PLAIN_MESSAGE_FIELDS:
        return None
    chat, sender, text = message.get("chat"), message.get("from"), message.get("text")
    if type(chat) is not dict or type(sender) is not dict or type(text) is not str or text.startswith("/"):
        return None
    chat_id, chat_type = chat.get("id"), chat.get("type")
    message_id, date = message.get("message_id"), message.get("date")
    sender_id, first_name = sender.get("id"), sender.get("first_name")
    if (type(chat_id) is not int or chat_type not in ("group", "supergroup") or chat_id not in known_chats
            or type(message_id) is not int or type(date) is not int or type(sender_id) is not int
            or sender.get("is_bot") is not False or type(first_name) is not str):
        return None
    last_name, username = sender.get("last_name"), sender.get("username")
    if (last_name is not None and type(last_name) is not str) or (username is not None and type(username) is not str):
        return None
    full_name = f"{first_name} {last_name}" if last_name else first_name
    return {
        "event_id": f"{chat_id}:{message_id}",
        "telegram_chat_id": chat_id,
        "occurred_at": datetime.fromtimestamp(date, UTC).isoformat(),
        "type": "message",
        "telegram_user_id": sender_id,
        "username": username or "",
        "display_name": full_name[:255],
    }


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
    message = update.message
    if event["type"] in ("message", "command"):  # written by someone (service messages are not)
        observe_message(context.bot_data, message.chat.id, event["telegram_user_id"], message.message_id,
                        message.date.timestamp(), event.get("display_name", ""))
    if event["type"] != "leave":  # locks and the blocklist: messages, and members joining (bots added, names)
        observe_message_object(context.bot_data, message)


def handlers():
    # Group -1 runs before the command handlers, for every message, without stopping them (content.handlers() shares
    # the group with a handler of edits only: one handler per group runs).
    return [MessageHandler(filters.UpdateType.MESSAGE & filters.ChatType.GROUPS, count)]
