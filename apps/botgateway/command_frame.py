"""The frame of every command, for the moderation handlers and the protection package alike: counted, group-only
unless `anywhere`, and a StopCommand, a usage error or core's refusal (its own reason, e.g. a duration out of range
or a rank it will not touch) answered in the chat."""

import html

from apps.coreclient import CoreError

from .flows import StopCommand, core_refusal, is_group, reply
from .metrics import BOT_COMMANDS
from .parsing import UsageError


async def run_command(update, context, name: str, body, *, anywhere: bool = False) -> None:
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
