"""/warn, /warns, /unwarn, /resetwarns: core counts the warnings; at the group's limit the bot applies the required
action."""

import html

from telegram import Update

from ..command_frame import run_command
from ..context import BotContext
from ..durations import describe_duration
from ..flows import (
    StopCommand,
    complete_action,
    core_call,
    core_user,
    ensure_group,
    reply,
    require_bot_right,
    require_permission,
    resolve_actor,
    resolve_target,
)
from ..parsing import TargetRef, parse_target_args
from .command_flow import (
    authorize_on_member,
    perform,
    quiet_finish,
    quiet_refusals,
    quiet_start,
    reply_target,
    request_action,
    targeted_member,
)
from .member_actions import DELETE, LIMIT_ACTS, SILENT, WARN_NO_DURATION


def warn_command(name: str, quiet: str = ""):
    """/warn; /swarn (silent: the command deleted, nothing said) and /dwarn (by reply: the replied-to message
    deleted too), as Rose."""

    async def handle(update: Update, context: BotContext) -> None:
        async def body():
            chat = update.effective_chat
            replied = quiet_start(update, name, quiet)
            targeted = await targeted_member(update, context, refused_duration=WARN_NO_DURATION)
            actor, parsed = targeted.actor, targeted.parsed
            record, target_id = await request_action(context, update, targeted, "WARN_USERS", "warn",
                                                     refusals=quiet_refusals(context, chat, targeted, quiet))
            await complete_action(context, record.action.id, None)
            await quiet_finish(context, chat, replied, quiet)
            state = record.warnings
            who = parsed.target.display or target_id
            if not state.limit_reached:
                await say(update, quiet, f"{who} has been warned ({state.active_warnings}/{state.warn_limit}).")
                return
            required = state.required_action
            await require_bot_right(context, chat, "can_restrict_members")
            act = LIMIT_ACTS[required.type]
            seconds = required.duration_seconds
            await perform(context, update, actor, required.type, act, target_id, seconds,
                          f"warn limit reached ({state.warn_limit})", "")
            await core_call(context.core.warnings_reset(record.action.group_id, record.action.target_user_id,
                                                        reason="warn limit reached"))
            outcome = {"ban": "banned", "kick": "kicked", "mute": "muted"}[required.type]
            span = f" for {describe_duration(seconds)}" if seconds else ""
            await say(update, quiet, f"{who} reached {state.warn_limit} warnings and is {outcome}{span}.")

        await run_command(update, context, name, body)

    return handle


async def say(update: Update, quiet: str, text: str) -> None:
    """The reply, unless the command is a silent variant."""
    if quiet != SILENT:
        await reply(update, text)


warn = warn_command("warn")
swarn = warn_command("swarn", SILENT)
dwarn = warn_command("dwarn", DELETE)


async def _target_in_core(context: BotContext, chat, target_id: int) -> tuple[str, str]:
    group_id = await ensure_group(context, chat)
    user = await core_user(context, target_id)
    if user is None:
        raise StopCommand("That user has no warnings.")
    return group_id, user["id"]


async def warns(update: Update, context: BotContext) -> None:
    async def body():
        message, chat = update.effective_message, update.effective_chat
        parsed = parse_target_args(context.args or [], reply_from=reply_target(update), needs_target=False)
        actor = await resolve_actor(context, message)
        target_ref = parsed.target or TargetRef(telegram_user_id=actor.telegram_user_id, display="You")
        if target_ref.telegram_user_id != actor.telegram_user_id:
            await require_permission(context, chat, actor, "WARN_USERS")
        target_id = await resolve_target(context, chat, target_ref)
        group_id, user_id = await _target_in_core(context, chat, target_id)
        data = await core_call(context.core.warnings(group_id, user_id))
        lines = [f"{target_ref.display or target_id}: {data['active_warnings']}/{data['warn_limit']} warnings."]
        lines += [f"• {html.escape(item['reason'] or 'no reason given')}" for item in data["items"][:10]]
        if data.get("warn_expiry_seconds"):
            lines.append(f"Warnings expire after {describe_duration(data['warn_expiry_seconds'])}.")
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

