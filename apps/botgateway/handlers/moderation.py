"""Moderation commands. Each one: core decides (check-permission in the group), the bot checks its own
Telegram rights, never touches the owner or itself, records the action in core as requested, acts on
Telegram, and completes the record as executed or failed with Telegram's error."""

from telegram import Update
from telegram.ext import CommandHandler, filters

from ..command_frame import run_command
from ..context import BotContext
from ..durations import describe_duration, restriction_end
from ..flows import require_bot_right
from . import command_settings
from .command_flow import execute, quiet_finish, quiet_refusals, quiet_start, request_action, targeted_member
from .member_actions import QUIET_COMMANDS, SILENT, TARGET_COMMANDS, TargetCommand
from .messages import delete, pin, purge, purgefrom, purgeto, spurge, unpin
from .warnings import dwarn, resetwarns, swarn, unwarn, warn, warns


def target_handler(command: TargetCommand) -> CommandHandler:
    async def handle(update: Update, context: BotContext) -> None:
        async def body():
            chat = update.effective_chat
            replied = quiet_start(update, command.name, command.quiet)
            targeted = await targeted_member(update, context, duration=command.duration,
                                             refused_duration=command.refused_duration)
            seconds = targeted.parsed.duration_seconds
            refusals = [require_bot_right(context, chat, command.bot_right)]  # the bot's rights: usually cached
            refusals += quiet_refusals(context, chat, targeted, command.quiet)
            record, target_id = await request_action(context, update, targeted, command.permission, command.action,
                                                     refusals=refusals, until=restriction_end(seconds))
            done = command.done if seconds is None else command.done_for
            done = done.format(target=targeted.parsed.target.display or target_id,
                               duration=describe_duration(seconds) if seconds is not None else "")
            await execute(context, update, record, command.act, target_id, seconds,
                          "" if command.quiet == SILENT else done)
            await quiet_finish(context, chat, replied, command.quiet)

        await run_command(update, context, command.name, body)

    return CommandHandler(command.name, handle, filters=filters.UpdateType.MESSAGE)


def handlers() -> list[CommandHandler]:
    message_only = filters.UpdateType.MESSAGE
    return [
        *command_settings.handlers(),
        *(target_handler(command) for command in (*TARGET_COMMANDS, *QUIET_COMMANDS)),
        CommandHandler("warn", warn, filters=message_only),
        CommandHandler("dwarn", dwarn, filters=message_only),
        CommandHandler("swarn", swarn, filters=message_only),
        CommandHandler("warns", warns, filters=message_only),
        CommandHandler("unwarn", unwarn, filters=message_only),
        CommandHandler("resetwarns", resetwarns, filters=message_only),
        CommandHandler("pin", pin, filters=message_only),
        CommandHandler("unpin", unpin, filters=message_only),
        CommandHandler("del", delete, filters=message_only),
        CommandHandler("purge", purge, filters=message_only),
        CommandHandler("spurge", spurge, filters=message_only),
        CommandHandler("purgefrom", purgefrom, filters=message_only),
        CommandHandler("purgeto", purgeto, filters=message_only),
    ]
