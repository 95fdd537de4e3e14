"""The frame of every command, for the moderation handlers and the protection package alike: counted, group-only
unless `anywhere`, and a StopCommand, a usage error or core's refusal (its own reason, e.g. a duration out of range
or a rank it will not touch) answered in the chat.

In a group the frame also applies the group's command settings, read from the bot's cached protection settings (no
core call for a chat whose settings are cached):
- disabled commands (/disable): a member's use of one is ignored (deleted when disabled_delete); admins (those core
  lets manage the group's settings, MANAGE_SETTINGS: Telegram admins hold it through the admin role) still can.
  Core is asked only when the command is disabled there.
- clean_commands (/cleancommands): the command message is deleted once handled, whoever sent it.
- denials_private (/privatedenials): a denial is answered in private; in the group when Telegram will not let the
  bot write first (the member never started it) or the asker is an anonymous admin.
A handler asks for its command message to be deleted once handled (the silent variants, /sban...) with
`delete_command_after()`.
"""

import contextvars
import html
import logging
from dataclasses import dataclass

from telegram import Update
from telegram.error import TelegramError

from apps.common.error_codes import ErrorCode
from apps.coreclient import CoreError, CoreUnavailable

from .flows import ANONYMOUS_ADMIN_BOT_ID, Denial, StopCommand, core_refusal, is_group, reply
from .metrics import BOT_COMMANDS
from .parsing import UsageError

logger = logging.getLogger(__name__)

ADMIN_PERMISSION = "MANAGE_SETTINGS"  # who may still use a disabled command, and who may disable one


@dataclass
class _Frame:
    delete_command: bool = False


_frame: contextvars.ContextVar[_Frame | None] = contextvars.ContextVar("command_frame", default=None)


def delete_command_after() -> None:
    """The running command's message is deleted once it is handled (whatever the group's clean_commands)."""
    frame = _frame.get()
    if frame is not None:
        frame.delete_command = True


def setting(settings, name: str, default):
    """A group setting from the cached ProtectionSettings: its attribute, else its wire field, else `default`."""
    if settings is None:
        return default
    value = getattr(settings, name, None)
    if value is None:
        value = settings.get(name, default) if hasattr(settings, "get") else default
    return default if value is None else value


def typed_command(message) -> str:
    """The command as the sender typed it ('/Saved@some_bot args' -> 'saved'): an alias of a command is disabled
    by its own name too."""
    text = (message.text or message.caption or "") if message is not None else ""
    if not text.startswith("/"):
        return ""
    return text.split(None, 1)[0][1:].split("@", 1)[0].lower()


async def _delete(context, chat_id: int, message_id: int) -> None:
    try:
        await context.bot.delete_message(chat_id, message_id)
    except TelegramError as exc:  # no right to delete, or already gone: nothing else to do
        logger.info("command message not deleted", extra={"chat_id": chat_id, "error": str(exc)})


async def _group_settings(context, chat_id: int):
    """The chat's cached protection settings; loaded from core once when not cached (None: core away, or a chat it
    does not know yet). The protection package's protection_settings, which this frame below it cannot import."""
    cache = context.bot_data.protection
    cached = cache.get(chat_id)
    if cached is not None:
        return cached
    try:
        return await cache.load(context.core, chat_id)
    except (CoreUnavailable, CoreError) as exc:
        logger.info("protection settings unavailable for a command", extra={"chat_id": chat_id, "error": str(exc)})
        return None


async def may_use_disabled(update: Update, context) -> bool:
    """Whether the sender may still use a command disabled in the group: core's MANAGE_SETTINGS in the group, for
    the sender (an anonymous admin: the group's anonymous-admin principal). Core away: no."""
    message, chat = update.effective_message, update.effective_chat
    try:
        if message.sender_chat is not None and message.sender_chat.id == chat.id:
            group_id = context.bot_data.groups.get(chat.id)
            if group_id is None:
                return False
            principal = (await context.core.group_anonymous_admin(group_id))["user_id"]
            if principal is None:
                return False
            actor = {"user_id": principal}
        else:
            user = message.from_user
            if user is None or user.id == ANONYMOUS_ADMIN_BOT_ID:
                return False
            actor = {"telegram_user_id": user.id}
        decision = await context.core.check_permission(permission=ADMIN_PERMISSION, telegram_chat_id=chat.id,
                                                       **actor)
    except (CoreUnavailable, CoreError) as exc:
        logger.info("disabled command: the sender's permission could not be checked", extra={"error": str(exc)})
        return False
    return decision.allowed


async def _answer_denial(update: Update, context, settings, text: str) -> None:
    """A denial: in private when the group asks for it and Telegram lets the bot write to the member first;
    otherwise in the group."""
    message, chat = update.effective_message, update.effective_chat
    user = message.from_user if message is not None else None
    private = (is_group(chat) and setting(settings, "denials_private", False) and user is not None
               and message.sender_chat is None and user.id != ANONYMOUS_ADMIN_BOT_ID)
    if private:
        title = html.escape(chat.title or "the group")
        try:
            await context.bot.send_message(user.id, f"In {title}: {text}")
            return
        except TelegramError as exc:  # 403: they never started the bot (or blocked it): the group it is
            logger.info("denial not sent privately", extra={"chat_id": chat.id, "error": str(exc)})
    await reply(update, text)


async def run_command(update, context, name: str, body, *, anywhere: bool = False) -> None:
    BOT_COMMANDS.labels(command=name).inc()
    chat, message = update.effective_chat, update.effective_message
    if not anywhere and not is_group(chat):
        await reply(update, "This command works in groups.")
        return
    settings = None
    if is_group(chat):
        settings = await _group_settings(context, chat.id)
        disabled = setting(settings, "disabled_commands", ())
        if disabled and (name in disabled or typed_command(message) in disabled) \
                and not await may_use_disabled(update, context):
            if setting(settings, "disabled_delete", False):
                await _delete(context, chat.id, message.message_id)
            return
    frame = _Frame()
    token = _frame.set(frame)
    try:
        await body()
    except Denial as stop:
        if stop.reply:
            await _answer_denial(update, context, settings, stop.reply)
    except StopCommand as stop:
        if stop.reply:
            await reply(update, stop.reply)
    except UsageError as usage:
        await reply(update, html.escape(str(usage)))
    except CoreError as refused:
        if refused.code == ErrorCode.PERMISSION_DENIED:
            await _answer_denial(update, context, settings, core_refusal(refused))
        else:
            await reply(update, core_refusal(refused))
    finally:
        _frame.reset(token)
    if is_group(chat):
        settings = context.bot_data.protection.get(chat.id) or settings  # as the command may have changed them
    if is_group(chat) and message is not None and (frame.delete_command
                                                   or setting(settings, "clean_commands", False)):
        await _delete(context, chat.id, message.message_id)
