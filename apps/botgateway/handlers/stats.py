"""/stats, /mystats and /digest: a group's analytics in the chat (issue 19; figures defined in docs/analytics.md).

- /stats [today|7d|30d]: the group's summary for those core lets VIEW_STATS; the figures are core's (the group
  analytics endpoint, asked as the service once core has allowed the asker).
- /mystats: any member's own figures in this group (the member analytics endpoint for the sender's own core user
  only, so no permission is needed: nobody reads another member's row through it).
- /digest on|off: the weekly digest core posts to the group's log channel (a group setting, MANAGE_SETTINGS; the
  group PATCH carries the actor, so core checks and audits it too).
Names are shown as plain text: escaped, and an "@" in them never becomes a mention that notifies someone.
"""

import html
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from telegram import Update
from telegram.ext import CommandHandler, filters

from ..command_frame import ADMIN_PERMISSION, run_command
from ..context import BotContext
from ..flows import StopCommand, core_call, core_user, ensure_group, reply, require_permission, resolve_actor
from ..helplines import HelpLine
from ..parsing import UsageError
from ..protection.commands import on_off, state

PERMISSION = "VIEW_STATS"
PERIODS = {"today": "Today", "7d": "Last 7 days", "30d": "Last 30 days"}
PERIOD_ALIASES = {"day": "today", "week": "7d", "7": "7d", "month": "30d", "30": "30d"}
DEFAULT_PERIOD = "7d"
TOP_MEMBERS = 5
STATS_USAGE = "Use /stats (the last 7 days), /stats today, /stats 7d or /stats 30d."
DIGEST_USAGE = "Use /digest on or /digest off."
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_WORD_JOINER = "\u2060"

HELP = [
    HelpLine("/stats [today|7d|30d]", "this group's activity, top members and moderation", PERMISSION),
    HelpLine("/mystats", "your own activity in this group"),
    HelpLine("/digest on|off", "a weekly summary posted to the log channel every Monday", ADMIN_PERMISSION),
]


def plain_name(name: str) -> str:
    """A member's name as text that neither renders as HTML nor pings anyone."""
    return html.escape(name).replace("@", "@" + _WORD_JOINER)


def percent(rate) -> str:
    return "n/a" if rate is None else f"{rate * 100:.1f}%"


def signed(value: int) -> str:
    return f"+{value}" if value > 0 else str(value)


def parse_period(args: list[str]) -> str:
    if not args:
        return DEFAULT_PERIOD
    if len(args) != 1:
        raise UsageError(STATS_USAGE)
    period = args[0].lower()
    period = PERIOD_ALIASES.get(period, period)
    if period not in PERIODS:
        raise UsageError(STATS_USAGE)
    return period


def _day(iso: str) -> str:
    return f"{date.fromisoformat(iso):%d %b}"


def busiest_hour(heatmap: list[list[int]]) -> str | None:
    """The hour of the day (the group's clock) with most messages in the period, as "18:00-19:00"."""
    by_hour = [sum(day[hour] for day in heatmap) for hour in range(24)]
    best = max(range(24), key=lambda hour: (by_hour[hour], -hour))
    return f"{best:02d}:00-{(best + 1) % 24:02d}:00" if by_hour[best] else None


def moderation_lines(moderation: dict) -> list[str]:
    if moderation["actions"]:
        kinds = ", ".join(f"{kind} {count}" for kind, count in sorted(moderation["by_type"].items()))
        summary = (f"{moderation['actions']} actions ({moderation['automated']} automated, "
                   f"{moderation['manual']} manual): {kinds}")
    else:
        summary = "none"
    return [f"Moderation: {summary}", f"Reports by members: {moderation['reports']}"]


def summary_text(period: str, figures: dict, title: str) -> str:
    totals, activity = figures["totals"], figures["activity"]
    span = _day(figures["start"]) if figures["start"] == figures["end"] else \
        f"{_day(figures['start'])} to {_day(figures['end'])}"
    lines = [f"<b>{html.escape(title)}: {PERIODS[period].lower()}</b> "
             f"({span}, {html.escape(figures['timezone'])})",
             f"Messages: {totals['messages']}, active members: {totals['active_members']}",
             f"DAU {activity['dau']:.1f}, MAU {activity['mau']}, stickiness {percent(activity['stickiness'])}",
             f"Joins: {totals['joins']}, leaves: {totals['leaves']}, net growth: {signed(totals['net_growth'])}"]
    hour = busiest_hour(figures["heatmap"])
    if hour is not None:
        lines.append(f"Busiest hour: {hour}")
    top = figures["top_members"][:TOP_MEMBERS]
    if top:
        lines.append("Top members:")
        lines += [f"{rank}. {plain_name(member['display_name'] or member['username'])}: {member['messages']} "
                  f"({percent(member['share'])})" for rank, member in enumerate(top, 1)]
    lines += moderation_lines(figures["moderation"])
    return "\n".join(lines)


async def stats(update: Update, context: BotContext) -> None:
    async def body():
        chat = update.effective_chat
        period = parse_period(context.args or [])
        actor = await resolve_actor(context, update.effective_message)
        await require_permission(context, chat, actor, PERMISSION)
        group_id = await ensure_group(context, chat)
        figures = await core_call(context.core.group_analytics(group_id, period=period))
        await reply(update, summary_text(period, figures, chat.title or "This group"))

    await run_command(update, context, "stats", body)


def local_day(iso: str | None, zone_name: str) -> str:
    """Core's UTC instant as the day it was in the group's clock."""
    if not iso:
        return "not yet"
    moment = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        zone = UTC
    return moment.astimezone(zone).date().isoformat()


def mystats_text(figures: dict) -> str:
    series = figures["series"]
    last_7 = sum(point["messages"] for point in series[-7:])
    warnings, received = figures["warnings"], figures["actions_received"]
    actions = ", ".join(f"{kind} {count}" for kind, count in sorted(received.items())) or "none"
    return "\n".join([
        f"<b>{plain_name(figures['display_name'] or figures['username'])} in this group</b>",
        f"First seen: {local_day(figures['first_seen'], figures['timezone'])}",
        f"Messages: {last_7} in the last 7 days, {figures['period']['messages']} in the last 30, "
        f"{figures['lifetime']['messages']} in all",
        f"Warnings: {warnings['active']} active ({warnings['total']} in all)",
        f"Actions received: {actions}",
    ])


async def _own_core_user(context: BotContext, telegram_user_id: int) -> dict | None:
    user = await core_user(context, telegram_user_id)
    if user is None and context.bot_data.shipper is not None and await context.shipper.deliver_pending():
        user = await core_user(context, telegram_user_id)  # their first message was still on its way to core
    return user


async def mystats(update: Update, context: BotContext) -> None:
    async def body():
        message, chat = update.effective_message, update.effective_chat
        sender = message.from_user
        if message.sender_chat is not None or sender is None or sender.is_bot:
            raise StopCommand("/mystats shows a member their own figures: send it from your own account.")
        group_id = await ensure_group(context, chat)
        user = await _own_core_user(context, sender.id)
        if user is None:
            raise StopCommand("I have no figures for you here yet: they start with your first message in this "
                              "group.")
        # The sender's own row only: the bot asks as the service, no other member's figures are read here.
        figures = await core_call(context.core.member_analytics(group_id, user["id"], period="30d"))
        await reply(update, mystats_text(figures))

    await run_command(update, context, "mystats", body)


async def digest(update: Update, context: BotContext) -> None:
    """/digest on|off: the weekly digest in the log channel; without an argument, whether it is on."""
    async def body():
        message, chat = update.effective_message, update.effective_chat
        args = context.args or []
        actor = await resolve_actor(context, message)
        group_id = await ensure_group(context, chat)
        if not args:
            await require_permission(context, chat, actor, "VIEW_GROUPS")
            group = await core_call(context.core.group_get(group_id))
            where = "" if group.get("log_chat_id") else " No log channel is set: /setlog first."
            await reply(update, f"The weekly digest is {state(bool(group.get('weekly_digest')))} here.{where} "
                                f"{DIGEST_USAGE}")
            return
        value = on_off(args, DIGEST_USAGE)
        await require_permission(context, chat, actor, ADMIN_PERMISSION)
        # The group PATCH names its actor by core id: the check just passed, so core knows them.
        actor_id = actor.core_user_id or (await core_user(context, actor.telegram_user_id, create=True))["id"]
        group = await core_call(context.core.group_update(group_id, weekly_digest=value, actor_user_id=actor_id))
        if not value:
            await reply(update, "Weekly digest: off.")
            return
        where = ("" if group.log_chat_id is not None else
                 " No log channel is set yet: it is posted there once you /setlog one.")
        await reply(update, "Weekly digest: on. Last week's figures are posted to the log channel every Monday "
                            f"(the group's time zone).{where}")

    await run_command(update, context, "digest", body)


def handlers() -> list[CommandHandler]:
    message_only = filters.UpdateType.MESSAGE
    return [CommandHandler("stats", stats, filters=message_only),
            CommandHandler("mystats", mystats, filters=message_only),
            CommandHandler("digest", digest, filters=message_only)]
