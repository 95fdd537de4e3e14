"""The frame of a command and the steps moderation commands share: who asks, whom it targets, core's decision and
record of the request, the bot's own refusals, acting on Telegram and completing the record."""

import asyncio
import html
import logging
from collections.abc import Awaitable
from dataclasses import dataclass, replace

from telegram import Update
from telegram.error import TelegramError

from apps.common.error_codes import ErrorCode
from apps.coreclient import CoreError, RecordedAction

from ..command_frame import delete_command_after
from ..context import BotContext
from ..durations import restriction_end
from ..flows import (
    Actor,
    Denial,
    ProtectedTarget,
    StopCommand,
    complete_action,
    core_call,
    denial,
    ensure_group,
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
from ..parsing import Duration, ParsedCommand, TargetRef, UsageError, parse_target_args
from .member_actions import DELETE, SILENT, Act

logger = logging.getLogger(__name__)


def reply_target(update: Update) -> TargetRef | None:
    replied = update.effective_message.reply_to_message
    if replied is None or replied.from_user is None:
        return None
    return TargetRef(telegram_user_id=replied.from_user.id, display=replied.from_user.mention_html())


async def perform(context: BotContext, update: Update, actor, command_action: str, act: Act, target_id: int,
                  seconds: int | None, reason: str, done: str) -> RecordedAction:
    """Records, acts, completes. Returns the core record; replies with Telegram's error on failure."""
    record = await record_action(context, update.effective_chat, actor, command_action,
                                 target_telegram_user_id=target_id, reason=reason, until=restriction_end(seconds))
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
    parsed = parse_target_args(context.args or [], reply_from=reply_target(update), duration=duration,
                               refused_duration=refused_duration)
    if parsed.target is not None and names_the_bot(context, parsed.target):
        # The bot's own @username is the bot: refused as such (request_action), never asked of core by name.
        parsed = replace(parsed, target=TargetRef(telegram_user_id=context.bot.id, display=parsed.target.display))
    actor = await resolve_actor(context, message)
    await ensure_group(context, chat)
    return Targeted(actor, parsed, parsed.target.telegram_user_id)


def _unknown_target(answer) -> bool:
    return isinstance(answer, CoreError) and answer.code == ErrorCode.UNKNOWN_TARGET


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
    # The message the action is about (the one replied to, else the command): the log channel links to it.
    message = update.effective_message
    fields.setdefault("telegram_message_id", (message.reply_to_message or message).message_id)
    def record_it() -> Awaitable[RecordedAction]:
        return record_action(context, chat, targeted.actor, action, permission=permission,
                             reason=targeted.parsed.reason, **target, **fields)

    record, *refused = await asyncio.gather(record_it(), *refusals, return_exceptions=True)
    if _unknown_target(record) and context.bot_data.shipper is not None and await context.shipper.deliver_pending():
        try:  # the target's first message was still on its way to core: nothing was recorded, ask again
            record = await record_it()
        except Exception as exc:  # answered below like the first attempt's exceptions
            record = exc
    if _unknown_target(record):
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


def quiet_start(update: Update, name: str, quiet: str):
    """A quiet variant's opening: a silent one's command message goes once handled; a delete one needs a reply.
    Returns the replied-to message of a delete variant."""
    if quiet == SILENT:
        delete_command_after()
    if quiet != DELETE:
        return None
    replied = update.effective_message.reply_to_message
    if replied is None or replied.from_user is None:  # a channel's post has no member to act on
        raise UsageError(f"Reply to the message with /{name}: I act on its sender and delete it.")
    return replied


def quiet_refusals(context: BotContext, chat, targeted, quiet: str) -> list:
    """A delete variant also deletes a message: the asker needs DELETE_MESSAGES, the bot the right to delete."""
    if quiet != DELETE:
        return []
    return [_may_delete(context, chat, targeted.actor), require_bot_right(context, chat, "can_delete_messages")]


async def _may_delete(context: BotContext, chat, actor: Actor) -> None:
    """Core's DELETE_MESSAGES for the asker, beside the action's own check: not counted again by the denial
    throttle (one command, one denial), and answered like any denial."""
    decision = await core_call(context.core.check_permission(permission="DELETE_MESSAGES", telegram_chat_id=chat.id,
                                                             **actor.check_kwargs()))
    if not decision.allowed:
        raise Denial(denial("DELETE_MESSAGES", decision.reason).reply)


async def quiet_finish(context: BotContext, chat, replied, quiet: str) -> None:
    """A delete variant's last step: the replied-to message goes (best effort: the action itself is done)."""
    if quiet != DELETE or replied is None:
        return
    try:
        await context.bot.delete_message(chat.id, replied.message_id)
    except TelegramError as exc:
        logger.info("the replied-to message was not deleted", extra={"chat_id": chat.id, "error": str(exc)})

