"""Anti-raid: K joins within W seconds switch a group into raid mode (core decides and records it: automatic, actor
`system:antiraid`); while raid mode is on, every joiner gets the group's raid action (captcha, mute, kick or ban).

Joins are seen twice. First as they arrive (`on_arrival`, the update processor's hook, before the update waits for
its chat's turn): a raid's hundreds of joins each bring membership bookkeeping (core calls made in the chat's turn,
one update after another) and the removals bring more, so a raider reached only in the chat's turn would be removed
long after joining. At arrival, with the group's settings cached, the join is counted and, in raid mode, the raider's
removal starts at once. Then in the chat's turn (`on_join`, called by joins.py for every join): a join already
handled at arrival answers what was done; one that was not (no settings cached yet, or raid mode switched on
meanwhile) is counted and handled there.

A removal or mute is recorded in core as an automated action (rule antiraid, which core refuses for exempt members)
and done on Telegram by a task of its own: a raid's joiners are handled side by side (at most `RAID_CONCURRENCY` at
once over all chats, which keeps core's load bounded), Telegram's pace kept by the rate limiter and its 429s waited
out (enforcement.telegram_call), none dropped.
"""

import asyncio
import logging
import time
from collections import deque
from datetime import UTC, datetime, timedelta

from cachetools import TTLCache
from telegram import ChatPermissions, Update, User
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import TelegramError

from apps.coreclient import CoreError, CoreUnavailable

from .enforcement import act_on_member, automation_core, complete, is_exempt_refusal, record_automated, telegram_call

logger = logging.getLogger(__name__)

RULE = "antiraid"
# Raid actions in flight at once (each: a core record, Telegram, a core completion). Telegram's pace (30 actions a
# second, a kick is two) is the ceiling; more at once would only queue in core's workers until the calls time out.
RAID_CONCURRENCY = 8
RAID_OUTCOMES = {"kick": "kicked", "ban": "banned", "mute": "muted"}
PENDING = "pending"  # arrived while raid mode was being switched on (or made it): decided once core has answered
ARRIVALS_KEPT_SECONDS = 600  # a join seen at arrival is known to on_join (and not counted twice) this long
_IN = (ChatMemberStatus.MEMBER, ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER)


class JoinRateTracker:
    """Per chat, the times of its last K joins: the K-th within W seconds is a raid."""

    def __init__(self, *, clock=time.monotonic, capacity: int = 100_000):
        self._clock = clock
        self._joins: dict[int, deque] = {}
        self._sweep_at = 256
        # (chat, user) -> what arrival decided: the raid outcome started ("kicked"..., "captcha"), PENDING, or None
        # (arrived before raid mode: not a raid join, whenever the chat's turn reaches it).
        self.arrived: TTLCache[tuple[int, int], str | None] = TTLCache(maxsize=capacity, ttl=ARRIVALS_KEPT_SECONDS,
                                                                       timer=clock)
        self.switches: dict[int, asyncio.Task] = {}  # chat -> its switch to raid mode being asked of core
        self.tasks: set[asyncio.Task] = set()
        self._slots: asyncio.Semaphore | None = None

    def note(self, chat_id: int, limit: int, window: float) -> bool:
        """Counts a join; True when the last `limit` joins came within `window` seconds (until `reset`)."""
        now = self._clock()
        joins = self._joins.get(chat_id)
        if joins is None or joins.maxlen != limit:
            if len(self._joins) >= self._sweep_at:
                self._sweep(now)
            joins = self._joins[chat_id] = deque(joins or (), maxlen=limit)
        joins.append(now)
        return len(joins) == limit and now - joins[0] < window

    def reset(self, chat_id: int) -> None:
        """Raid mode is on: the count starts over (for the next raid, once this one is over)."""
        self._joins.pop(chat_id, None)

    def _sweep(self, now: float) -> None:
        # A chat whose last join is an hour old cannot be part of a raid window (at most 3600 s).
        for chat_id in [chat for chat, joins in self._joins.items() if joins[-1] <= now - 3600]:
            del self._joins[chat_id]
        self._sweep_at = max(256, 2 * len(self._joins))

    def tracked_chats(self) -> int:
        return len(self._joins)

    def slots(self) -> asyncio.Semaphore:
        if self._slots is None:
            self._slots = asyncio.Semaphore(RAID_CONCURRENCY)
        return self._slots

    def spawn(self, coroutine) -> asyncio.Task:
        task = asyncio.get_running_loop().create_task(coroutine)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task


def _joiners(update: object) -> tuple[object, list[User]]:
    """The group and the people an update says joined it (a chat_member change into the chat, or the
    new_chat_members service message); nobody for any other update."""
    if not isinstance(update, Update):
        return None, []
    change = update.chat_member
    if change is not None:
        chat, old, new = change.chat, change.old_chat_member, change.new_chat_member
        restricted_in = new.status == ChatMemberStatus.RESTRICTED and bool(getattr(new, "is_member", False))
        was_in = old.status in _IN or (old.status == ChatMemberStatus.RESTRICTED
                                       and bool(getattr(old, "is_member", False)))
        if (new.status in _IN or restricted_in) and not was_in and not new.user.is_bot:
            return chat, [new.user]
        return None, []
    message = update.message
    if message is not None and message.new_chat_members:
        return message.chat, [user for user in message.new_chat_members if not user.is_bot]
    return None, []


def on_arrival(application, update: object) -> None:
    """The update processor's arrival hook: counts a join and, in raid mode, starts the raider's removal at once
    (see the module's docstring). Quick and synchronous; never a core call here."""
    chat, users = _joiners(update)
    if not users or chat.type not in (ChatType.GROUP, ChatType.SUPERGROUP):
        return
    data = application.bot_data
    settings = data.protection.get(chat.id)
    if settings is None:  # on_join loads the settings and handles the join in the chat's turn
        return
    tracker: JoinRateTracker = data.joins
    for user in users:
        key = (chat.id, user.id)
        if key in tracker.arrived or user.id == application.bot.id:
            continue
        outcome = None
        if settings.raid_active:
            outcome = _start_removal(application, tracker, chat.id, user, settings)
        elif chat.id in tracker.switches:
            outcome = PENDING
        elif settings.raid_detection and tracker.note(chat.id, settings.raid_join_limit,
                                                      settings.raid_window_seconds):
            _switch(application, tracker, chat.id, settings)
            outcome = PENDING
        tracker.arrived[key] = outcome


def _switch(application, tracker: JoinRateTracker, chat_id: int, settings) -> asyncio.Task:
    """The chat's switch to raid mode: the one in flight, or a new one."""
    task = tracker.switches.get(chat_id)
    if task is None:
        task = tracker.switches[chat_id] = tracker.spawn(switch_raid_on(application, chat_id, settings))
        task.add_done_callback(lambda _: tracker.switches.pop(chat_id, None))
    return task


async def on_join(context, chat, user: User, settings) -> str | None:
    """Counts the join (unless it was counted at arrival), switches raid mode on at the group's threshold, and while
    raid mode is on applies the raid action to the joiner: "kicked" | "banned" | "muted" (under way: see the
    module's docstring), "captcha" (the caller challenges the joiner), or None (nothing to do)."""
    if settings is None or user.id == context.bot.id:
        return None
    application, tracker = context.application, context.bot_data.joins
    key = (chat.id, user.id)
    if key in tracker.arrived:
        outcome = tracker.arrived[key]
        if outcome != PENDING:
            return outcome
    elif (settings.raid_detection and not settings.raid_active
          and tracker.note(chat.id, settings.raid_join_limit, settings.raid_window_seconds)):
        _switch(application, tracker, chat.id, settings)
    switch = tracker.switches.get(chat.id)
    if switch is not None:  # this join (or one before it) made the raid: it is decided once core has answered
        await asyncio.shield(switch)
    # Raid mode may have come on since the caller read the settings (a switch at arrival).
    settings = context.bot_data.protection.get(chat.id) or settings
    if not settings.raid_active:
        return None
    outcome = _start_removal(application, tracker, chat.id, user, settings)
    tracker.arrived[key] = outcome
    return outcome


def _start_removal(application, tracker: JoinRateTracker, chat_id: int, user: User, settings) -> str | None:
    action = settings.raid_action
    if action == "captcha":
        return "captcha"  # the joiner is challenged in the chat's turn (joins.py)
    if action not in RAID_OUTCOMES:
        return None
    tracker.spawn(_raid_action(application, tracker, chat_id, user, action, raid_kick_end(settings)))
    return RAID_OUTCOMES[action]


async def switch_raid_on(application, chat_id: int, settings):
    """Asks core to switch raid mode on (automatic); keeps core's answer in the settings cache, starts the count
    over and tells the group. Returns the new settings, or None when core could not be asked (raid mode stays off:
    core decides; the next join asks again)."""
    data = application.bot_data
    try:
        updated = await data.core.protection_raid(settings.group_id, active=True)
    except (CoreUnavailable, CoreError) as exc:
        logger.warning("antiraid: raid mode not switched on", extra={"chat_id": chat_id, "error": str(exc)})
        return None
    data.protection.store(updated)
    data.joins.reset(chat_id)
    logger.warning("raid mode on", extra={"chat_id": chat_id, "joins": settings.raid_join_limit,
                                          "window_seconds": settings.raid_window_seconds})
    what = {"captcha": "must solve a captcha", "mute": "are muted", "kick": "are kicked",
            "ban": "are banned"}.get(updated.raid_action, "are checked")
    minutes = updated.raid_duration_minutes
    text = (f"Raid detected ({settings.raid_join_limit} joins within {settings.raid_window_seconds} s): raid mode is "
            f"on for {minutes} minute{'s' if minutes != 1 else ''}; new members {what}. Admins: /antiraid off "
            "ends it.")
    try:
        await application.bot.send_message(chat_id, text)
    except TelegramError as exc:
        logger.info("raid notice not sent", extra={"chat_id": chat_id, "error": exc.message})
    return updated


def raid_kick_end(settings) -> datetime:
    """Until when a raid's kick keeps the joiner out: the end of raid mode, as Rose's antiraid does. A ban with an
    end is one Telegram call where a kick (ban, then unban) is two, so a raid's joiners leave at Telegram's full pace
    (30 actions a second: 500 in about 17 s, against 33 s for kicks). At least 31 s from now: Telegram reads a
    shorter ban as forever."""
    soonest = datetime.now(UTC) + timedelta(seconds=31)
    return max(settings.raid_until or soonest, soonest)


async def _raid_action(application, tracker: JoinRateTracker, chat_id: int, user: User, action: str,
                       kick_until: datetime) -> None:
    async with tracker.slots():
        try:
            await _apply(application, chat_id, user, action, kick_until)
        except Exception:  # a task's failure would go unseen otherwise
            logger.exception("antiraid action failed", extra={"chat_id": chat_id, "member": user.id})


async def _apply(application, chat_id: int, user: User, action: str, kick_until: datetime) -> None:
    bot, core = application.bot, automation_core(application.bot_data)
    # A raid's kick is a ban until raid mode ends (raid_kick_end), and recorded as what it is.
    kick = action == "kick"
    try:
        record = await record_automated(core, rule=RULE, chat_id=chat_id, type="ban" if kick else action,
                                        user_id=user.id, name=user.full_name, until=kick_until if kick else None,
                                        reason="joined during a raid" + (": kept out until raid mode ends" if kick
                                                                         else ""),
                                        details={"username": user.username or ""})
    except CoreError as exc:
        if not is_exempt_refusal(exc):
            logger.warning("core refused an antiraid action", extra={"chat_id": chat_id, "error": str(exc)})
        return
    except CoreUnavailable as exc:
        logger.warning("antiraid: core unavailable, no action", extra={"chat_id": chat_id, "error": str(exc)})
        return
    error = None
    try:
        if action == "mute":
            await telegram_call(bot.restrict_chat_member, chat_id, user.id, ChatPermissions.no_permissions())
        elif kick:
            await telegram_call(bot.ban_chat_member, chat_id, user.id, until_date=kick_until)
        else:
            await act_on_member(bot, chat_id, user.id, action, None)
    except TelegramError as exc:
        error = exc
        logger.warning("antiraid action refused by Telegram", extra={"chat_id": chat_id, "error": exc.message})
    await complete(core, record.id, error)
