"""Ban lists on arrival: a member on a list the group follows is banned when they join, when they write, or when the
bot syncs the group's admins.

The check is the cache's (cache.py: no core call, no await): a group whose settings follow no list pays nothing but
reading an empty tuple (the content rules' message path calls `observe_message` only when `settings.ban_lists`).
When it finds the member on a list, the act is the automated actions' (protection/enforcement.py): core confirms
the ban and gives its reason (`user_ban_lists`: the cache may be a few seconds behind an unban), records the ban
(rule "banlist", actor system:banlist; core refuses an exempt member: 403 exempt_member), the bot bans on Telegram
(banChatMember; a message that revealed the member is deleted with it), completes the record with Telegram's
outcome and says it in the group.

Once per (chat, member, list version) for messages and admin syncs: a member who keeps writing while their ban runs,
or whom core exempts, is not asked about again until the list changes. A join is always a new arrival (joins.py
tells each once): a member a group's admin let back in on Telegram is banned again when they rejoin. An exempt
member (an admin, an approved member: the group's own exemptions hold) is left alone, and the group's moderators are
told once per (chat, member, list).

A join whose lists are not cached yet (the bot just started, a group just joined a list) asks core about the
joiner instead (one call), while the lists load in the background.
"""

from __future__ import annotations

import html
import logging

from cachetools import TTLCache
from telegram.constants import ParseMode
from telegram.error import TelegramError

from apps.coreclient import CoreError, CoreUnavailable

from ..protection.enforcement import (
    EXECUTED,
    FAILED,
    Act,
    automation,
    automation_core,
    cached_settings,
    carry_out,
    mention,
)

logger = logging.getLogger(__name__)

RULE = "banlist"
ACTED_SECONDS = 24 * 3600  # what a (chat, member, list version) came to is remembered this long
TOLD_SECONDS = 7 * 24 * 3600  # an exempt member's notice is not repeated for this long
CORE_AWAY_SECONDS = 10.0  # core did not answer: the member's next messages wait this long before asking again
CLEARED = "cleared"  # core said the member is not on the list after all (the cache was behind an unban)
AWAY = object()  # what _on_lists answers when core did not
SERVICE_SENDER_IDS = frozenset({777000, 1087968824})  # Telegram (linked channel posts), GroupAnonymousBot


class ArrivalChecks:
    """What the checks on arrival remember (one per bot: BotData.banlist_checks)."""

    def __init__(self, *, capacity: int = 100_000):
        # (chat, member, list, version) -> what it came to (an outcome of enforcement.py, or CLEARED when core said
        # the member is not on the list after all); "pending" while the act runs.
        self.acted: TTLCache[tuple, str] = TTLCache(maxsize=capacity, ttl=ACTED_SECONDS)
        # (chat, member) -> the act in flight: the member's further messages are deleted with it.
        self.acting: dict[tuple[int, int], Act] = {}
        # (chat, member, list) whose moderators were told the member is exempt.
        self.told: TTLCache[tuple, bool] = TTLCache(maxsize=capacity, ttl=TOLD_SECONDS)
        # (chat, member) for which core was unreachable: not asked again for a little while.
        self.away: TTLCache[tuple[int, int], bool] = TTLCache(maxsize=capacity, ttl=CORE_AWAY_SECONDS)

    # The hooks the message path, joins.py and flows.sync_admins call through BotData.banlist_checks (so those
    # modules need not import this package, which uses theirs).

    @staticmethod
    def observe_message(bot_data, settings, message: dict) -> bool:
        return observe_message(bot_data, settings, message)

    @staticmethod
    async def check_join(context, chat, user, settings) -> bool:
        return await check_join(context, chat, user, settings)

    @staticmethod
    def check_admins(application, chat_id: int, users) -> None:
        check_admins(application, chat_id, users)


def checks(bot_data) -> ArrivalChecks:
    return bot_data.banlist_checks


# -- a member's message (every message of a group that follows a list: cheap unless the member is on one)


def observe_message(bot_data, settings, message: dict) -> bool:
    """A group message (Telegram's JSON) in a group whose settings follow lists. True when its sender is on one of
    them and is being (or was) banned for it: the message is deleted with the ban, the content rules need not look
    at it. Never raises and never awaits."""
    try:
        return _observe(bot_data, settings, message)
    except Exception:
        logger.exception("ban list check failed on a message", extra={"chat_id": settings.telegram_chat_id})
        return False


def _observe(bot_data, settings, message: dict) -> bool:
    if "new_chat_members" in message or "left_chat_member" in message:
        return False  # joins are checked by joins.py; a leave needs nothing
    sender = message.get("from")
    if sender is None or message.get("sender_chat") is not None:
        return False  # a channel or the group itself: not a member a list can name
    uid = sender.get("id")
    if type(uid) is not int or uid in SERVICE_SENDER_IDS:
        return False
    list_id = bot_data.banlists.banned_in(settings.ban_lists, uid)
    if list_id is None:
        return False
    chat_id = settings.telegram_chat_id
    state = checks(bot_data)
    message_id = message.get("message_id")
    pending = state.acting.get((chat_id, uid))
    if pending is not None:
        if message_id is not None:
            pending.add(message_id)
        return True
    key = (chat_id, uid, list_id, bot_data.banlists.version(list_id))
    outcome = state.acted.get(key)
    if outcome is not None:
        return outcome in (EXECUTED, FAILED)
    if (chat_id, uid) in state.away or (chat_id, uid) in automation(bot_data).exempt:
        return False
    application = automation(bot_data).application
    if application is None:
        return False
    name = " ".join(part for part in (sender.get("first_name"), sender.get("last_name")) if part)
    act = _act(settings, chat_id, uid, name, list_id, message_id)
    state.acted[key] = "pending"
    state.acting[(chat_id, uid)] = act
    automation(bot_data).spawn(_quietly(_carry_out(application, settings, act, key)))
    return True


# -- a join (joins.py, before anti-raid, captcha and the welcome)


async def check_join(context, chat, user, settings) -> bool:
    """A member joined a group that follows lists. True when they are on one and were banned for it (or Telegram
    refused the ban: then they get no challenge or welcome either); False to go on as for any join."""
    bot_data = context.bot_data
    cache = bot_data.banlists
    list_id = cache.banned_in(settings.ban_lists, user.id)
    confirmed = None
    if list_id is None:
        missing = cache.missing(settings.ban_lists)
        if not missing:
            return False
        # Not cached yet (loading in the background): core answers for this joiner.
        confirmed = await _on_lists(bot_data, user.id, missing)
        if confirmed is None or confirmed is AWAY:
            return False
        list_id = confirmed["ban_list"]["id"]
    # Each join is a new arrival (joins.py tells each once): a member an admin let back in is banned again.
    outcome = await enforce(context.application, settings, chat.id, user.id, user.full_name, list_id,
                            confirmed=confirmed, again=True)
    return outcome in (EXECUTED, FAILED)


# -- the admins the bot synced (flows.sync_admins)


def check_admins(application, chat_id: int, users) -> None:
    """The group's admins as Telegram listed them at a sync: any on a list the group follows is acted on (core
    refuses the ban of an admin: the moderators are told once). In the background; never raises."""
    bot_data = application.bot_data
    try:
        settings = cached_settings(bot_data, chat_id)
        if settings is None or not settings.ban_lists:
            return
        hits = [(user, list_id) for user in users if not user.is_bot
                for list_id in [bot_data.banlists.banned_in(settings.ban_lists, user.id)] if list_id is not None]
        for user, list_id in hits:
            automation(bot_data).spawn(_quietly(enforce(application, settings, chat_id, user.id, user.full_name,
                                                        list_id)))
    except Exception:
        logger.exception("ban list check failed on an admin sync", extra={"chat_id": chat_id})


async def _quietly(coroutine) -> None:
    try:
        await coroutine
    except Exception:
        logger.exception("ban list act failed")


# -- the act


async def enforce(application, settings, chat_id: int, uid: int, name: str, list_id: str, *,
                  message_id: int | None = None, confirmed: dict | None = None, again: bool = False) -> str | None:
    """The ban of a member the cache (or core, `confirmed`) found on `list_id`, once per (chat, member, list
    version) unless `again` (a join). Returns what it came to (an outcome of enforcement.py), or None when it was not
    tried (in flight, done before, or core says the member is not on the list after all)."""
    bot_data = application.bot_data
    state = checks(bot_data)
    key = (chat_id, uid, list_id, bot_data.banlists.version(list_id))
    done = state.acted.get(key)
    if (chat_id, uid) in state.acting or done == "pending":
        return None
    if done is not None and not again:
        return done
    act = _act(settings, chat_id, uid, name, list_id, message_id)
    state.acted[key] = "pending"
    state.acting[(chat_id, uid)] = act
    return await _carry_out(application, settings, act, key, confirmed=confirmed)


def _act(settings, chat_id: int, uid: int, name: str, list_id: str, message_id: int | None) -> Act:
    list_name = settings.ban_list_names.get(list_id) or list_id
    return Act(rule=RULE, chat_id=chat_id, user_id=uid, name=name, mode="ban", reason=f"Ban list {list_name}",
               cause=f"being banned in the federation <b>{html.escape(list_name)}</b>", message_id=message_id,
               delete=[message_id] if message_id is not None else [],
               details={"ban_list_id": list_id, "ban_list_name": list_name})


async def _carry_out(application, settings, act: Act, key: tuple, *, confirmed: dict | None = None) -> str | None:
    bot_data = application.bot_data
    state = checks(bot_data)
    list_id = act.details["ban_list_id"]
    outcome = None
    try:
        if confirmed is None:
            confirmed = await _on_lists(bot_data, act.user_id, [list_id])
        if confirmed is AWAY:
            state.away[(act.chat_id, act.user_id)] = True
            state.acted.pop(key, None)
            return None
        if confirmed is None:  # unbanned meanwhile: the cache catches up at its next round
            state.acted[key] = CLEARED
            return None
        reason = (confirmed.get("reason") or "").strip()
        if reason:
            act.reason = f"{act.reason}: {reason}"[:500]
            act.note = reason
        async with automation(bot_data).act_slots():
            outcome = await carry_out(application, act)
        state.acted[key] = outcome
        if outcome == "exempt":
            await _tell_exempt(application, act, settings)
        elif outcome == "unavailable":
            state.away[(act.chat_id, act.user_id)] = True
            state.acted.pop(key, None)
        return outcome
    except BaseException:
        if state.acted.get(key) == "pending":
            del state.acted[key]
        raise
    finally:
        if state.acting.get((act.chat_id, act.user_id)) is act:
            del state.acting[(act.chat_id, act.user_id)]


async def _on_lists(bot_data, uid: int, list_ids) -> dict | object | None:
    """Core's own word on whether the user is on one of `list_ids`: that ban ({"ban_list": {"id", "name"},
    "reason", ...}), None when on none of them, AWAY when core did not answer."""
    core = automation_core(bot_data)
    try:
        answer = await core.user_ban_lists(telegram_user_id=uid)
    except (CoreUnavailable, CoreError) as exc:
        logger.info("ban list: core's word on a member not had", extra={"telegram_user_id": uid, "error": str(exc)})
        return AWAY
    wanted = set(list_ids)
    for ban in answer.get("bans") or ():
        if str((ban.get("ban_list") or {}).get("id")) in wanted:
            return ban
    return None


async def _tell_exempt(application, act: Act, settings) -> None:
    """Core refused the ban (an admin or approved member here): the moderators are told, once per (chat, member,
    list)."""
    state = checks(application.bot_data)
    told = (act.chat_id, act.user_id, act.details["ban_list_id"])
    if told in state.told:
        return
    state.told[told] = True
    why = automation(application.bot_data).exempt.get((act.chat_id, act.user_id)) or ""
    list_name = html.escape(act.details["ban_list_name"])
    reason = f" (reason: {html.escape(act.note)})" if act.note else ""
    exemption = {"approved": "approved here", "admin": "an admin here"}.get(why, "exempt here")
    text = (f"Moderators: {mention(act.user_id, act.name)} is banned in the federation <b>{list_name}</b>{reason}, "
            f"but is {exemption}, so I have not banned them.")
    try:
        await application.bot.send_message(act.chat_id, text, parse_mode=ParseMode.HTML)
    except TelegramError as exc:
        logger.info("ban list: exempt notice not sent", extra={"chat_id": act.chat_id, "error": exc.message})
