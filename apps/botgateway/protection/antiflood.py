"""Antiflood: N messages from one member within T seconds (or N consecutive messages from one member in the chat,
when the window is unset, as Rose counts them) trigger the group's flood action, once per flood.

`observe_message` runs for every group message the bot sees, on both paths (the webhook's plain-message shortcut and
the application's `activity.count`), so it is pure bookkeeping in memory: the group's settings come from the cache
(`BotData.protection`, loaded in the background on a miss, never a core call per message), a member's recent messages
are a deque, and idle members and chats are swept out as the dicts grow (bounded memory).

A flood schedules one task, which asks core to record the automated action (actor `system:antiflood`; core refuses
exempt members: admins and approved members, remembered here for a minute so their further messages cost nothing),
acts on Telegram, completes the record (executed, or failed with Telegram's error) and says it in the group in one
short line. Messages the member sends while that task runs belong to the same flood: they are deleted with it when
the group deletes flood messages, and never trigger a second action. Once the task is done, counting starts over.
"""

import asyncio
import html
import logging
import time
from collections import deque
from dataclasses import dataclass, field

from cachetools import TTLCache
from telegram import ChatPermissions
from telegram.error import RetryAfter, TelegramError

from apps.common.error_codes import ErrorCode
from apps.coreclient import CoreError, CoreUnavailable

from ..durations import describe_duration, restriction_end

logger = logging.getLogger(__name__)

RULE = "antiflood"
AUTOMATION_CORE_TIMEOUT = 5.0  # seconds: an automated action's core calls run in the background
EXEMPT_SECONDS = 60  # how long core's "exempt" answer about a member is reused
LOAD_RETRY_SECONDS = 10  # after a failed settings load, the chat's messages wait this long before asking again
IDLE_CHAT_SECONDS = 600  # a chat silent this long (by its messages' dates) is forgotten at the next sweep
FIRST_SWEEP_AT = 256  # members (or chats) kept before the first sweep; then twice what the last sweep left
MAX_FLOOD_MESSAGES = 1000  # message ids kept for deletion per flood
DELETE_BATCH = 100  # Telegram's deleteMessages takes at most 100 ids

# Core's moderation type, and whether the action is temporary (the settings' duration), per flood action.
ACTION_TYPES = {"delete": "delete", "warn": "warn", "mute": "mute", "tmute": "mute", "kick": "kick", "ban": "ban",
                "tban": "ban"}
TIMED_ACTIONS = frozenset({"tmute", "tban"})
DONE_WORDS = {"delete": "had their flood deleted", "warn": "has been warned", "mute": "has been muted",
              "tmute": "has been muted", "kick": "has been kicked", "ban": "has been banned", "tban": "has been banned"}


@dataclass(slots=True, eq=False)
class Flood:
    """One flood: who, the messages that made it (and those sent while it is being handled), and the group's flood
    settings when it was detected."""

    chat_id: int
    user_id: int
    message_ids: list[int]
    count: int
    limit: int
    window_seconds: int | None
    action: str
    duration_seconds: int | None
    delete_messages: bool
    name: str = ""
    detected_at: float = field(default_factory=time.monotonic)

    @property
    def deletes(self) -> bool:
        return self.delete_messages or self.action == "delete"

    def add(self, message_id: int) -> None:
        if len(self.message_ids) < MAX_FLOOD_MESSAGES:
            self.message_ids.append(message_id)


class _ChatState:
    __slots__ = ("floods", "last_date", "last_sender", "limit", "members", "streak", "sweep_at", "window")

    def __init__(self, limit: int, window: int | None):
        self.limit, self.window = limit, window
        self.members: dict[int, deque] = {}  # window mode: user -> their last `limit` (date, message id)
        self.last_sender: int | None = None  # consecutive mode: who wrote the chat's last message
        self.streak: list[int] = []  # ... and the ids of their messages since someone else wrote
        self.last_date = 0.0
        self.floods: dict[int, Flood] = {}  # user -> the flood being handled
        self.sweep_at = FIRST_SWEEP_AT

    def sweep(self, now: float) -> None:
        horizon = now - self.window
        for user_id in [user for user, entries in self.members.items() if entries[-1][0] <= horizon]:
            del self.members[user_id]
        self.sweep_at = max(FIRST_SWEEP_AT, 2 * len(self.members))


class FloodTracker:
    """Counts each member's messages per chat and tells of a flood once. Pure: it decides, `observe_message` acts."""

    def __init__(self, *, clock=time.monotonic, exempt_seconds: float = EXEMPT_SECONDS, capacity: int = 100_000):
        self._chats: dict[int, _ChatState] = {}
        self._sweep_chats_at = FIRST_SWEEP_AT
        self._clock = clock
        # (chat, user) core said is exempt: their floods are not reported again for a while.
        self.exempt: TTLCache[tuple[int, int], str] = TTLCache(maxsize=capacity, ttl=exempt_seconds, timer=clock)
        # Chats whose settings are being loaded, and when a failed load may be tried again.
        self.loading: set[int] = set()
        self.load_failed_until: dict[int, float] = {}
        self.tasks: set[asyncio.Task] = set()
        self.application = None  # bound in post_init: the bot and core the flood tasks use
        # The core client of automated actions (antiflood, anti-raid), opened in post_init: background work waits
        # for a slow answer (AUTOMATION_CORE_TIMEOUT) instead of timing out and asking twice, and its circuit
        # breaker is not the commands' one.
        self.core = None

    def open_core(self, base_url: str, api_key: str) -> None:
        from apps.coreclient import AsyncCoreClient

        self.core = AsyncCoreClient(base_url, api_key, timeout=AUTOMATION_CORE_TIMEOUT, retries=0)

    async def close_core(self) -> None:
        core, self.core = self.core, None
        if core is not None:
            await core.aclose()

    def observe(self, settings, chat_id: int, user_id: int, message_id: int, date: float,
                name: str = "") -> Flood | None:
        """Counts one message; the Flood when this message makes one (not for the messages that follow it)."""
        limit = settings.flood_limit
        if not limit:
            if chat_id in self._chats and not self._chats[chat_id].floods:
                del self._chats[chat_id]
            return None
        state = self._chats.get(chat_id)
        window = settings.flood_window_seconds
        # Only a change of the count's own settings starts it over (a new version may be any setting's change).
        if state is None or state.limit != limit or state.window != window:
            state = self._fresh_state(chat_id, state, limit, window, date)
        state.last_date = date
        flood = state.floods.get(user_id)
        if flood is not None:  # being handled: part of that flood
            flood.add(message_id)
            if window is None:
                state.last_sender, state.streak = user_id, []
            return None
        if window is None:
            if state.last_sender == user_id:
                state.streak.append(message_id)
            else:
                state.last_sender, state.streak = user_id, [message_id]
            if len(state.streak) < limit:
                return None
            message_ids, state.streak = state.streak, []
        else:
            entries = state.members.get(user_id)
            if entries is None:
                if len(state.members) >= state.sweep_at:
                    state.sweep(date)
                entries = state.members[user_id] = deque(maxlen=limit)
            entries.append((date, message_id))
            if len(entries) < limit or date - entries[0][0] >= window:
                return None
            message_ids = [mid for _, mid in entries]
            del state.members[user_id]
        if (chat_id, user_id) in self.exempt:
            return None
        flood = Flood(chat_id, user_id, message_ids, len(message_ids), limit, window, settings.flood_action,
                      settings.flood_action_duration_seconds, settings.flood_delete_messages, name)
        state.floods[user_id] = flood
        return flood

    def _fresh_state(self, chat_id: int, old: _ChatState | None, limit: int, window: int | None,
                     date: float) -> _ChatState:
        if old is None and len(self._chats) >= self._sweep_chats_at:
            self._sweep_chats(date)
        state = _ChatState(limit, window)
        if old is not None:
            state.floods = old.floods  # floods in hand stay one flood across a settings change
        self._chats[chat_id] = state
        return state

    def _sweep_chats(self, now: float) -> None:
        horizon = now - IDLE_CHAT_SECONDS
        for chat_id in [chat for chat, state in self._chats.items() if state.last_date <= horizon and not state.floods]:
            del self._chats[chat_id]
        self._sweep_chats_at = max(FIRST_SWEEP_AT, 2 * len(self._chats))

    def finished(self, flood: Flood) -> None:
        """The flood's task is done: the member's next messages count from zero."""
        state = self._chats.get(flood.chat_id)
        if state is not None and state.floods.get(flood.user_id) is flood:
            del state.floods[flood.user_id]

    def remember_exempt(self, chat_id: int, user_id: int, reason: str) -> None:
        self.exempt[(chat_id, user_id)] = reason

    def size(self) -> tuple[int, int]:
        """(chats, members) held: what the memory bound is about."""
        return len(self._chats), sum(len(state.members) for state in self._chats.values())

    def spawn(self, coroutine) -> asyncio.Task:
        task = asyncio.get_running_loop().create_task(coroutine)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task


def observe_message(bot_data, chat_id: int, user_id: int | None, message_id: int, date: float,
                    name: str = "") -> None:
    """Every group message, from either path, once. `date`: the message's Unix time; `name`: the sender's name,
    for the group's notice."""
    if user_id is None:  # sent as a channel or as the group (anonymous admins): no member to act on
        return
    settings = bot_data.protection.get(chat_id)
    tracker: FloodTracker = bot_data.flood
    if settings is None:
        _load_in_background(bot_data, tracker, chat_id)
        return
    flood = tracker.observe(settings, chat_id, user_id, message_id, date, name)
    if flood is not None and tracker.application is not None:
        tracker.spawn(handle_flood(tracker.application, flood))


def _load_in_background(bot_data, tracker: FloodTracker, chat_id: int) -> None:
    if chat_id in tracker.loading or bot_data.core is None:
        return
    retry_at = tracker.load_failed_until.get(chat_id)
    if retry_at is not None:
        if tracker._clock() < retry_at:
            return
        del tracker.load_failed_until[chat_id]
    tracker.loading.add(chat_id)

    async def load():
        try:
            await bot_data.protection.load(bot_data.core, chat_id)
        except (CoreUnavailable, CoreError) as exc:
            if len(tracker.load_failed_until) > 10_000:
                tracker.load_failed_until.clear()
            tracker.load_failed_until[chat_id] = tracker._clock() + LOAD_RETRY_SECONDS
            logger.info("protection settings not loaded", extra={"chat_id": chat_id, "error": str(exc)})
        finally:
            tracker.loading.discard(chat_id)

    try:
        tracker.spawn(load())
    except RuntimeError:  # no running loop (a synchronous caller): the next message asks again
        tracker.loading.discard(chat_id)


# -- the action


def automation_core(bot_data):
    """The core client automated actions use (FloodTracker.core), or the bot's own before post_init opened it."""
    return bot_data.flood.core or bot_data.core


def mention(user_id: int, name: str) -> str:
    return f'<a href="tg://user?id={user_id}">{html.escape(name or str(user_id))}</a>'


async def telegram_call(call, *args, **kwargs):
    """A Telegram action, with its flood limit waited out however often it comes (the rate limiter retries a few
    times; an automated action is not dropped for a 429)."""
    while True:
        try:
            return await call(*args, **kwargs)
        except RetryAfter as exc:
            await asyncio.sleep(exc._retry_after.total_seconds() + 0.1)  # as ratelimit.py reads it


CORE_RETRY_PAUSES = (0.5, 1, 2, 4, 4, 4, 4, 4, 4)  # core unreachable (or its breaker open): about 30 s of asking


async def patiently(call, *args, **kwargs):
    """A core call asked again while core is unreachable (a timeout under load, the circuit breaker open), for about
    half a minute: an automated action is not dropped, nor left 'requested', for a slow answer. Core's refusals
    (CoreError) are not retried."""
    for pause in (*CORE_RETRY_PAUSES, None):
        try:
            return await call(*args, **kwargs)
        except CoreUnavailable:
            if pause is None:
                raise
            await asyncio.sleep(pause)


async def record_automated(core, *, rule: str, chat_id: int, type: str, user_id: int, name: str = "",
                           reason: str = "", until=None, message_id: int | None = None, details: dict | None = None):
    """Asks core to record an automated action; raises CoreError(exempt_member) for an exempt member. Asked again
    while core is unreachable (`patiently`): when an answer that was lost had recorded it, a second record is left
    requested, which is better than a flooder or raider left alone."""
    return await patiently(core.protection_action, telegram_chat_id=chat_id, rule=rule, type=type,
                           target_telegram_user_id=user_id, display_name=name or None, reason=reason, until=until,
                           telegram_message_id=message_id, details=details or {})


async def complete(core, action_id: str, error: TelegramError | str | None) -> None:
    message = error if isinstance(error, str) or error is None else error.message
    try:
        await patiently(core.moderation_complete, action_id, status="failed" if error else "executed", error=message)
    except (CoreUnavailable, CoreError) as exc:  # a conflict: completed by an earlier attempt whose answer was lost
        logger.warning("could not complete an automated action in core", extra={"action_id": action_id,
                                                                                  "error": str(exc)})


def is_exempt_refusal(error: CoreError) -> bool:
    return error.code == ErrorCode.EXEMPT_MEMBER


async def act_on_member(bot, chat_id: int, user_id: int, kind: str, until) -> None:
    """What a ban, kick or mute does on Telegram (a kick: banned, then let back in)."""
    if kind == "ban":
        await telegram_call(bot.ban_chat_member, chat_id, user_id, until_date=until)
    elif kind == "kick":
        await telegram_call(bot.ban_chat_member, chat_id, user_id)
        await telegram_call(bot.unban_chat_member, chat_id, user_id, only_if_banned=True)
    elif kind == "mute":
        await telegram_call(bot.restrict_chat_member, chat_id, user_id, ChatPermissions.no_permissions(),
                            until_date=until)


async def delete_flood_messages(bot, flood: Flood, done: int) -> int:
    """Deletes the flood's messages from index `done` on; returns how many are done. Best effort: a message that is
    already gone, or too old, is Telegram's to refuse."""
    while done < len(flood.message_ids):
        batch = flood.message_ids[done:done + DELETE_BATCH]
        try:
            await telegram_call(bot.delete_messages, flood.chat_id, batch)
        except TelegramError as exc:
            logger.info("flood messages not deleted", extra={"chat_id": flood.chat_id, "error": exc.message})
        done += len(batch)
    return done


async def handle_flood(application, flood: Flood) -> None:
    tracker: FloodTracker = application.bot_data.flood
    try:
        await _handle_flood(application, flood)
    except Exception:  # a task's failure would go unseen otherwise
        logger.exception("antiflood action failed", extra={"chat_id": flood.chat_id, "member": flood.user_id})
    finally:
        tracker.finished(flood)


async def _handle_flood(application, flood: Flood) -> None:
    bot, core = application.bot, automation_core(application.bot_data)
    tracker: FloodTracker = application.bot_data.flood
    action, timed = flood.action, flood.action in TIMED_ACTIONS
    until = restriction_end(flood.duration_seconds) if timed and flood.duration_seconds else None
    span = (f"{flood.count} messages in {flood.window_seconds} s" if flood.window_seconds
            else f"{flood.count} consecutive messages")
    fields = dict(rule=RULE, chat_id=flood.chat_id, type=ACTION_TYPES[action], user_id=flood.user_id,
                  name=flood.name, reason=f"flooding ({span})", until=until, message_id=flood.message_ids[-1],
                  details={"messages": flood.count, "limit": flood.limit, "window_seconds": flood.window_seconds,
                           "action": action})
    try:
        try:
            recorded = await record_automated(core, **fields)
        except CoreError as exc:
            # A warning needs core to count the flooder as a member; their messages' events (which would tell it)
            # may still be on their way.
            if exc.code != ErrorCode.NOT_A_MEMBER or not await _make_member(core, flood):
                raise
            recorded = await record_automated(core, **fields)
    except CoreError as exc:
        if is_exempt_refusal(exc):
            reason = exc.details.get("reason", "") if isinstance(exc.details, dict) else ""
            tracker.remember_exempt(flood.chat_id, flood.user_id, reason or "exempt")
        else:
            logger.warning("core refused an antiflood action", extra={"chat_id": flood.chat_id, "error": str(exc)})
        return
    except CoreUnavailable as exc:  # core decides: without its record nothing is done
        logger.warning("antiflood: core unavailable, no action", extra={"chat_id": flood.chat_id, "error": str(exc)})
        return
    record = recorded
    error: TelegramError | None = None
    deleted = 0
    try:
        if action == "delete":
            deleted = await delete_flood_messages(bot, flood, 0)
        elif action != "warn":
            await act_on_member(bot, flood.chat_id, flood.user_id, ACTION_TYPES[action], until)
    except TelegramError as exc:
        error = exc
    await complete(core, record.id, error)
    if error is not None:
        logger.warning("antiflood action refused by Telegram", extra={"chat_id": flood.chat_id,
                                                                       "error": error.message})
    who = mention(flood.user_id, flood.name)
    notice = f"{who} {DONE_WORDS[action]} for flooding"
    if timed and flood.duration_seconds:
        notice += f" ({describe_duration(flood.duration_seconds)})"
    if action == "warn" and error is None:
        notice = await _warn_outcome(application, flood, record, who) or notice
    if error is None:
        try:
            await bot.send_message(flood.chat_id, notice + ".")
        except TelegramError as exc:
            logger.info("antiflood notice not sent", extra={"chat_id": flood.chat_id, "error": exc.message})
    if flood.deletes:
        deleted = await delete_flood_messages(bot, flood, deleted)
        # Messages that arrived while deleting belong to the flood too; none can be added after the last check,
        # as nothing is awaited between it and `finished`.
        await delete_flood_messages(bot, flood, deleted)


async def _make_member(core, flood: Flood) -> bool:
    """Tells core the flooder is a member of the group (they just wrote there); False when core cannot be told."""
    try:
        group = await core.group_by_chat(flood.chat_id)
        found = (await core.user_list(telegram_user_id=flood.user_id, limit=1))["items"]
        user = found[0] if found else await core.user_create(
            username=f"tg{flood.user_id}", telegram_user_id=flood.user_id, display_name=flood.name)
        await core.member_set(group.id, user_id=user["id"], status="member")
    except (CoreError, CoreUnavailable) as exc:
        logger.warning("antiflood: membership not set", extra={"chat_id": flood.chat_id, "error": str(exc)})
        return False
    return True


async def _warn_outcome(application, flood: Flood, warned, who: str) -> str | None:
    """A warn counts towards the group's warn limit as a manual /warn does; at the limit, the limit's action is
    recorded (automated, the same rule), done, and the warnings reset. The notice, or None for the plain one."""
    bot, core = application.bot, automation_core(application.bot_data)
    try:
        state = await core.warnings(warned.group_id, warned.target_user_id)
        active, limit = state["active_warnings"], state["warn_limit"]
        if active < limit:
            return f"{who} has been warned for flooding ({active}/{limit})"
        group = await core.group_get(warned.group_id)
    except (CoreError, CoreUnavailable) as exc:
        logger.warning("antiflood: warnings not read", extra={"chat_id": flood.chat_id, "error": str(exc)})
        return None
    kind, seconds = group["warn_action"], group.get("warn_action_duration_seconds")
    if kind not in ("ban", "kick", "mute"):
        return None
    until = restriction_end(seconds) if kind != "kick" else None
    try:
        follow_up = await record_automated(
            core, rule=RULE, chat_id=flood.chat_id, type=kind, user_id=flood.user_id, name=flood.name,
            reason=f"warn limit reached ({limit})", until=until)
    except (CoreError, CoreUnavailable) as exc:
        logger.warning("antiflood: the warn limit's action was not recorded", extra={"chat_id": flood.chat_id,
                                                                                   "error": str(exc)})
        return None
    error = None
    try:
        await act_on_member(bot, flood.chat_id, flood.user_id, kind, until)
    except TelegramError as exc:
        error = exc
    await complete(core, follow_up.id, error)
    if error is not None:
        return None
    try:
        await core.warnings_reset(warned.group_id, warned.target_user_id, reason="warn limit reached")
    except (CoreError, CoreUnavailable) as exc:
        logger.warning("antiflood: warnings not reset", extra={"chat_id": flood.chat_id, "error": str(exc)})
    outcome = {"ban": "banned", "kick": "kicked", "mute": "muted"}[kind]
    span = f" for {describe_duration(seconds)}" if seconds and kind != "kick" else ""
    return f"{who} reached {limit} warnings by flooding and is {outcome}{span}"
