"""The one handler for members joining and leaving a group (protection's side; handlers/lifecycle.py keeps core's
membership, in an earlier handler group, so core knows a joining admin as one before captcha asks core).

Telegram tells a join twice when the bot may see both: a chat_member update (admin bots that asked for them) and the
`new_chat_members` service message; a leave likewise (`left_chat_member`). Whichever comes first is handled, the
other is recognised as the same event: per (chat, member), the last event handled (join or leave) is remembered for
a while, so a join after a leave is a new join and a join after a join is the same one. Updates of a chat are
handled in order (ordering.py), so the two never race.

On join: the content rules (content.py: the "bot" lock on whoever added a bot, blocklisted names when the group
checks them; bots' joins too, once per join whichever telling comes first) -> antiraid (may remove the joiner, or ask
for a challenge) -> captcha when the group has it on or the raid asked (not for a member who comes back muted:
Telegram keeps a restriction across leaving, and a solved challenge would lift it) -> the welcome when no challenge
was started (a solved challenge sends it). A joiner the content rules remove or mute gets neither challenge nor
welcome. On leave: the goodbye (not to a member who was removed). The join's and leave's service messages are
deleted when the group cleans them (welcome.clean_service_message).
"""

import logging

from telegram import ChatMember, ChatMemberUpdated, Update, User
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import TelegramError
from telegram.ext import ChatMemberHandler, MessageHandler, filters

from . import captcha, content
from .antiraid import on_join
from .settings_cache import protection_settings
from .welcome import clean_service_message, send_goodbye, send_welcome

logger = logging.getLogger(__name__)

JOIN, LEAVE = "join", "leave"
REMOVED_BY_RAID = frozenset({"kicked", "banned", "muted"})
REMOVED_BY_CONTENT = frozenset({"mute", "tmute", "kick", "ban", "tban"})


def is_group(chat) -> bool:
    return chat is not None and chat.type in (ChatType.GROUP, ChatType.SUPERGROUP)


def _is_in(member: ChatMember) -> bool:
    if member.status in (ChatMemberStatus.MEMBER, ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER):
        return True
    return member.status == ChatMemberStatus.RESTRICTED and bool(getattr(member, "is_member", False))


def member_change(change: ChatMemberUpdated) -> str | None:
    """JOIN, LEAVE, or None (a change of rights, a promotion: neither)."""
    was_in, now_in = _is_in(change.old_chat_member), _is_in(change.new_chat_member)
    if now_in and not was_in:
        return JOIN
    if was_in and not now_in:
        return LEAVE
    return None


def first_sight(bot_data, chat_id: int, user_id: int, kind: str) -> bool:
    """True the first time this join (or leave) is told; False for its second telling (BotData.member_events)."""
    seen = bot_data.member_events
    key = (chat_id, user_id)
    if seen.get(key) == kind:
        return False
    seen[key] = kind
    return True


async def on_chat_member(update: Update, context) -> None:
    change = update.chat_member
    if not is_group(change.chat):
        return
    kind = member_change(change)
    user = change.new_chat_member.user
    if kind == JOIN:  # bots too: the "bot" lock
        await check_content(context, change.chat, [user], change.from_user)
    elif kind == LEAVE:
        content.member_left(context.bot_data, change.chat.id, user.id)
    if user.is_bot:
        return
    if kind == JOIN:
        await joined(context, change.chat, change.new_chat_member.user, change.new_chat_member)
    elif kind == LEAVE:
        removed = change.new_chat_member.status == ChatMemberStatus.BANNED
        await left(context, change.chat, change.new_chat_member.user, removed=removed)


async def on_service_message(update: Update, context) -> None:
    message = update.effective_message
    if message is None or not is_group(message.chat):
        return
    if message.new_chat_members:
        await check_content(context, message.chat, list(message.new_chat_members), message.from_user,
                            message.message_id)
    for user in message.new_chat_members or ():
        if not user.is_bot:
            await joined(context, message.chat, user)
    gone = message.left_chat_member
    if gone is not None:
        content.member_left(context.bot_data, message.chat.id, gone.id)
    if gone is not None and not gone.is_bot:
        removed = message.from_user is not None and message.from_user.id != gone.id
        await left(context, message.chat, gone, removed=removed)
    await clean_service_message(context, message)


async def joined(context, chat, user: User, member: ChatMember | None = None) -> None:
    """`member`: the joiner as the chat_member update shows them (None from a service message)."""
    if not first_sight(context.bot_data, chat.id, user.id, JOIN):
        return
    settings = await protection_settings(context, chat.id)
    if settings is None:
        return  # core away and nothing cached: no protection decision can be made
    if settings.ban_lists and await context.bot_data.banlist_checks.check_join(context, chat, user, settings):
        return  # on a ban list the group follows: banned (federations/enforce.py)
    raid = await on_join(context, chat, user, settings)
    if raid in REMOVED_BY_RAID:
        return
    verdict = content.join_verdict(context.bot_data, chat.id, user.id)
    if verdict is not None and verdict.mode in REMOVED_BY_CONTENT:
        return  # a blocklisted name, removed or muted: no challenge (a right answer would lift a mute), no welcome
    challenged = False
    if raid == "captcha" or settings.captcha_enabled:
        if await _muted_before(context, chat, user, member):
            return  # a restriction outlives leaving: asking would lift it on a right answer
        challenged = await captcha.start_challenge(context, chat, user, settings,
                                                   reason="raid" if raid == "captcha" else "join")
    if not challenged:
        await send_welcome(context, chat, user, settings)


async def check_content(context, chat, users: list[User], adder: User | None, message_id: int | None = None) -> None:
    """Locks and the blocklist on members joining (the "bot" lock, blocklisted names: content.py), once per join
    whichever telling of it arrives first; the join message, when this telling has one, goes with the act."""
    settings = await protection_settings(context, chat.id)
    if settings is None or settings.rules.empty:
        return
    content.observe_join(context.bot_data, settings, chat.to_dict(), [user.to_dict() for user in users],
                         adder.to_dict() if adder is not None else None, message_id)


async def left(context, chat, user: User, *, removed: bool = False) -> None:
    """A member left (`removed`: an admin or the bot removed them; they get no goodbye)."""
    if not first_sight(context.bot_data, chat.id, user.id, LEAVE) or removed:
        return
    settings = await protection_settings(context, chat.id)
    if settings is None:
        return
    await send_goodbye(context, chat, user, settings)


async def _muted_before(context, chat, user: User, member: ChatMember | None) -> bool:
    """Whether the joiner comes back muted (an admin's mute, or a failed challenge that keeps them muted)."""
    if member is None:
        try:
            member = await context.bot.get_chat_member(chat.id, user.id)
        except TelegramError:
            return False
    return member.status == ChatMemberStatus.RESTRICTED and not getattr(member, "can_send_messages", True)


def handlers():
    """For a handler group of their own, after lifecycle's (which takes chat_member updates first)."""
    return [
        ChatMemberHandler(on_chat_member, ChatMemberHandler.CHAT_MEMBER),
        MessageHandler(filters.ChatType.GROUPS & (filters.StatusUpdate.NEW_CHAT_MEMBERS
                                                  | filters.StatusUpdate.LEFT_CHAT_MEMBER), on_service_message),
        *captcha.handlers(),
    ]
