"""/rules in a group: a button opening the rules in a private chat (the deep link /start rules_<chat id>), or the
rules themselves when the group shows them in the chat (`rules_private` off); and that deep link's answer."""

import html
import logging
import re

from telegram import Update
from telegram.error import BadRequest, TelegramError
from telegram.ext import CommandHandler, filters

from apps.coreclient import CoreError, CoreUnavailable

from ..command_frame import run_command
from ..flows import UNAVAILABLE_REPLY, StopCommand, reply
from .welcome import RULES_PAYLOAD, rules_link

logger = logging.getLogger(__name__)

NO_RULES = "The admins of {title} haven't set any rules yet."
RULES_BUTTON = "Rules"
_START_RULES = re.compile(rf"^/start(?:@\w+)?\s+{RULES_PAYLOAD}(-?\d{{1,20}})\s*$")


async def _settings(context, chat_id: int):
    cache = context.bot_data.protection
    settings = cache.get(chat_id)
    if settings is not None:
        return settings
    try:
        return await cache.load(context.core, chat_id)
    except CoreUnavailable as exc:
        raise StopCommand(UNAVAILABLE_REPLY) from exc
    except CoreError as exc:  # a chat core does not know (a deep link to a group the bot never saw)
        logger.info("rules asked of an unknown chat", extra={"chat_id": chat_id, "error": exc.code})
        raise StopCommand("I don't know that group.") from exc


async def send_rules(update: Update, title: str, rules_text: str) -> None:
    """The rules in the message's chat, as HTML; rules whose HTML Telegram refuses go as plain text instead."""
    heading = f"The rules of <b>{html.escape(title)}</b>:\n\n"
    message = update.effective_message
    try:
        await message.reply_html(heading + rules_text, do_quote=False)
        return
    except BadRequest as exc:
        if "can't parse entities" not in exc.message.lower():
            logger.warning("rules not sent", extra={"chat_id": message.chat_id, "error": exc.message})
            return
    except TelegramError as exc:
        logger.warning("rules not sent", extra={"chat_id": message.chat_id, "error": str(exc)})
        return
    await reply(update, heading + html.escape(rules_text))


async def rules_command(update: Update, context) -> None:
    async def body():
        chat = update.effective_chat
        settings = await _settings(context, chat.id)
        title = chat.title or settings.title or "this group"
        if not settings.rules_text:
            raise StopCommand(NO_RULES.format(title=html.escape(title)))
        link = rules_link(context.bot.username, chat.id)
        if settings.rules_private and link:
            await reply(update, "Press the button to read this group's rules in a private chat with me.",
                        button=(RULES_BUTTON, link))
            return
        await send_rules(update, title, settings.rules_text)

    await run_command(update, context, "rules", body)


async def start_rules(update: Update, context) -> None:
    """/start rules_<chat id> in private: the deep link of a group's /rules (or its welcome's {rules} button)."""
    async def body():
        chat_id = int(_START_RULES.match(update.effective_message.text).group(1))
        settings = await _settings(context, chat_id)
        title = settings.title or "that group"
        if not settings.rules_text:
            raise StopCommand(NO_RULES.format(title=html.escape(title)))
        await send_rules(update, title, settings.rules_text)

    await run_command(update, context, "start", body, anywhere=True)


def handlers() -> list[CommandHandler]:
    """Register ahead of handlers.info's /start: this one takes only its own payload."""
    message_only = filters.UpdateType.MESSAGE
    return [
        CommandHandler("start", start_rules,
                       filters=message_only & filters.ChatType.PRIVATE & filters.Regex(_START_RULES)),
        CommandHandler("rules", rules_command, filters=message_only),
    ]
