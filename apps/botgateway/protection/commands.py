"""In-chat protection settings (Rose's names and behaviour): each command is one change asked of core with the
actor, so core checks MANAGE_SETTINGS in the group (a refusal names the permission) and audits the change; the
bot keeps core's answer in its settings cache. Approvals go through core's RBAC grants (MANAGE_ROLES, the rank rule).
"""

import html
import re

from telegram import Update
from telegram.ext import CommandHandler, filters

from apps.common.error_codes import ErrorCode
from apps.common.welcome import html_problems, unknown_placeholders
from apps.coreclient import CoreError, ProtectionSettings

from ..command_frame import run_command
from ..flows import (
    Actor,
    StopCommand,
    core_call,
    core_refusal,
    denied,
    ensure_group,
    names_the_bot,
    refuse_throttled,
    reply,
    require_permission,
    resolve_actor,
    unknown_target,
)
from ..parsing import TargetRef, UsageError, parse_duration, parse_target_args
from .settings_cache import protection_settings

PERMISSION = "MANAGE_SETTINGS"
TEXT_LIMIT = 4096
ON_WORDS = {"on", "yes", "true", "enable", "enabled", "1"}
OFF_WORDS = {"off", "no", "false", "disable", "disabled", "0"}
FLOOD_ACTIONS = ("delete", "warn", "mute", "tmute", "kick", "ban", "tban")
TIMED_FLOOD_ACTIONS = {"tmute", "tban"}
CAPTCHA_MODES = ("button", "math", "emoji")
RAID_ACTIONS = ("captcha", "mute", "kick", "ban")
CAPTCHA_TIMEOUT = (30, 86400)
FLOOD_LIMIT = (3, 100)
RESTRICTION_SECONDS = (30, 366 * 86400)
RAID_MINUTES = (1, 10080)
_NUMBER = re.compile(r"^\d{1,7}$")


def on_off(args: list[str], usage: str) -> bool:
    if len(args) == 1 and args[0].lower() in ON_WORDS | OFF_WORDS:
        return args[0].lower() in ON_WORDS
    raise UsageError(usage)


def state(flag: bool) -> str:
    return "on" if flag else "off"


def describe_seconds(seconds: int) -> str:
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds} second{'s' if seconds != 1 else ''}"


def seconds_of(token: str, *, default_unit: int = 1) -> int | None:
    """'90' (in `default_unit`s) or a duration such as '5m'; None when it is neither."""
    if _NUMBER.match(token):
        return int(token) * default_unit
    return parse_duration(token)


def command_text(update: Update) -> str:
    """The command's argument text as Telegram HTML (its formatting kept), else the replied-to message's."""
    message = update.effective_message
    own = (message.text_html or "").split(None, 1)
    if len(own) > 1 and own[1].strip():
        return own[1].strip()
    replied = message.reply_to_message
    if replied is not None:
        text = replied.text_html if replied.text else (replied.caption_html if replied.caption else "")
        return (text or "").strip()
    return ""


async def settings_write(update: Update, context, call, *, actor: Actor | None = None):
    """One change asked of core with the actor (`call(group_id, actor_fields)` makes the core call; the actor is the
    message's sender unless given): core checks MANAGE_SETTINGS in the group. A refusal is the reply (naming the
    permission) and counts for the denial throttle."""
    message, chat = update.effective_message, update.effective_chat
    actor = actor or await resolve_actor(context, message)
    refuse_throttled(context, chat, actor)
    group_id = await ensure_group(context, chat)
    try:
        return await core_call(call(group_id, actor.record_kwargs()))
    except CoreError as exc:
        if exc.status_code == 403:
            raise denied(context, chat, actor, StopCommand(core_refusal(exc), exc.code)) from None
        raise


async def change_settings(update: Update, context, **changes) -> ProtectionSettings:
    """One PATCH with the actor (settings_write); core answers the settings, which the cache keeps."""
    settings = await settings_write(
        update, context, lambda group_id, actor: context.core.protection_update(group_id, **changes, **actor))
    context.bot_data.protection.store(settings)
    return settings


async def current_settings(update: Update, context, *, permission: str = "VIEW_GROUPS") -> ProtectionSettings:
    """The settings, for commands that show them: the asker needs `permission` in the group."""
    message, chat = update.effective_message, update.effective_chat
    actor = await resolve_actor(context, message)
    await require_permission(context, chat, actor, permission)
    await ensure_group(context, chat)
    settings = await protection_settings(context, chat.id)
    if settings is None:
        raise StopCommand("The moderation service is temporarily unavailable. Please try again in a minute.")
    return settings


def toggle_command(name: str, field: str, what: str):
    """/<name> on|off: the setting `field`; without an argument, says how it is set."""
    usage = f"Use /{name} on or /{name} off."

    async def handle(update: Update, context) -> None:
        async def body():
            args = context.args or []
            if not args:
                settings = await current_settings(update, context)
                await reply(update, f"{what} is {state(getattr(settings, field))} here. {usage}")
                return
            value = on_off(args, usage)
            await change_settings(update, context, **{field: value})
            await reply(update, f"{what}: {state(value)}.")

        await run_command(update, context, name, body)

    return handle


def text_command(name: str, field: str, what: str, *, greeting: bool):
    usage = (f"Give the text after /{name}, or reply to a message with /{name}. Telegram's formatting is kept"
             + ("; placeholders: {first}, {last}, {fullname}, {username}, {mention}, {id}, {chatname}, {count}, "
                "{rules}." if greeting else "."))

    async def handle(update: Update, context) -> None:
        async def body():
            text = command_text(update)
            if not text:
                raise UsageError(usage)
            if len(text) > TEXT_LIMIT:
                raise UsageError(f"That is {len(text)} characters; Telegram sends at most {TEXT_LIMIT}.")
            problems = html_problems(text)
            if problems:
                raise UsageError(f"Not saved: {problems[0]}")
            await change_settings(update, context, **{field: text})
            note = ""
            unknown = unknown_placeholders(text) if greeting else []
            if unknown:
                note = (" Note: " + ", ".join("{" + name + "}" for name in unknown)
                        + " is not a placeholder and will be sent as typed.")
            await reply(update, f"{what} saved.{html.escape(note)}")

        await run_command(update, context, name, body)

    return handle


def reset_command(name: str, field: str, done: str):
    async def handle(update: Update, context) -> None:
        async def body():
            await change_settings(update, context, **{field: ""})
            await reply(update, done)

        await run_command(update, context, name, body)

    return handle


def _bounded(value: int, bounds: tuple[int, int], what: str, *, seconds: bool = False) -> int:
    low, high = bounds
    if not low <= value <= high:
        spell = describe_seconds if seconds else str
        raise UsageError(f"{what} must be {spell(low)} to {spell(high)}.")
    return value


async def captcha(update: Update, context) -> None:
    usage = "Use /captcha on|off, /captcha button|math|emoji (the kind of question) or /captcha 5m (the time to " \
            "answer, 30s to 1d)."

    async def body():
        args = context.args or []
        if not args:
            settings = await current_settings(update, context)
            await reply(update, f"Captcha is {state(settings.captcha_enabled)} here: {settings.captcha_mode} "
                                f"questions, {describe_seconds(settings.captcha_timeout_seconds)} to answer, then "
                                f"{settings.captcha_failure_action}. {usage}")
            return
        if len(args) != 1:
            raise UsageError(usage)
        word = args[0].lower()
        if word in ON_WORDS | OFF_WORDS:
            enabled = word in ON_WORDS
            await change_settings(update, context, captcha_enabled=enabled)
            await reply(update, "Captcha: on. New members must answer before they can write." if enabled
                        else "Captcha: off.")
        elif word in CAPTCHA_MODES:
            settings = await change_settings(update, context, captcha_mode=word)
            hint = "" if settings.captcha_enabled else " (captcha is off: /captcha on)"
            await reply(update, f"Captcha questions: {word}.{hint}")
        else:
            seconds = seconds_of(word)
            if seconds is None:
                raise UsageError(usage)
            _bounded(seconds, CAPTCHA_TIMEOUT, "The time to answer", seconds=True)
            await change_settings(update, context, captcha_timeout_seconds=seconds)
            await reply(update, f"New members have {describe_seconds(seconds)} to answer the captcha.")

    await run_command(update, context, "captcha", body)


def choice_command(name: str, field: str, choices: tuple[str, ...], done: str):
    usage = f"Use /{name} {'|'.join(choices)}."

    async def handle(update: Update, context) -> None:
        async def body():
            args = context.args or []
            if len(args) != 1 or args[0].lower() not in choices:
                raise UsageError(usage)
            await change_settings(update, context, **{field: args[0].lower()})
            await reply(update, done.format(value=args[0].lower()))

        await run_command(update, context, name, body)

    return handle


async def setflood(update: Update, context) -> None:
    usage = ("Use /setflood <n> to act on n consecutive messages from one member, /setflood <n> <seconds> for n "
             f"messages within that time (e.g. /setflood 5 10s), /setflood off to stop. n: {FLOOD_LIMIT[0]} to "
             f"{FLOOD_LIMIT[1]}.")

    async def body():
        args = context.args or []
        if not args or len(args) > 2:
            raise UsageError(usage)
        if args[0].lower() in OFF_WORDS:
            if len(args) != 1:
                raise UsageError(usage)
            await change_settings(update, context, flood_limit=0)
            await reply(update, "Antiflood: off.")
            return
        if not _NUMBER.match(args[0]):
            raise UsageError(usage)
        limit = _bounded(int(args[0]), FLOOD_LIMIT, "The number of messages")
        window = None
        if len(args) == 2:
            window = seconds_of(args[1])
            if window is None:
                raise UsageError(usage)
            _bounded(window, (1, 3600), "The time", seconds=True)
        settings = await change_settings(update, context, flood_limit=limit, flood_window_seconds=window)
        span = f"within {describe_seconds(window)}" if window else "in a row"
        await reply(update, f"Antiflood: {limit} messages {span} from one member and they are dealt with "
                            f"({describe_flood_action(settings)}).")

    await run_command(update, context, "setflood", body)


def describe_flood_action(settings: ProtectionSettings) -> str:
    action = settings.flood_action
    if action in TIMED_FLOOD_ACTIONS and settings.flood_action_duration_seconds:
        return f"{action} for {describe_seconds(settings.flood_action_duration_seconds)}"
    return action


async def setfloodmode(update: Update, context) -> None:
    usage = (f"Use /setfloodmode {'|'.join(FLOOD_ACTIONS)}; tmute and tban take a duration "
             "(e.g. /setfloodmode tmute 3h).")

    async def body():
        args = context.args or []
        if not args or args[0].lower() not in FLOOD_ACTIONS or len(args) > 2:
            raise UsageError(usage)
        action = args[0].lower()
        duration = None
        if action in TIMED_FLOOD_ACTIONS:
            if len(args) != 2 or (duration := parse_duration(args[1])) is None:
                raise UsageError(usage)
            _bounded(duration, RESTRICTION_SECONDS, "The time", seconds=True)
        elif len(args) != 1:
            raise UsageError(f"{action} takes no duration. {usage}")
        settings = await change_settings(update, context, flood_action=action,
                                         flood_action_duration_seconds=duration)
        await reply(update, f"Flooders will get: {describe_flood_action(settings)}.")

    await run_command(update, context, "setfloodmode", body)


async def antiraid(update: Update, context) -> None:
    usage = "Use /antiraid to switch raid mode, /antiraid on|off, or /antiraid <time> (e.g. 30m, 6h) to turn it on " \
            "for that long."

    async def body():
        message, chat = update.effective_message, update.effective_chat
        args = context.args or []
        if len(args) > 1:
            raise UsageError(usage)
        minutes = None
        if not args:
            settings = await protection_settings(context, chat.id)
            active = not (settings is not None and settings.raid_active)
        elif args[0].lower() in ON_WORDS | OFF_WORDS:
            active = args[0].lower() in ON_WORDS
        else:
            seconds = seconds_of(args[0], default_unit=60)
            if seconds is None:
                raise UsageError(usage)
            minutes = _bounded(max(1, seconds // 60), RAID_MINUTES, "Raid mode's minutes")
            active = True
        actor = await resolve_actor(context, message)
        refuse_throttled(context, chat, actor)
        group_id = await ensure_group(context, chat)
        try:
            settings = await core_call(context.core.protection_raid(group_id, active=active, minutes=minutes,
                                                                    **actor.record_kwargs()))
        except CoreError as exc:
            if exc.status_code == 403:
                raise denied(context, chat, actor, StopCommand(core_refusal(exc), exc.code)) from None
            raise
        context.bot_data.protection.store(settings)
        if settings.raid_active:
            until = settings.raid_until.strftime("%Y-%m-%d %H:%M UTC")
            await reply(update, f"Raid mode on until {until}: every new member is dealt with ({settings.raid_action})."
                                " /antiraid off ends it.")
        else:
            await reply(update, "Raid mode off.")

    await run_command(update, context, "antiraid", body)


async def setraid(update: Update, context) -> None:
    usage = ("Use /setraid <joins> <seconds> <minutes>: that many joins within that time switch raid mode on for "
             "that long (e.g. /setraid 10 60 360); /setraid off stops detecting raids.")

    async def body():
        args = context.args or []
        if len(args) == 1 and args[0].lower() in OFF_WORDS:
            await change_settings(update, context, raid_detection=False)
            await reply(update, "Raid detection: off.")
            return
        if len(args) != 3:
            raise UsageError(usage)
        joins = int(args[0]) if _NUMBER.match(args[0]) else None
        window = seconds_of(args[1])
        duration = seconds_of(args[2], default_unit=60)
        if joins is None or window is None or duration is None:
            raise UsageError(usage)
        _bounded(joins, (2, 1000), "The number of joins")
        _bounded(window, (1, 3600), "The time", seconds=True)
        minutes = _bounded(max(1, duration // 60), RAID_MINUTES, "Raid mode's minutes")
        await change_settings(update, context, raid_detection=True, raid_join_limit=joins,
                              raid_window_seconds=window, raid_duration_minutes=minutes)
        await reply(update, f"Raid detection: on. {joins} joins within {describe_seconds(window)} switch raid mode on "
                            f"for {describe_seconds(minutes * 60)}.")

    await run_command(update, context, "setraid", body)


def _reply_target(update: Update) -> TargetRef | None:
    replied = update.effective_message.reply_to_message
    if replied is None or replied.from_user is None:
        return None
    return TargetRef(telegram_user_id=replied.from_user.id, display=replied.from_user.mention_html())


def approval_command(name: str, grant: bool):
    async def handle(update: Update, context) -> None:
        async def body():
            message, chat = update.effective_message, update.effective_chat
            parsed = parse_target_args(context.args or [], reply_from=_reply_target(update))
            ref = parsed.target
            if names_the_bot(context, ref) or ref.telegram_user_id == context.bot.id:
                raise StopCommand("I'm the bot: there is nothing to approve.")
            actor: Actor = await resolve_actor(context, message)
            refuse_throttled(context, chat, actor)
            await ensure_group(context, chat)
            target = ({"target_telegram_user_id": ref.telegram_user_id} if ref.telegram_user_id is not None
                      else {"target_telegram_username": ref.username})
            call = context.core.approval_grant if grant else context.core.approval_revoke
            try:
                answer = await core_call(call(telegram_chat_id=chat.id, **actor.record_kwargs(), **target))
            except CoreError as exc:
                if exc.code == ErrorCode.UNKNOWN_TARGET:
                    raise unknown_target(ref) from None
                if exc.status_code == 403:
                    raise denied(context, chat, actor, StopCommand(core_refusal(exc), exc.code)) from None
                raise
            who = ref.display or html.escape(answer.get("display_name") or str(answer.get("telegram_user_id")))
            if grant:
                await reply(update, f"{who} is approved: automated protection (antiflood, captcha, anti-raid) "
                                    "leaves them alone. Manual moderation still applies.")
            else:
                await reply(update, f"{who} is no longer approved: automated protection applies to them again.")

        await run_command(update, context, name, body)

    return handle


async def approved(update: Update, context) -> None:
    async def body():
        message, chat = update.effective_message, update.effective_chat
        actor = await resolve_actor(context, message)
        await require_permission(context, chat, actor, "VIEW_GROUPS")
        group_id = await ensure_group(context, chat)
        page = await core_call(context.core.approvals(group_id, limit=50))
        if not page["items"]:
            await reply(update, "No approved members here. /approve (reply, @username or id) approves one.")
            return
        lines = [f"• {html.escape(item['display_name'])} (<code>{item['telegram_user_id']}</code>)"
                 for item in page["items"]]
        more = f"\n…and {page['total'] - len(lines)} more." if page["total"] > len(lines) else ""
        await reply(update, f"Approved members ({page['total']}):\n" + "\n".join(lines) + more)

    await run_command(update, context, "approved", body)


def protection_lines(settings: ProtectionSettings) -> list[str]:
    """/protection's summary of `settings`, one line per feature (the first names the group, in HTML)."""
    flood = "off"
    if settings.flood_limit:
        span = (f"within {describe_seconds(settings.flood_window_seconds)}" if settings.flood_window_seconds
                else "in a row")
        flood = f"{settings.flood_limit} messages {span}, then {describe_flood_action(settings)}" + (
            ", their messages deleted" if settings.flood_delete_messages else "")
    raid = "on until " + settings.raid_until.strftime("%Y-%m-%d %H:%M UTC") if settings.raid_active else "off"
    detection = (f"{settings.raid_join_limit} joins within {describe_seconds(settings.raid_window_seconds)} "
                 f"-> {describe_seconds(settings.raid_duration_minutes * 60)} of raid mode "
                 f"({settings.raid_action})" if settings.raid_detection else "off")
    return [
        f"<b>Protection in {html.escape(settings.title)}</b>",
        f"Welcome: {state(settings.welcome_enabled)} ({'custom' if settings.welcome_text else 'default'} text)"
        f", clean welcome {state(settings.clean_welcome)}",
        f"Goodbye: {state(settings.goodbye_enabled)}; service messages cleaned: {state(settings.clean_service)}",
        f"Rules: {'set' if settings.rules_text else 'not set'}, "
        f"{'in private' if settings.rules_private else 'in the group'}",
        f"Captcha: {state(settings.captcha_enabled)} ({settings.captcha_mode}, "
        f"{describe_seconds(settings.captcha_timeout_seconds)}, then {settings.captcha_failure_action})",
        f"Antiflood: {flood}",
        f"Raid detection: {detection}; raid mode: {raid}",
        f"Log channel: {'set' if settings.log_chat_id else 'none'}",
    ]


async def protection_summary(update: Update, context) -> None:
    async def body():
        await reply(update, "\n".join(protection_lines(await current_settings(update, context))))

    await run_command(update, context, "protection", body)


def handlers() -> list[CommandHandler]:
    message_only = filters.UpdateType.MESSAGE
    commands = {
        "setwelcome": text_command("setwelcome", "welcome_text", "Welcome message", greeting=True),
        "resetwelcome": reset_command("resetwelcome", "welcome_text", "Welcome message reset to the default."),
        "welcome": toggle_command("welcome", "welcome_enabled", "The welcome"),
        "setgoodbye": text_command("setgoodbye", "goodbye_text", "Goodbye message", greeting=True),
        "resetgoodbye": reset_command("resetgoodbye", "goodbye_text", "Goodbye message reset to the default."),
        "goodbye": toggle_command("goodbye", "goodbye_enabled", "The goodbye"),
        "cleanwelcome": toggle_command("cleanwelcome", "clean_welcome", "Deleting the previous welcome"),
        "cleanservice": toggle_command("cleanservice", "clean_service", "Deleting join and leave messages"),
        "setrules": text_command("setrules", "rules_text", "Rules", greeting=False),
        "resetrules": reset_command("resetrules", "rules_text", "Rules cleared."),
        "privaterules": toggle_command("privaterules", "rules_private", "Sending the rules in private"),
        "captcha": captcha,
        "captchaaction": choice_command("captchaaction", "captcha_failure_action", ("kick", "mute"),
                                        "Members who fail the captcha: {value}."),
        "setflood": setflood,
        "setfloodmode": setfloodmode,
        "clearflood": toggle_command("clearflood", "flood_delete_messages", "Deleting a flood's messages"),
        "antiraid": antiraid,
        "setraid": setraid,
        "raidaction": choice_command("raidaction", "raid_action", RAID_ACTIONS,
                                     "In raid mode, new members: {value}."),
        "approve": approval_command("approve", grant=True),
        "unapprove": approval_command("unapprove", grant=False),
        "approved": approved,
        "protection": protection_summary,
    }
    return [CommandHandler(name, handle, filters=message_only) for name, handle in commands.items()]
