"""Moderation commands. Each one: core decides (check-permission in the group), the bot checks its own
Telegram rights, never touches the owner or itself, records the action in core as requested, acts on
Telegram, and completes the record as executed or failed with Telegram's error."""

import asyncio
import html
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from telegram import ChatPermissions, Update
from telegram.error import TelegramError
from telegram.ext import CommandHandler, filters

from apps.common.error_codes import ErrorCode
from apps.coreclient import CoreError, RecordedAction

from ..context import BotContext
from ..flows import (
    Actor,
    ProtectedTarget,
    StopCommand,
    complete_action,
    core_call,
    core_refusal,
    core_user,
    ensure_group,
    is_group,
    names_the_bot,
    record_action,
    refuse_protected_target,
    refuse_self,
    reply,
    require_bot_right,
    require_permission,
    resolve_actor,
    resolve_target,
    unknown_target,
)
from ..metrics import BOT_COMMANDS
from ..parsing import Duration, ParsedCommand, TargetRef, UsageError, parse_target_args

TELEGRAM_DELETE_WINDOW = timedelta(hours=48)

Act = Callable[[BotContext, int, int, int | None], Awaitable[object]]


TELEGRAM_LONGEST_RESTRICTION = timedelta(days=366)  # Telegram reads anything shorter than 30 s or longer as forever


def _until(seconds: int | None) -> datetime | None:
    """When a restriction of `seconds` ends. A second more than asked, up to Telegram's longest: core and Telegram
    measure from when they receive it, and a "30s" that arrives as 29.99 s is refused by core (Telegram would read
    it as forever). 0 is a duration too ("/tmute @x 0m"): core refuses it as too short, never read as forever."""
    if seconds is None:
        return None
    return datetime.now(UTC) + min(timedelta(seconds=seconds + 1), TELEGRAM_LONGEST_RESTRICTION)


async def _ban(context, chat_id, user_id, seconds):
    await context.bot.ban_chat_member(chat_id, user_id, until_date=_until(seconds))


async def _unban(context, chat_id, user_id, seconds):
    await context.bot.unban_chat_member(chat_id, user_id, only_if_banned=True)


async def _kick(context, chat_id, user_id, seconds):
    await context.bot.ban_chat_member(chat_id, user_id)
    await context.bot.unban_chat_member(chat_id, user_id, only_if_banned=True)


async def _mute(context, chat_id, user_id, seconds):
    await context.bot.restrict_chat_member(chat_id, user_id, ChatPermissions.no_permissions(),
                                           until_date=_until(seconds))


async def _unmute(context, chat_id, user_id, seconds):
    # Only all-true permissions lift a restriction; the chat's defaults still apply to everyone.
    await context.bot.restrict_chat_member(chat_id, user_id, ChatPermissions.all_permissions())


_MODERATOR_RIGHTS = {"can_delete_messages": True, "can_restrict_members": True, "can_pin_messages": True,
                     "can_invite_users": True, "can_manage_chat": True}


async def _promote(context, chat_id, user_id, seconds):
    await context.bot.promote_chat_member(chat_id, user_id, **_MODERATOR_RIGHTS)


async def _demote(context, chat_id, user_id, seconds):
    await context.bot.promote_chat_member(chat_id, user_id, **dict.fromkeys(_MODERATOR_RIGHTS, False))


NO_DURATION = "/{name} takes no duration ({{token}} reads as one): {why}"
STAY_OUT = "to keep someone out for a while, /tban (user) 10m [reason]."
SPEAK_LATER = "to silence someone for a while, /tmute (user) 10m [reason]."


@dataclass(frozen=True)
class TargetCommand:
    """A command that acts on one member. `duration` (parsing.Duration): REQUIRED (/tban, /tmute), OPTIONAL (/ban,
    /mute: a duration-like token right after the target is applied, and the reply says for how long) or REFUSED
    (the action is never temporary: such a token is a usage error, `no_duration` says why)."""

    name: str
    action: str
    permission: str
    bot_right: str
    act: Act
    done: str  # the reply; with a duration, `done_for`
    duration: str = Duration.REFUSED
    done_for: str = ""
    no_duration: str = ""

    @property
    def usage(self) -> str:
        duration = {Duration.REQUIRED: " <duration>", Duration.OPTIONAL: " [duration]"}.get(self.duration, "")
        return f"/{self.name} (reply, @username or id){duration} [reason]"

    @property
    def refused_duration(self) -> str:
        return NO_DURATION.format(name=self.name, why=self.no_duration or f"a {self.action} is never temporary.")


TARGET_COMMANDS = [
    TargetCommand("ban", "ban", "BAN_USERS", "can_restrict_members", _ban, "{target} is banned.",
                  Duration.OPTIONAL, "{target} is banned for {duration}."),
    TargetCommand("tban", "ban", "BAN_USERS", "can_restrict_members", _ban, "{target} is banned for {duration}.",
                  Duration.REQUIRED, "{target} is banned for {duration}."),
    TargetCommand("unban", "unban", "BAN_USERS", "can_restrict_members", _unban, "{target} may come back.",
                  no_duration="it lifts the ban now."),
    TargetCommand("kick", "kick", "KICK_USERS", "can_restrict_members", _kick, "{target} was kicked.",
                  no_duration=f"a kicked member may rejoin at once; {STAY_OUT}"),
    TargetCommand("mute", "mute", "MUTE_USERS", "can_restrict_members", _mute, "{target} is muted.",
                  Duration.OPTIONAL, "{target} is muted for {duration}."),
    TargetCommand("tmute", "mute", "MUTE_USERS", "can_restrict_members", _mute, "{target} is muted for {duration}.",
                  Duration.REQUIRED, "{target} is muted for {duration}."),
    TargetCommand("unmute", "unmute", "MUTE_USERS", "can_restrict_members", _unmute, "{target} may speak again.",
                  no_duration="it lifts the mute now."),
    TargetCommand("promote", "promote", "MANAGE_ADMINS", "can_promote_members", _promote, "{target} is now an admin."),
    TargetCommand("demote", "demote", "MANAGE_ADMINS", "can_promote_members", _demote,
                  "{target} is no longer an admin."),
]
WARN_NO_DURATION = NO_DURATION.format(name="warn", why=f"warnings stay until removed; {SPEAK_LATER}")


def _describe(seconds: int) -> str:
    for unit, size in (("week", 604800), ("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds} seconds"


def _reply_target(update: Update) -> TargetRef | None:
    replied = update.effective_message.reply_to_message
    if replied is None or replied.from_user is None:
        return None
    return TargetRef(telegram_user_id=replied.from_user.id, display=replied.from_user.mention_html())


async def run_command(update: Update, context: BotContext, name: str, body, *, anywhere: bool = False) -> None:
    """The frame of every command (group commands unless `anywhere`): counts it, turns StopCommand, usage errors
    and core's refusals (its own reason, e.g. a duration out of range or a rank it will not touch) into replies."""
    BOT_COMMANDS.labels(command=name).inc()
    if not anywhere and not is_group(update.effective_chat):
        await reply(update, "This command works in groups.")
        return
    try:
        await body()
    except StopCommand as stop:
        if stop.reply:
            await reply(update, stop.reply)
    except UsageError as usage:
        await reply(update, html.escape(str(usage)))
    except CoreError as refused:
        await reply(update, core_refusal(refused))


async def perform(context: BotContext, update: Update, actor, command_action: str, act: Act, target_id: int,
                  seconds: int | None, reason: str, done: str) -> RecordedAction:
    """Records, acts, completes. Returns the core record; replies with Telegram's error on failure."""
    record = await record_action(context, update.effective_chat, actor, command_action,
                                 target_telegram_user_id=target_id, reason=reason, until=_until(seconds))
    await execute(context, update, record, act, target_id, seconds, done)
    return record


async def execute(context: BotContext, update: Update, record: RecordedAction, act: Act, target_id: int,
                  seconds: int | None, done: str) -> None:
    """Acts on Telegram, replies, and completes the recorded action as executed or failed with Telegram's error."""
    error = None
    try:
        await act(context, update.effective_chat.id, target_id, seconds)
    except TelegramError as exc:
        error = exc
    if error is None and done:
        await reply(update, done)  # the user hears first; core learns the outcome right after
    await complete_action(context, record.action.id, error)
    if error is not None:
        raise StopCommand(f"Telegram refused: {html.escape(error.message)}")


@dataclass(frozen=True)
class Targeted:
    actor: Actor
    parsed: ParsedCommand
    target_id: int | None  # None: named by @username, which core resolves with the request (`request_action`)


async def targeted_member(update: Update, context: BotContext, *, duration: str | None = Duration.REFUSED,
                          refused_duration: str = "") -> Targeted:
    """Parse, who asks, whom it targets; core's decision and its reading of a @username are left to the request
    (`request_action`)."""
    message, chat = update.effective_message, update.effective_chat
    parsed = parse_target_args(context.args or [], reply_from=_reply_target(update), duration=duration,
                               refused_duration=refused_duration)
    if parsed.target is not None and names_the_bot(context, parsed.target):
        # The bot's own @username is the bot: refused as such (request_action), never asked of core by name.
        parsed = replace(parsed, target=TargetRef(telegram_user_id=context.bot.id, display=parsed.target.display))
    actor = await resolve_actor(context, message)
    await ensure_group(context, chat)
    return Targeted(actor, parsed, parsed.target.telegram_user_id)


async def request_action(context: BotContext, update: Update, targeted: Targeted, permission: str, action: str, *,
                         refusals: list[Awaitable[None]], **fields) -> tuple[RecordedAction, int]:
    """Core checks the permission, resolves a target named by @username and records the request, in one call;
    the bot's own refusals (the target is the owner or the bot, the bot lacks a right: reads on Telegram) are
    awaited beside it, or for a target core had to name, right after it. Core's denial wins (it decides before
    it reads the name) and nothing is recorded, except that the target being the group's owner is said as such;
    a refusal of the bot's after core recorded the request completes it as failed, with the reason. Returns the
    record and the target's Telegram id."""
    chat, ref = update.effective_chat, targeted.parsed.target
    if targeted.target_id is not None:
        try:
            refuse_self(context, targeted.target_id)
        except StopCommand:
            for refusal in refusals:
                refusal.close()  # never to be awaited: the bot's own reads are moot
            raise
        target = {"target_telegram_user_id": targeted.target_id}
        refusals = [*refusals, refuse_protected_target(context, chat, targeted.target_id)]
    else:
        target = {"target_telegram_username": ref.username}
    record, *refused = await asyncio.gather(
        record_action(context, chat, targeted.actor, action, permission=permission, reason=targeted.parsed.reason,
                      **target, **fields),
        *refusals, return_exceptions=True)
    if isinstance(record, CoreError) and record.code == ErrorCode.UNKNOWN_TARGET:
        raise unknown_target(ref) from None
    if isinstance(record, StopCommand) and record.reply and record.code == ErrorCode.RANK_VIOLATION:
        raise next((refusal for refusal in refused if isinstance(refusal, ProtectedTarget)), record)
    if isinstance(record, BaseException):
        raise record
    target_id = record.target_telegram_user_id
    if targeted.target_id is None:
        try:
            await refuse_protected_target(context, chat, target_id)
        except StopCommand as refusal:
            refused.append(refusal)
    for refusal in refused:
        if isinstance(refusal, BaseException):
            reason = refusal.reply if isinstance(refusal, StopCommand) else str(refusal)
            await complete_action(context, record.action.id, reason or "refused by the bot")
            raise refusal
    return record, target_id


async def authorize_on_member(update: Update, context: BotContext, permission: str, *,
                              protect: bool = True) -> Targeted:
    """The opening of member-targeted commands that do not record a request: parse, who asks, core's decision,
    whom it targets."""
    chat = update.effective_chat
    targeted = await targeted_member(update, context, duration=None)
    # Core's decision and the target (looked up, then checked on Telegram) are independent reads: they wait side
    # by side. A denial still wins: it is raised first, and before anything acts.

    async def checked_target():
        target = await resolve_target(context, chat, targeted.parsed.target)
        if protect:
            await refuse_protected_target(context, chat, target)
        return target

    decision, target = await asyncio.gather(require_permission(context, chat, targeted.actor, permission),
                                            checked_target(), return_exceptions=True)
    for outcome in (decision, target):
        if isinstance(outcome, BaseException):
            raise outcome
    return Targeted(targeted.actor, targeted.parsed, target)


def target_handler(command: TargetCommand) -> CommandHandler:
    async def handle(update: Update, context: BotContext) -> None:
        async def body():
            chat = update.effective_chat
            targeted = await targeted_member(update, context, duration=command.duration,
                                             refused_duration=command.refused_duration)
            seconds = targeted.parsed.duration_seconds
            refusals = [require_bot_right(context, chat, command.bot_right)]  # the bot's rights: usually cached
            record, target_id = await request_action(context, update, targeted, command.permission, command.action,
                                                     refusals=refusals, until=_until(seconds))
            done = command.done if seconds is None else command.done_for
            done = done.format(target=targeted.parsed.target.display or target_id,
                               duration=_describe(seconds) if seconds is not None else "")
            await execute(context, update, record, command.act, target_id, seconds, done)

        await run_command(update, context, command.name, body)

    return CommandHandler(command.name, handle, filters=filters.UpdateType.MESSAGE)


# -- warnings


async def warn(update: Update, context: BotContext) -> None:
    async def body():
        chat = update.effective_chat
        targeted = await targeted_member(update, context, refused_duration=WARN_NO_DURATION)
        actor, parsed = targeted.actor, targeted.parsed
        record, target_id = await request_action(context, update, targeted, "WARN_USERS", "warn", refusals=[])
        await complete_action(context, record.action.id, None)
        state = record.warnings
        who = parsed.target.display or target_id
        if not state.limit_reached:
            await reply(update, f"{who} has been warned ({state.active_warnings}/{state.warn_limit}).")
            return
        required = state.required_action
        await require_bot_right(context, chat, "can_restrict_members")
        act = {"ban": _ban, "kick": _kick, "mute": _mute}[required.type]
        seconds = required.duration_seconds
        await perform(context, update, actor, required.type, act, target_id, seconds,
                      f"warn limit reached ({state.warn_limit})", "")
        await core_call(context.core.warnings_reset(record.action.group_id, record.action.target_user_id,
                                                    reason="warn limit reached"))
        outcome = {"ban": "banned", "kick": "kicked", "mute": "muted"}[required.type]
        span = f" for {_describe(seconds)}" if seconds else ""
        await reply(update, f"{who} reached {state.warn_limit} warnings and is {outcome}{span}.")

    await run_command(update, context, "warn", body)


async def _target_in_core(context: BotContext, chat, target_id: int) -> tuple[str, str]:
    group_id = await ensure_group(context, chat)
    user = await core_user(context, target_id)
    if user is None:
        raise StopCommand("That user has no warnings.")
    return group_id, user["id"]


async def warns(update: Update, context: BotContext) -> None:
    async def body():
        message, chat = update.effective_message, update.effective_chat
        parsed = parse_target_args(context.args or [], reply_from=_reply_target(update), needs_target=False)
        actor = await resolve_actor(context, message)
        target_ref = parsed.target or TargetRef(telegram_user_id=actor.telegram_user_id, display="You")
        if target_ref.telegram_user_id != actor.telegram_user_id:
            await require_permission(context, chat, actor, "WARN_USERS")
        target_id = await resolve_target(context, chat, target_ref)
        group_id, user_id = await _target_in_core(context, chat, target_id)
        data = await core_call(context.core.warnings(group_id, user_id))
        lines = [f"{target_ref.display or target_id}: {data['active_warnings']}/{data['warn_limit']} warnings."]
        lines += [f"• {html.escape(item['reason'] or 'no reason given')}" for item in data["items"][:10]]
        await reply(update, "\n".join(lines))

    await run_command(update, context, "warns", body)


async def unwarn(update: Update, context: BotContext) -> None:
    async def body():
        targeted = await targeted_member(update, context)
        record, _ = await request_action(context, update, targeted, "WARN_USERS", "unwarn", refusals=[])
        await complete_action(context, record.action.id, None)
        state = record.warnings
        await reply(update, f"Removed a warning: {state.active_warnings}/{state.warn_limit} left.")

    await run_command(update, context, "unwarn", body)


async def resetwarns(update: Update, context: BotContext) -> None:
    async def body():
        targeted = await authorize_on_member(update, context, "WARN_USERS", protect=False)
        group_id, user_id = await _target_in_core(context, update.effective_chat, targeted.target_id)
        actor = targeted.actor
        fields = {"actor_user_id": actor.core_user_id} if actor.core_user_id else {}
        result = await core_call(context.core.warnings_reset(
            group_id, user_id, reason=targeted.parsed.reason or "reset", **fields))
        await reply(update, f"Cleared {result['removed']} warning(s).")

    await run_command(update, context, "resetwarns", body)


# -- messages


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


def handlers() -> list[CommandHandler]:
    message_only = filters.UpdateType.MESSAGE
    return [
        *(target_handler(command) for command in TARGET_COMMANDS),
        CommandHandler("warn", warn, filters=message_only),
        CommandHandler("warns", warns, filters=message_only),
        CommandHandler("unwarn", unwarn, filters=message_only),
        CommandHandler("resetwarns", resetwarns, filters=message_only),
        CommandHandler("pin", pin, filters=message_only),
        CommandHandler("unpin", unpin, filters=message_only),
        CommandHandler("del", delete, filters=message_only),
        CommandHandler("purge", purge, filters=message_only),
    ]
