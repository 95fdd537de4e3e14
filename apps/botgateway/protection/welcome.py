"""Welcome and goodbye messages, clean-welcome and service-message cleanup (the group's settings decide each).

joins.py calls these: `send_welcome` when a member joined and no challenge was started (captcha calls it once a
challenge is solved), `send_goodbye` when one left, `clean_service_message` for each join/leave service message.
Every one is best effort: a greeting Telegram refuses is logged, never retried, and never stops the join's handling.

Clean-welcome: the id of the group's last welcome is kept in core (POST /api/protection/welcome-message swaps it and
answers the one before), not in this process: after a restart, or from another replica, the next welcome still
deletes the previous one. It costs one core call per welcome, and only in groups with clean-welcome on.
"""

import logging

from telegram import Chat, InlineKeyboardButton, InlineKeyboardMarkup, Message, User
from telegram.constants import ParseMode
from telegram.error import BadRequest, TelegramError

from apps.common.welcome import (
    DEFAULT_GOODBYE,
    DEFAULT_WELCOME,
    GreetingButton,
    GreetingMember,
    RenderedGreeting,
    render_greeting,
)
from apps.coreclient import CoreError, CoreUnavailable

from .settings_cache import protection_settings

logger = logging.getLogger(__name__)

RULES_PAYLOAD = "rules_"  # /start rules_<chat id>: the deep link that opens a group's rules in private


def rules_link(bot_username: str | None, chat_id: int) -> str | None:
    """The deep link that opens the group's rules in a private chat with the bot."""
    return f"https://t.me/{bot_username}?start={RULES_PAYLOAD}{chat_id}" if bot_username else None


def keyboard(buttons: tuple[GreetingButton, ...]) -> InlineKeyboardMarkup | None:
    rows = [[InlineKeyboardButton(button.text, url=button.url)] for button in buttons if button.url]
    return InlineKeyboardMarkup(rows) if rows else None


def greeting_member(user: User) -> GreetingMember:
    return GreetingMember(id=user.id, first_name=user.first_name or "", last_name=user.last_name or "",
                          username=user.username or "")


async def _member_count(context, chat_id: int) -> int | None:
    try:
        return await context.bot.get_chat_member_count(chat_id)
    except TelegramError as exc:
        logger.info("no member count for a greeting", extra={"chat_id": chat_id, "error": str(exc)})
        return None


async def render_for(context, chat: Chat, user: User, template: str) -> RenderedGreeting:
    count = await _member_count(context, chat.id) if "{count}" in template else None
    return render_greeting(template, member=greeting_member(user), chat_title=chat.title or "", count=count,
                           rules_url=rules_link(context.bot.username, chat.id))


async def send_greeting(context, chat_id: int, rendered: RenderedGreeting) -> Message | None:
    """Sends the rendered text as HTML. A template whose HTML Telegram refuses (saved before it was checked) is sent
    as plain text rather than not at all."""
    markup = keyboard(rendered.buttons)
    try:
        return await context.bot.send_message(chat_id, rendered.text, parse_mode=ParseMode.HTML, reply_markup=markup)
    except BadRequest as exc:
        if "can't parse entities" not in exc.message.lower():
            logger.warning("greeting not sent", extra={"chat_id": chat_id, "error": exc.message})
            return None
        logger.warning("greeting's HTML refused by Telegram: sent as plain text",
                       extra={"chat_id": chat_id, "error": exc.message})
    except TelegramError as exc:
        logger.warning("greeting not sent", extra={"chat_id": chat_id, "error": str(exc)})
        return None
    try:
        return await context.bot.send_message(chat_id, rendered.text, parse_mode=None, reply_markup=markup)
    except TelegramError as exc:
        logger.warning("greeting not sent", extra={"chat_id": chat_id, "error": str(exc)})
        return None


async def _delete(context, chat_id: int, message_id: int, what: str) -> bool:
    try:
        await context.bot.delete_message(chat_id, message_id)
        return True
    except TelegramError as exc:  # gone already, older than 48 hours, or the bot lacks "Delete messages"
        logger.info(f"{what} not deleted", extra={"chat_id": chat_id, "message_id": message_id, "error": str(exc)})
        return False


async def send_welcome(context, chat: Chat, user: User, settings) -> Message | None:
    """The group's welcome for `user` (Rose's default text when none is set), when welcomes are on; with
    clean-welcome, the previous welcome is deleted. Returns the message sent, or None."""
    if settings is None or not settings.welcome_enabled or user.is_bot:
        return None
    rendered = await render_for(context, chat, user, settings.welcome_text or DEFAULT_WELCOME)
    message = await send_greeting(context, chat.id, rendered)
    if message is None or not settings.clean_welcome:
        return message
    try:
        answer = await context.core.welcome_message(telegram_chat_id=chat.id, telegram_message_id=message.message_id)
    except (CoreUnavailable, CoreError) as exc:
        logger.warning("previous welcome unknown: not deleted", extra={"chat_id": chat.id, "error": str(exc)})
        return message
    previous = answer.get("previous_message_id")
    if previous:
        await _delete(context, chat.id, previous, "previous welcome")
    return message


async def send_goodbye(context, chat: Chat, user: User, settings) -> Message | None:
    """The group's goodbye for `user`, when goodbyes are on. Returns the message sent, or None."""
    if settings is None or not settings.goodbye_enabled or user.is_bot:
        return None
    rendered = await render_for(context, chat, user, settings.goodbye_text or DEFAULT_GOODBYE)
    return await send_greeting(context, chat.id, rendered)


def is_member_service_message(message: Message | None) -> bool:
    return message is not None and bool(message.new_chat_members or message.left_chat_member)


async def clean_service_message(context, message: Message, settings=None) -> bool:
    """Deletes a join or leave service message when the group cleans them (`settings.clean_service`; the cached
    settings when none are given). Returns whether it was deleted."""
    if not is_member_service_message(message):
        return False
    if settings is None:
        settings = await protection_settings(context, message.chat_id)
    if settings is None or not settings.clean_service:
        return False
    return await _delete(context, message.chat_id, message.message_id, "service message")
