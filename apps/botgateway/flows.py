"""What every command shares: the group in core, the permission check, targets, the bot's own rights,
and the record of each action in core (requested, then executed or failed)."""

from __future__ import annotations

import html
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from telegram import (
    Chat,
    ChatMemberAdministrator,
    ChatMemberOwner,
    ChatMemberUpdated,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
    User,
)
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import TelegramError

from apps.common.error_codes import ErrorCode
from apps.coreclient import CoreError, CoreUnavailable, RecordedAction

from .parsing import TargetRef

if TYPE_CHECKING:  # for annotations only: the context holds protection state whose modules use these flows
    from .context import BotContext

logger = logging.getLogger(__name__)

UNAVAILABLE_REPLY = "The moderation service is temporarily unavailable. Please try again in a minute."
ANONYMOUS_ADMIN_BOT_ID = 1087968824  # Telegram's shared "GroupAnonymousBot": never a principal of its own

BOT_RIGHT_LABELS = {
    "can_restrict_members": "Ban users",
    "can_delete_messages": "Delete messages",
    "can_pin_messages": "Pin messages",
    "can_promote_members": "Add new admins",
}


class StopCommand(Exception):
    """Ends a command early; the message has been (or is) the reply. `code`: core's, when core refused."""

    def __init__(self, reply: str | None, code: str | None = None):
        super().__init__(reply)
        self.reply = reply
        self.code = code


class ProtectedTarget(StopCommand):
    """The target is the bot itself or the group's owner: nobody acts on them."""


class Denial(StopCommand):
    """Core refused the asker a permission: answered in private instead of the group when the group's
    denials_private is on (command_frame.run_command)."""


@dataclass(frozen=True)
class Actor:
    """Who issued a command: a Telegram user, or the group's anonymous admins (sent "as the group")."""

    telegram_user_id: int | None
    core_user_id: str | None
    display: str

    def check_kwargs(self) -> dict:
        if self.core_user_id is not None:
            return {"user_id": self.core_user_id}
        return {"telegram_user_id": self.telegram_user_id}

    def record_kwargs(self) -> dict:
        if self.core_user_id is not None:
            return {"actor_user_id": self.core_user_id}
        return {"actor_telegram_user_id": self.telegram_user_id}


def is_group(chat: Chat | None) -> bool:
    return chat is not None and chat.type in (ChatType.GROUP, ChatType.SUPERGROUP)


async def core_call(coroutine):
    """Awaits a core call; an outage becomes the short 'temporarily unavailable' reply."""
    try:
        return await coroutine
    except CoreUnavailable as exc:
        logger.warning("core unavailable during a command", extra={"error": str(exc)})
        raise StopCommand(UNAVAILABLE_REPLY) from exc


async def ensure_group(context: BotContext, chat: Chat) -> str:
    """Core's id for this chat. The first time this process meets a chat it registers it (idempotent in core)
    and syncs its administrators, so a group the bot joined before it started is governed like any other."""
    known = context.bot_data.groups.get(chat.id)
    if known is not None:
        return known
    kind = chat.type if chat.type in (ChatType.GROUP, ChatType.SUPERGROUP) else ChatType.SUPERGROUP
    group = await core_call(context.core.group_register(telegram_chat_id=chat.id, title=chat.title or str(chat.id),
                                                        type=kind))
    context.bot_data.groups[chat.id] = group.id
    try:
        await sync_admins(context, chat)
    except (CoreUnavailable, CoreError, TelegramError) as exc:
        logger.warning("admin sync failed; the next chat_member update or /sync repairs it",
                       extra={"chat_id": chat.id, "error": str(exc)})
    return group.id


async def sync_admins(context: BotContext, chat) -> dict:
    """Telegram's admin list -> core: creator becomes owner, administrators admin, anonymous ones the group's
    anonymous-admin principal."""
    group_id = await ensure_group(context, chat)
    admins = await context.bot.get_chat_administrators(chat.id)
    payload = []
    for admin in admins:
        if admin.user.is_bot:
            continue
        payload.append({
            "telegram_user_id": admin.user.id,
            "status": "creator" if isinstance(admin, ChatMemberOwner) else "administrator",
            "custom_title": getattr(admin, "custom_title", None) or "",
            "username": admin.user.username or "",
            "display_name": admin.user.full_name,
            "is_anonymous": bool(getattr(admin, "is_anonymous", False)),
        })
    synced = await context.core.group_admins_sync(group_id, admins=payload)
    # Admins on a ban list the group follows: its moderators are told (federations/enforce.py).
    context.bot_data.banlist_checks.check_admins(context.application, chat.id, [admin.user for admin in admins])
    return synced


async def resolve_actor(context: BotContext, message: Message) -> Actor:
    chat = message.chat
    if message.sender_chat is not None and message.sender_chat.id == chat.id:
        group_id = await ensure_group(context, chat)
        principal = (await core_call(context.core.group_anonymous_admin(group_id)))["user_id"]
        if principal is None:
            raise StopCommand("Anonymous admins have no permissions here yet. Ask the group owner to run /sync.")
        return Actor(telegram_user_id=None, core_user_id=principal, display="Anonymous admin")
    user = message.from_user
    if user is None or user.id == ANONYMOUS_ADMIN_BOT_ID:
        raise StopCommand(None)
    return Actor(telegram_user_id=user.id, core_user_id=None, display=user.mention_html())


async def core_user(context: BotContext, telegram_user_id: int, *, create: bool = False, **profile) -> dict | None:
    """Core's record of a Telegram account; with `create`, made first when core has never seen it."""
    found = (await core_call(context.core.user_list(telegram_user_id=telegram_user_id, limit=1)))["items"]
    if found:
        return found[0]
    if not create:
        return None
    try:
        return await core_call(context.core.user_create(username=f"tg{telegram_user_id}",
                                                        telegram_user_id=telegram_user_id, **profile))
    except CoreError as exc:
        if exc.code != ErrorCode.CONFLICT:
            raise
        # Created meanwhile for the update of another chat (chats are handled side by side): that record it is.
        found = (await core_call(context.core.user_list(telegram_user_id=telegram_user_id, limit=1)))["items"]
        if not found:
            raise
        return found[0]


# Why core denied, in the asker's words (a decision's reason, see the README's "Who may do what"); anything else
# (permission_not_granted, user_not_found: core has no grant for them) is the missing permission.
DENIAL_REASONS = {
    "group_inactive": "This group is switched off in the moderation service, so moderation commands do nothing "
                      "here until a platform admin turns it back on.",
    "user_inactive": "Your account is deactivated in the moderation service.",
    "not_a_member": "You hold {permission} here, but the moderation service does not count you as a member of this "
                    "group. Ask an admin to run /sync.",
    "banned_in_group": "You are banned in this group.",
}

# Core's refusals with the bot's own wording; any other code is answered with core's message.
CORE_REFUSALS = {
    ErrorCode.SERVICE_FORBIDDEN: "The moderation service does not allow this bot to do that.",
    ErrorCode.INTERNAL_ERROR: "The moderation service failed on that command; it is logged. Please try again later.",
}


def denial(permission: str, reason: str | None = None) -> StopCommand:
    text = DENIAL_REASONS.get(reason or "", "You need the {permission} permission to do that.")
    return StopCommand(text.format(permission=permission))


def core_refusal(error: CoreError) -> str:
    """What the user reads when core refuses a command's request: core's reason, never a vague apology."""
    denied = error.code == ErrorCode.PERMISSION_DENIED
    if denied and isinstance(error.details, dict) and error.details.get("permission"):
        return denial(error.details["permission"], error.details.get("reason")).reply
    if error.code in CORE_REFUSALS:
        return CORE_REFUSALS[error.code]
    return html.escape(error.message or error.code)


def _throttle_key(chat: Chat | None, actor: Actor) -> tuple:
    return chat.id if chat is not None else None, actor.telegram_user_id or actor.core_user_id


def refuse_throttled(context: BotContext, chat: Chat | None, actor: Actor) -> None:
    """A member whose commands core kept denying gets no answer, and core is not asked, for a while (`DenialThrottle`):
    their flood of denied commands costs neither core nor the chat's send budget."""
    if context.bot_data.denials.quiet(_throttle_key(chat, actor)):
        raise StopCommand(None)


def denied(context: BotContext, chat: Chat | None, actor: Actor, refusal: StopCommand) -> StopCommand:
    """Counts a denial of this member's. The one that uses up the throttle's allowance says what follows."""
    throttle, key = context.bot_data.denials, _throttle_key(chat, actor)
    if not throttle.note(key):
        return StopCommand(None, refusal.code)
    if throttle.quiet(key):
        minutes = max(1, round(throttle.quiet_seconds / 60))
        return Denial(f"{refusal.reply}\n(Too many refused commands: I'll ignore yours here for "
                      f"{minutes} minute{'s' if minutes != 1 else ''}.)", refusal.code)
    return Denial(refusal.reply, refusal.code)


async def require_permission(context: BotContext, chat: Chat | None, actor: Actor, permission: str) -> None:
    """Core decides; `chat=None` asks for a platform-wide (global) grant."""
    refuse_throttled(context, chat, actor)
    scope = {"telegram_chat_id": chat.id} if chat is not None else {}
    decision = await core_call(context.core.check_permission(permission=permission, **scope,
                                                             **actor.check_kwargs()))
    if not decision.allowed:
        raise denied(context, chat, actor, denial(permission, decision.reason))


async def resolve_target(context: BotContext, chat: Chat, ref: TargetRef) -> User | int:
    """The Telegram id of a target named by reply, id or @username (looked up in core)."""
    if ref.telegram_user_id is not None:
        return ref.telegram_user_id
    if names_the_bot(context, ref):
        raise ProtectedTarget(SELF_REFUSAL)
    matches = await _users_named(context, ref.username)
    if not matches and context.bot_data.shipper is not None and await context.shipper.deliver_pending():
        matches = await _users_named(context, ref.username)  # their first message was still on its way to core
    if len(matches) != 1:
        raise unknown_target(ref)
    return matches[0]["telegram_user_id"]


async def _users_named(context: BotContext, username: str) -> list[dict]:
    users = await core_call(context.core.user_list(telegram_username=username, limit=2))
    return [user for user in users["items"] if user["telegram_user_id"] is not None]


def unknown_target(ref: TargetRef) -> StopCommand:
    """A @username core has never seen (they have not written in a group the bot is in since it joined): what works
    instead."""
    return StopCommand(f"I haven't seen {ref.display} write yet, so I can't tell who that is. Reply to one of "
                       "their messages with the command, or name them by their numeric Telegram id.")


def names_the_bot(context: BotContext, ref: TargetRef) -> bool:
    """A target named by the bot's own @username: refused as the bot itself, never looked up."""
    own = context.bot.username or ""
    return bool(ref.username and own and ref.username.lower() == own.lower())




SELF_REFUSAL = "I won't do that to myself."


def refuse_self(context: BotContext, target_id: int) -> None:
    if target_id == context.bot.id:
        raise ProtectedTarget(SELF_REFUSAL)


async def refuse_protected_target(context: BotContext, chat: Chat, target_id: int) -> None:
    """Never act on the bot itself or on the group's owner. Telegram's answer is reused for a minute
    (a member is moderated several times in a row), and forgotten as soon as a chat_member update shows someone
    gaining or losing ownership (a transfer sends one for both people)."""
    refuse_self(context, target_id)
    owners, key = context.bot_data.owners, (chat.id, target_id)
    is_owner = owners.get(key)
    if is_owner is None:
        try:
            member = await context.bot.get_chat_member(chat.id, target_id)
        except TelegramError:
            return  # not in the chat (Telegram says so when we act); nothing to protect
        is_owner = isinstance(member, ChatMemberOwner) or member.status == ChatMemberStatus.OWNER
        owners[key] = is_owner
    if is_owner:
        raise ProtectedTarget("That's the group's owner: nobody can do that to them.")


def forget_owner_verdict(bot_data, chat_id: int, change: ChatMemberUpdated) -> None:
    """Drops what Telegram said about whether this member owns the chat when the update shows them gaining or
    losing ownership (a transfer sends one such update for each of the two people)."""
    if ChatMemberStatus.OWNER in (change.old_chat_member.status, change.new_chat_member.status):
        bot_data.owners.pop((chat_id, change.new_chat_member.user.id), None)


async def require_bot_right(context: BotContext, chat: Chat, right: str | None) -> None:
    if right is None:
        return
    me = context.bot_data.own_membership.get(chat.id)
    if me is None:
        me = await context.bot.get_chat_member(chat.id, context.bot.id)
        context.bot_data.own_membership[chat.id] = me
    if isinstance(me, ChatMemberOwner):
        return
    if not isinstance(me, ChatMemberAdministrator) or not getattr(me, right, False):
        label = BOT_RIGHT_LABELS.get(right, right)
        raise StopCommand(f"I need the '{label}' admin right ({right}) in this group to do that.")


async def record_action(context: BotContext, chat: Chat, actor: Actor, type: str, *, permission: str | None = None,
                        **fields) -> RecordedAction:
    """The action, recorded in core as requested. With `permission`, core first checks that the actor holds it in
    the group and outranks the target (on the audit trail like any check): one call instead of a check and then a
    record. Refused: core's reason as the reply (counted by the denial throttle), and nothing is recorded."""
    if permission is not None:
        refuse_throttled(context, chat, actor)
    try:
        return await core_call(context.core.moderation_record(
            type=type, telegram_chat_id=chat.id, **actor.record_kwargs(), permission=permission, **fields))
    except CoreError as exc:
        if permission is not None and exc.status_code == 403:
            raise denied(context, chat, actor, StopCommand(core_refusal(exc), exc.code)) from None
        raise


async def complete_action(context: BotContext, action_id: str, error: TelegramError | str | None) -> None:
    """Best effort: the action happened (or failed) on Telegram either way; core learns it when it can. A failure
    is Telegram's error, or the bot's own refusal (a str)."""
    message = error if isinstance(error, str) or error is None else error.message
    try:
        await context.core.moderation_complete(action_id, status="failed" if error else "executed", error=message)
    except (CoreUnavailable, CoreError) as exc:
        logger.warning("could not complete an action in core", extra={"action_id": action_id, "error": str(exc)})


async def reply(update: Update, text: str, *, button: tuple[str, str] | None = None) -> None:
    """Answers in the message's chat; `button`: (label, url) as an inline button under the answer."""
    message = update.effective_message
    if message is not None:
        markup = InlineKeyboardMarkup([[InlineKeyboardButton(button[0], url=button[1])]]) if button else None
        try:
            await message.reply_html(text, do_quote=False, reply_markup=markup)
        except TelegramError as exc:
            logger.warning("could not reply", extra={"error": str(exc), "chat_id": message.chat_id})
