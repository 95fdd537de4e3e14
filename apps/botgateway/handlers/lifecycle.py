"""The bot joining and leaving groups, members coming and going, admins changing, chat migrations."""

import logging

from telegram import ChatMemberAdministrator, ChatMemberUpdated, Update
from telegram.constants import ChatMemberStatus
from telegram.error import TelegramError
from telegram.ext import ChatMemberHandler, MessageHandler, filters

from apps.coreclient import CoreError, CoreUnavailable

from ..context import BotContext
from ..flows import StopCommand, core_user, ensure_group, forget_owner_verdict, is_group, sync_admins

logger = logging.getLogger(__name__)

PRESENT = {ChatMemberStatus.MEMBER, ChatMemberStatus.RESTRICTED, ChatMemberStatus.ADMINISTRATOR,
           ChatMemberStatus.OWNER}
CORE_STATUS = {
    ChatMemberStatus.MEMBER: "member",
    ChatMemberStatus.ADMINISTRATOR: "member",
    ChatMemberStatus.OWNER: "member",
    ChatMemberStatus.RESTRICTED: "restricted",
    ChatMemberStatus.LEFT: "left",
    ChatMemberStatus.BANNED: "banned",
}


async def _guarded(description: str, coroutine) -> None:
    """Lifecycle bookkeeping never breaks update processing: a failure is logged, the next event repairs it."""
    try:
        await coroutine
    except (CoreUnavailable, CoreError, TelegramError) as exc:
        logger.warning(f"{description} failed", extra={"error": str(exc)})


async def my_chat_member(update: Update, context: BotContext) -> None:
    change: ChatMemberUpdated = update.my_chat_member
    chat = change.chat
    context.bot_data.own_membership.pop(chat.id, None)  # the bot's rights there just changed
    if not is_group(chat):
        return
    now_in = change.new_chat_member.status in PRESENT
    was_in = change.old_chat_member.status in PRESENT
    if now_in and not was_in:
        context.bot_data.groups.pop(chat.id, None)  # registers again and syncs the admins
        group_id = await ensure_group(context, chat)
        await _guarded("reactivating a group", context.core.group_update(group_id, is_active=True, title=chat.title))
    elif was_in and not now_in:
        group_id = await ensure_group(context, chat)
        await _guarded("deactivating a group", context.core.group_update(group_id, is_active=False))
    elif isinstance(change.new_chat_member, ChatMemberAdministrator) != isinstance(
            change.old_chat_member, ChatMemberAdministrator):
        try:
            await sync_admins(context, chat)
        except (CoreUnavailable, StopCommand) as exc:
            await _resync_later(context, chat.id, None, exc)
        except (CoreError, TelegramError) as exc:
            logger.warning("admin sync failed", extra={"error": str(exc)})


async def chat_member(update: Update, context: BotContext) -> None:
    change: ChatMemberUpdated = update.chat_member
    chat = change.chat
    if not is_group(chat):
        return
    old, new = change.old_chat_member, change.new_chat_member
    forget_owner_verdict(context.bot_data, chat.id, change)
    if new.user.is_bot:
        return
    admin_before = old.status in (ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER)
    admin_now = new.status in (ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER)
    try:
        await apply_member(context, chat, new)
        if admin_before != admin_now or getattr(old, "is_anonymous", False) != getattr(new, "is_anonymous", False):
            await sync_admins(context, chat)
    except (CoreUnavailable, StopCommand) as exc:
        # Core must not keep a demoted admin's role, or a banned member's membership, because it was away.
        await _resync_later(context, chat.id, new.user.id, exc)


async def apply_member(context: BotContext, chat, member) -> None:
    """Core's membership of `member` (a ChatMember) in `chat`, as Telegram has it."""
    user = member.user
    group_id = await ensure_group(context, chat)
    user_id = (await core_user(context, user.id, create=True, telegram_username=user.username or "",
                               display_name=user.full_name))["id"]
    status = CORE_STATUS.get(member.status, "left")
    await context.core.member_set(group_id, user_id=user_id, status=status,
                                  is_admin=member.status in (ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER),
                                  custom_title=getattr(member, "custom_title", None) or "")


async def _resync_later(context: BotContext, chat_id: int, user_id: int | None, exc: Exception) -> None:
    logger.warning("core unavailable: the change is synced from Telegram once core is back",
                   extra={"chat_id": chat_id, "telegram_user_id": user_id, "error": str(exc)})
    await context.shipper.mark_resync(chat_id, user_id)


async def migrated(update: Update, context: BotContext) -> None:
    message = update.effective_message
    if message.migrate_to_chat_id is None:
        return  # the supergroup's side of the pair says the same thing again
    group_id = await ensure_group(context, message.chat)
    await context.core.group_migrate(group_id, new_telegram_chat_id=message.migrate_to_chat_id)
    context.bot_data.groups.pop(message.chat.id, None)
    context.bot_data.groups[message.migrate_to_chat_id] = group_id


def handlers():
    return [
        ChatMemberHandler(my_chat_member, ChatMemberHandler.MY_CHAT_MEMBER),
        ChatMemberHandler(chat_member, ChatMemberHandler.CHAT_MEMBER),
        MessageHandler(filters.StatusUpdate.MIGRATE, migrated),
    ]
