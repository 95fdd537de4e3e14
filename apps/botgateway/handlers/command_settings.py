"""How commands behave in a group, with Rose's names: /disable, /enable, /disabled, /disableable, /disabledel;
/cleancommands; /privatedenials (this bot's own: Rose has no such switch); /reports; /warntime.

Each change is asked of core with the actor, so core checks MANAGE_SETTINGS and audits it: the protection PATCH
(protection.commands.change_settings) for the command settings, the group PATCH for the warn expiry (a setting of the
group's warnings, beside warn_limit and warn_action), after core's check of MANAGE_SETTINGS. The frame
(command_frame.run_command) applies them."""

import html

from telegram import Update
from telegram.ext import CommandHandler, filters

from apps.common.error_codes import ErrorCode
from apps.coreclient import CoreError

from ..command_frame import ADMIN_PERMISSION, run_command, setting
from ..context import BotContext
from ..durations import describe_duration
from ..flows import core_call, core_user, ensure_group, reply, require_permission, resolve_actor
from ..helplines import HelpLine
from ..parsing import UsageError, parse_duration
from ..protection.commands import change_settings, current_settings, on_off, state

# The commands members use (Rose's disableable list, for the commands this bot has): admin commands need a
# permission anyway, and the settings commands must stay usable.
DISABLEABLE = ("adminlist", "approved", "fedadmins", "fedinfo", "fedsubs", "filters", "get", "id", "info", "locks",
               "locktypes", "mystats", "notes", "report", "roles", "rules", "saved", "stats", "warns")
WARN_EXPIRY_BOUNDS = (30, 366 * 86400)

HELP = [
    HelpLine("/disabled, /disableable", "the disabled commands, and those that can be"),
    HelpLine("/disable <cmd...>, /enable <cmd...>, /disabledel on|off", "commands members may not use (admins "
             "still can); delete their attempts", ADMIN_PERMISSION),
    HelpLine("/cleancommands on|off", "delete command messages once handled", ADMIN_PERMISSION),
    HelpLine("/privatedenials on|off", "answer refused commands in private", ADMIN_PERMISSION),
    HelpLine("/reports on|off", "members' /report (also posted to the log channel)", ADMIN_PERMISSION),
    HelpLine("/warntime <time|off>", "warnings older than this no longer count", ADMIN_PERMISSION),
]


def _names(args: list[str]) -> list[str]:
    """Command names as typed: '/warns', 'warns@some_bot', 'Warns' all read 'warns'; several in one message."""
    names = []
    for arg in args:
        for part in arg.replace(",", " ").split():
            name = part.lstrip("/").split("@", 1)[0].lower()
            if name and name not in names:
                names.append(name)
    return names


async def _change_disabled(update: Update, context: BotContext, *, disable: bool) -> None:
    name = "disable" if disable else "enable"
    names = _names(context.args or [])
    if not names:
        raise UsageError(f"Use /{name} <command> (several: /{name} id info). /disableable lists those that can be.")
    unknown = [command for command in names if command not in DISABLEABLE]
    if unknown:
        raise UsageError(f"{', '.join('/' + c for c in unknown)} can't be disabled. /disableable lists those that "
                         "can be.")
    chat = update.effective_chat
    for attempt in range(2):  # a change made meanwhile elsewhere (409): once more on the fresh settings
        settings = await current_settings(update, context, permission=ADMIN_PERMISSION)
        current = set(setting(settings, "disabled_commands", ()))
        wanted = sorted(current | set(names)) if disable else sorted(current - set(names))
        if wanted == sorted(current):
            break
        try:
            await change_settings(update, context, disabled_commands=wanted, expected_version=settings.version)
            break
        except CoreError as exc:
            if exc.code != ErrorCode.CONFLICT or attempt:
                raise
            context.bot_data.protection.invalidate(chat.id)
    listed = ", ".join(f"/{command}" for command in names)
    if disable:
        await reply(update, f"Disabled for members: {listed}. Admins can still use them.")
    else:
        await reply(update, f"Enabled again: {listed}.")


async def disable(update: Update, context: BotContext) -> None:
    await run_command(update, context, "disable", lambda: _change_disabled(update, context, disable=True))


async def enable(update: Update, context: BotContext) -> None:
    await run_command(update, context, "enable", lambda: _change_disabled(update, context, disable=False))


async def disabled(update: Update, context: BotContext) -> None:
    async def body():
        settings = await current_settings(update, context)
        names = setting(settings, "disabled_commands", ())
        if not names:
            await reply(update, "No commands are disabled here.")
            return
        deleted = " Members' attempts are deleted." if setting(settings, "disabled_delete", False) else ""
        await reply(update, "Disabled for members:\n" + "\n".join(f"• /{html.escape(n)}" for n in names) + deleted)

    await run_command(update, context, "disabled", body)


async def disableable(update: Update, context: BotContext) -> None:
    async def body():
        await reply(update, "Commands that can be disabled:\n" + "\n".join(f"• /{name}" for name in DISABLEABLE))

    await run_command(update, context, "disableable", body)


def toggle(name: str, field: str, what: str, done_on: str, done_off: str):
    """/<name> on|off: the setting `field` through the protection PATCH; without an argument, how it is set."""
    usage = f"Use /{name} on or /{name} off."

    async def handle(update: Update, context: BotContext) -> None:
        async def body():
            args = context.args or []
            if not args:
                settings = await current_settings(update, context)
                await reply(update, f"{what} is {state(setting(settings, field, False))} here. {usage}")
                return
            value = on_off(args, usage)
            await change_settings(update, context, **{field: value})
            await reply(update, done_on if value else done_off)

        await run_command(update, context, name, body)

    return handle


def describe_expiry(seconds: int | None) -> str:
    return f"after {describe_duration(seconds)}" if seconds else "never"


async def warntime(update: Update, context: BotContext) -> None:
    """/warntime <time|off>: warnings older than that no longer count (Rose's warn time); without an argument, the
    current one."""
    low, high = WARN_EXPIRY_BOUNDS
    usage = ("Use /warntime <time> (e.g. 4w, 7d, 12h; 30s to 366d): warnings older than that no longer count. "
             "/warntime off: they never expire.")

    async def body():
        message, chat = update.effective_message, update.effective_chat
        args = context.args or []
        actor = await resolve_actor(context, message)
        group_id = await ensure_group(context, chat)
        if not args:
            await require_permission(context, chat, actor, "VIEW_GROUPS")
            group = await core_call(context.core.group_get(group_id))
            expiry = describe_expiry(group.get("warn_expiry_seconds"))
            await reply(update, f"Warnings expire: {expiry}. {html.escape(usage)}")
            return
        if len(args) != 1:
            raise UsageError(usage)
        if args[0].lower() in ("off", "no", "never", "0"):
            seconds = None
        else:
            seconds = parse_duration(args[0])
            if seconds is None:
                raise UsageError(usage)
            if not low <= seconds <= high:
                raise UsageError(f"The warn time must be 30 seconds to 366 days. {usage}")
        await require_permission(context, chat, actor, ADMIN_PERMISSION)
        # The group PATCH names its actor by core id: the check just passed, so core knows them.
        actor_id = actor.core_user_id or (await core_user(context, actor.telegram_user_id, create=True))["id"]
        await core_call(context.core.group_update(group_id, warn_expiry_seconds=seconds, actor_user_id=actor_id))
        if seconds is None:
            await reply(update, "Warnings never expire now.")
        else:
            await reply(update, f"Warnings expire after {describe_duration(seconds)}: older ones no longer count.")

    await run_command(update, context, "warntime", body)


def handlers() -> list[CommandHandler]:
    message_only = filters.UpdateType.MESSAGE
    commands = {
        "disable": disable,
        "enable": enable,
        "disabled": disabled,
        "disableable": disableable,
        "disabledel": toggle("disabledel", "disabled_delete", "Deleting members' disabled commands",
                             "Members' disabled commands will be deleted.",
                             "Members' disabled commands will be ignored, not deleted."),
        "cleancommands": toggle("cleancommands", "clean_commands", "Deleting command messages",
                                "Command messages will be deleted once handled.",
                                "Command messages stay."),
        "privatedenials": toggle("privatedenials", "denials_private", "Answering refused commands in private",
                                 "Refused commands are answered in private (in the group for members who never "
                                 "started me).", "Refused commands are answered in the group."),
        "reports": toggle("reports", "reports_enabled", "Members' reports",
                          "Reports: on. Members can /report a message to the admins.",
                          "Reports: off. /report does nothing here."),
        "warntime": warntime,
    }
    return [CommandHandler(name, handle, filters=message_only) for name, handle in commands.items()]
