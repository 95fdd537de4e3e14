"""Information, roles and reporting commands."""

import html
import logging

from telegram import ChatMemberAdministrator, ChatMemberOwner, Update
from telegram.error import TelegramError
from telegram.ext import CommandHandler, filters

from apps.coreclient import CoreError

from ..command_frame import run_command, setting
from ..context import BotContext
from ..federations import commands as federation_commands
from ..flows import (
    ANONYMOUS_ADMIN_BOT_ID,
    Actor,
    StopCommand,
    complete_action,
    core_call,
    core_user,
    ensure_group,
    is_group,
    record_action,
    reply,
    require_permission,
    resolve_actor,
    resolve_target,
    sync_admins,
)
from ..helplines import HelpLine
from ..parsing import UsageError, parse_target_args
from ..protection import content_commands, notes
from ..protection import filters as content_filters
from . import command_settings
from . import stats as stats_commands
from .command_flow import reply_target
from .member_actions import QUIET_COMMANDS, TARGET_COMMANDS

logger = logging.getLogger(__name__)


HELP = [
    HelpLine("/help", "what you can do where you ask", anywhere=True),
    HelpLine("/id", "your id and this chat's id", anywhere=True),
    HelpLine("/info [user]", "what core knows about a member", "VIEW_GROUPS"),
    HelpLine("/adminlist", "the group's admins"),
    HelpLine("/roles [user]", "roles held in this group", "VIEW_GROUPS"),
    HelpLine("/warns", "your warnings"),
    HelpLine("/warns (user)", "a member's warnings", "WARN_USERS"),
    HelpLine("/report [reason]", "tell the moderators (reply to the message)"),
    HelpLine("/rules", "the group's rules"),
    *(HelpLine(command.usage, f"{command.action} a member", command.permission) for command in TARGET_COMMANDS),
    *(HelpLine(f"/{silent.name} (user), /{deleting.name} (reply) [reason]",
               f"{silent.action} silently (your command deleted), or deleting their message",
               silent.permission) for silent, deleting in zip(QUIET_COMMANDS[::2], QUIET_COMMANDS[1::2], strict=True)),
    HelpLine("/warn, /unwarn, /resetwarns (user) [reason]", "warnings; at the limit the group's warn action",
             "WARN_USERS"),
    HelpLine("/swarn, /dwarn (user) [reason]", "warn silently, or by reply deleting their message", "WARN_USERS"),
    HelpLine("/pin [loud|notify], /unpin (reply)", "pin messages (silently unless loud)", "PIN_MESSAGES"),
    HelpLine("/del (reply), /purge [n], /spurge [n], /purgefrom + /purgeto (reply)",
             "delete messages (last 48 hours); spurge says nothing", "DELETE_MESSAGES"),
    *command_settings.HELP,
    HelpLine("/grant <role> <user>, /revoke <role> <user>", "roles ranked below yours", "MANAGE_ROLES"),
    HelpLine("/sync", "reload the admin list from Telegram", "MANAGE_ROLES"),
    *stats_commands.HELP,
    HelpLine("/setlog (forwarded from the channel), /unsetlog", "post every action and settings change to a log "
             "channel", "MANAGE_SETTINGS"),
    HelpLine("/protection", "this group's protection settings", "VIEW_GROUPS"),
    HelpLine("/setwelcome, /setgoodbye (text or reply), /resetwelcome, /resetgoodbye", "welcome and goodbye texts",
             "MANAGE_SETTINGS"),
    HelpLine("/welcome, /goodbye, /cleanwelcome, /cleanservice on|off", "greetings and service-message cleanup",
             "MANAGE_SETTINGS"),
    HelpLine("/setrules (text or reply), /resetrules, /privaterules on|off", "the rules", "MANAGE_SETTINGS"),
    HelpLine("/captcha on|off|button|math|emoji|<time>, /captchaaction kick|mute", "join verification",
             "MANAGE_SETTINGS"),
    HelpLine("/setflood <n|off> [<time>], /setfloodmode <action> [<time>], /clearflood on|off", "antiflood",
             "MANAGE_SETTINGS"),
    HelpLine("/antiraid [on|off|<time>], /setraid <joins> <seconds> <minutes>, /raidaction <action>", "anti-raid",
             "MANAGE_SETTINGS"),
    HelpLine("/approve, /unapprove (user)", "exempt a member from automated protection", "MANAGE_ROLES"),
    HelpLine("/approved", "the approved members", "VIEW_GROUPS"),
    *content_commands.HELP_LINES, *content_filters.HELP_LINES, *notes.HELP_LINES,
    *federation_commands.HELP_LINES,
    HelpLine("/admin_dashboard", "platform-wide figures", "ADMIN_DASHBOARD", anywhere=True, platform_wide=True),
]
TELEGRAM_TEXT_LIMIT = 4096


def message_parts(heading: str, lines: list[str], limit: int = TELEGRAM_TEXT_LIMIT) -> list[str]:
    """The heading and lines as as few messages as Telegram's length allows, split between lines (an owner's whole
    list is longer than one message)."""
    parts, current = [], heading
    for line in lines:
        if len(current) + 1 + len(line) > limit:
            parts.append(current)
            current = line
        else:
            current = f"{current}\n{line}"
    parts.append(current)
    return parts


HELP_PAYLOAD = "help_"  # /start help_<chat id>: the deep link a group's /help offers when it cannot write first


async def help_lines(context: BotContext, actor: Actor, chat_id: int | None) -> list[str]:
    """The HELP lines the actor may run in that group (`chat_id`) or in a private chat (None): one batch check."""
    shown = [line for line in HELP if chat_id is not None or line.anywhere]
    checked = sorted({(line.permission, line.platform_wide) for line in shown if line.permission})
    allowed = set()
    if checked:
        checks = [{"permission": permission, **actor.check_kwargs(),
                   **({} if platform_wide or chat_id is None else {"telegram_chat_id": chat_id})}
                  for permission, platform_wide in checked]
        decisions = await core_call(context.core.check_permissions(checks))
        allowed = {key for key, decision in zip(checked, decisions, strict=True) if decision.allowed}
    return [f"{html.escape(line.usage)}: {html.escape(line.text)}" for line in shown
            if line.permission is None or (line.permission, line.platform_wide) in allowed]


async def start(update: Update, context: BotContext) -> None:
    payload = (context.args or [""])[0]
    if payload.startswith(HELP_PAYLOAD) and update.effective_user is not None:
        try:
            chat_id = int(payload.removeprefix(HELP_PAYLOAD))
        except ValueError:
            chat_id = None
        if chat_id is not None:
            await run_command(update, context, "help", lambda: _send_group_help(update, context, chat_id),
                              anywhere=True)
            return
    await reply(update, "Hi! I moderate groups with rules decided centrally. Add me to a group as an admin, "
                        "then send /help there.")


async def _send_group_help(update: Update, context: BotContext, chat_id: int) -> None:
    """After the deep link of a group's /help: what the user can do in that group, here in private."""
    actor = Actor(telegram_user_id=update.effective_user.id, core_user_id=None, display="")
    try:
        title = (await context.bot.get_chat(chat_id)).title or "that group"
    except TelegramError:
        title = "that group"
    lines = await help_lines(context, actor, chat_id)
    for part in message_parts(f"What you can do in {html.escape(title)}:", lines):
        await reply(update, part)


async def help_command(update: Update, context: BotContext) -> None:
    """In private: what works there. In a group: the group's list, sent privately (a group is no place for a
    long list); the group hears where it went, or, when Telegram will not let the bot write first, how to start
    the bot (a deep link that brings the list). Anonymous admins cannot be written to: their list stays in the
    group."""
    async def body():
        chat, message = update.effective_chat, update.effective_message
        actor = await resolve_actor(context, message)
        if not is_group(chat):
            lines = await help_lines(context, actor, None)
            await reply(update, "What you can do here:\n" + "\n".join(lines)
                        + "\n\nModeration commands work in groups: send /help in a group to see yours there.")
            return
        await ensure_group(context, chat)
        lines = await help_lines(context, actor, chat.id)
        heading = f"What you can do in {html.escape(chat.title or 'this group')}:"
        if actor.telegram_user_id is None:
            for part in message_parts(heading, lines):
                await reply(update, part)
            return
        try:
            for part in message_parts(heading, lines):
                await context.bot.send_message(actor.telegram_user_id, part)
        except TelegramError as exc:  # 403 for one who never started the bot (or blocked it); "chat not found"
            logger.info("could not send /help privately", extra={"chat_id": chat.id, "error": str(exc)})
            link = f"https://t.me/{context.bot.username}?start={HELP_PAYLOAD}{chat.id}"
            await reply(update, f"{actor.display}, I can't write to you first: start a chat with me, and I'll "
                                "send you what you can do here.", button=("Start the bot", link))
            return
        await reply(update, f"{actor.display}, I've sent you what you can do here in a private message.",
                    button=("Open the chat", f"https://t.me/{context.bot.username}"))

    await run_command(update, context, "help", body, anywhere=True)


async def id_command(update: Update, context: BotContext) -> None:
    async def body():
        message = update.effective_message
        target = message.reply_to_message.from_user if message.reply_to_message else message.from_user
        who = f"{target.mention_html()}: <code>{target.id}</code>\n" if target else ""
        await reply(update, f"{who}This chat: <code>{message.chat_id}</code>")

    await run_command(update, context, "id", body, anywhere=True)  # in the frame: /disable id applies


async def info(update: Update, context: BotContext) -> None:
    async def body():
        message, chat = update.effective_message, update.effective_chat
        parsed = parse_target_args(context.args or [], reply_from=reply_target(update), needs_target=False)
        actor = await resolve_actor(context, message)
        await require_permission(context, chat, actor, "VIEW_GROUPS")
        target_id = await resolve_target(context, chat, parsed.target) if parsed.target else actor.telegram_user_id
        user = await core_user(context, target_id)
        if user is None:
            raise StopCommand("Core has no record of that user yet.")
        group_id = await ensure_group(context, chat)
        roles = await core_call(context.core.assignments(user_id=user["id"], active=True))
        here = [a["role"] for a in roles["items"] if a["group_id"] in (None, group_id)]
        warnings = await core_call(context.core.warnings(group_id, user["id"]))
        await reply(update, "\n".join([
            f"<b>{html.escape(user['display_name'] or user['username'])}</b> (id <code>{target_id}</code>)",
            f"Username: @{html.escape(user['telegram_username'])}" if user["telegram_username"] else "No username",
            f"Roles here: {', '.join(here) or 'none'}",
            f"Warnings: {warnings['active_warnings']}/{warnings['warn_limit']}",
        ]))

    await run_command(update, context, "info", body)


async def adminlist(update: Update, context: BotContext) -> None:
    async def body():
        admins = await context.bot.get_chat_administrators(update.effective_chat.id)
        lines = []
        for admin in admins:
            if admin.user.is_bot:
                continue
            title = f" — {html.escape(admin.custom_title)}" if getattr(admin, "custom_title", None) else ""
            crown = " (owner)" if isinstance(admin, ChatMemberOwner) else ""
            anonymous = " (anonymous)" if getattr(admin, "is_anonymous", False) else ""
            lines.append(f"• {html.escape(admin.user.full_name)}{crown}{anonymous}{title}")
        await reply(update, "Admins:\n" + ("\n".join(lines) or "none"))

    await run_command(update, context, "adminlist", body)


async def roles(update: Update, context: BotContext) -> None:
    async def body():
        message, chat = update.effective_message, update.effective_chat
        parsed = parse_target_args(context.args or [], reply_from=reply_target(update), needs_target=False)
        actor = await resolve_actor(context, message)
        await require_permission(context, chat, actor, "VIEW_GROUPS")
        group_id = await ensure_group(context, chat)
        if parsed.target is None:
            listed = await core_call(context.core.assignments(group_id=group_id, active=True, limit=50))
            lines = [f"• {a['role']}: user {a['user_id']}" for a in listed["items"]]
            await reply(update, "Roles in this group:\n" + ("\n".join(lines) or "none"))
            return
        target_id = await resolve_target(context, chat, parsed.target)
        user = await core_user(context, target_id)
        held = []
        if user is not None:
            listed = await core_call(context.core.assignments(user_id=user["id"], active=True))
            held = [f"{a['role']} ({'global' if a['group_id'] is None else 'here'})" for a in listed["items"]
                    if a["group_id"] in (None, group_id)]
        await reply(update, f"{parsed.target.display}: {', '.join(held) or 'no roles'}")

    await run_command(update, context, "roles", body)


async def _role_change(update: Update, context: BotContext, *, grant: bool) -> None:
    name = "grant" if grant else "revoke"

    async def body():
        message, chat = update.effective_message, update.effective_chat
        args = list(context.args or [])
        if not args:
            raise UsageError(f"Usage: /{name} <role> <user> (or reply with /{name} <role>)")
        role = args.pop(0).lower()
        parsed = parse_target_args(args, reply_from=reply_target(update))
        actor = await resolve_actor(context, message)
        group_id = await ensure_group(context, chat)
        await require_permission(context, chat, actor, "MANAGE_ROLES")
        target_id = await resolve_target(context, chat, parsed.target)
        # The permission check just passed, so core knows the actor.
        actor_id = actor.core_user_id or (await core_user(context, actor.telegram_user_id, create=True))["id"]
        try:
            if grant:
                user = await core_user(context, target_id, create=True)
                await core_call(context.core.assign_role(user_id=user["id"], role=role, group_id=group_id,
                                                         actor_user_id=actor_id, reason=parsed.reason))
                await reply(update, f"{parsed.target.display or target_id} is now {html.escape(role)} here.")
                return
            user = await core_user(context, target_id)
            held = (await core_call(context.core.assignments(user_id=user["id"], group_id=group_id, role=role,
                                                             active=True)))["items"] if user else []
            if not held:
                raise StopCommand(f"{parsed.target.display or target_id} does not hold {html.escape(role)} here.")
            await core_call(context.core.revoke_assignment(held[0]["id"], actor_user_id=actor_id,
                                                           reason=parsed.reason))
            await reply(update, f"{parsed.target.display or target_id} is no longer {html.escape(role)} here.")
        except CoreError as exc:
            raise StopCommand(html.escape(exc.message)) from exc

    await run_command(update, context, name, body)


async def grant(update, context):
    await _role_change(update, context, grant=True)


async def revoke(update, context):
    await _role_change(update, context, grant=False)


async def sync(update: Update, context: BotContext) -> None:
    async def body():
        actor = await resolve_actor(context, update.effective_message)
        await require_permission(context, update.effective_chat, actor, "MANAGE_ROLES")
        result = await sync_admins(context, update.effective_chat)
        await reply(update, f"Synced {result['admins']} admins.")

    await run_command(update, context, "sync", body)


async def admin_dashboard(update: Update, context: BotContext) -> None:
    """The seed's flow: check ADMIN_DASHBOARD, fetch system stats, reply formatted."""
    async def body():
        actor = await resolve_actor(context, update.effective_message)
        await require_permission(context, None, actor, "ADMIN_DASHBOARD")  # platform-wide figures: a global grant
        stats = await core_call(context.core.system_stats())
        await reply(update, "\n".join([
            "<b>Platform</b>",
            f"Users: {stats['users']} ({stats['active_users']} active)",
            f"Groups: {stats['groups']} ({stats['active_groups']} active)",
            f"Active role assignments: {stats['active_assignments']}",
            f"Permission checks (24 h): {stats['checks_24h']}, denied {stats['denials_24h']}",
            f"Messages (24 h): {stats['messages_24h']}; moderation actions: {stats['moderation_actions_24h']}; "
            f"reports: {stats.get('reports_24h', 0)}",
        ]))

    await run_command(update, context, "admin_dashboard", body, anywhere=True)


async def report(update: Update, context: BotContext) -> None:
    """/report [reason] (reply): the admins are mentioned under the reported message, and the report is recorded in
    core (type report, executed), which posts it to the group's log channel like any action. Nothing when the
    group turned reports off (/reports off), as Rose; an admin's message is not reported."""
    async def body():
        message, chat = update.effective_message, update.effective_chat
        if not setting(await _cached_settings(context, chat.id), "reports_enabled", True):
            return
        replied = message.reply_to_message
        if replied is None:
            raise UsageError("Reply to the message you want to report.")
        admins = await context.bot.get_chat_administrators(chat.id)
        reported = replied.from_user
        if reported is not None and any(admin.user.id == reported.id for admin in admins):
            raise StopCommand("That's an admin's message: reports are for members' messages.")
        if replied.sender_chat is not None and replied.sender_chat.id == chat.id:
            raise StopCommand("That was sent by the group's anonymous admins: reports are for members' messages.")
        actor = await resolve_actor(context, message)
        await ensure_group(context, chat)
        reason = " ".join(context.args or [])
        target = ({"target_telegram_user_id": reported.id}
                  if reported is not None and not reported.is_bot and reported.id != ANONYMOUS_ADMIN_BOT_ID else {})
        record = await record_action(context, chat, actor, "report", telegram_message_id=replied.message_id,
                                     reason=reason or "no reason given", **target)
        mentions = [f'<a href="tg://user?id={a.user.id}">\u2063</a>' for a in admins
                    if not a.user.is_bot and not getattr(a, "is_anonymous", False)
                    and isinstance(a, ChatMemberAdministrator | ChatMemberOwner)]
        try:
            await replied.reply_html(f"Reported to the admins: {html.escape(reason) or 'no reason given'}"
                                     f"{''.join(mentions)}")
        except TelegramError as exc:
            await complete_action(context, record.action.id, exc)
            raise StopCommand(f"Telegram refused: {html.escape(exc.message)}") from exc
        await complete_action(context, record.action.id, None)

    await run_command(update, context, "report", body)


async def _cached_settings(context: BotContext, chat_id: int):
    """The group's protection settings (cached; run_command loaded them when it could)."""
    return context.bot_data.protection.get(chat_id)


def handlers() -> list[CommandHandler]:
    message_only = filters.UpdateType.MESSAGE
    return [
        CommandHandler("start", start, filters=message_only & filters.ChatType.PRIVATE),
        CommandHandler("help", help_command, filters=message_only),
        CommandHandler("id", id_command, filters=message_only),
        CommandHandler("info", info, filters=message_only),
        CommandHandler("adminlist", adminlist, filters=message_only),
        CommandHandler("roles", roles, filters=message_only),
        CommandHandler("grant", grant, filters=message_only),
        CommandHandler("revoke", revoke, filters=message_only),
        CommandHandler("sync", sync, filters=message_only),
        CommandHandler("admin_dashboard", admin_dashboard, filters=message_only),
        CommandHandler("report", report, filters=message_only),
    ]

