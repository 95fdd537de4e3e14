"""Anti-raid: K joins within W seconds switch a group into raid mode (core decides and records it: automatic, actor
`system:antiraid`); while raid mode is on, every joiner gets the group's raid action (captcha, mute, kick or ban).

`on_join` is called by joins.py for every member joining, in the chat's turn. Counting is in memory (a deque of at
most K join times per chat). A removal or mute is recorded in core as an automated action (rule antiraid, which
core refuses for exempt members) and done on Telegram by a task of its own, so the chat's next joins are not held
behind this one's core round trips and Telegram calls: a raid's joiners are handled side by side (at most
`RAID_CONCURRENCY` at once over all chats, which keeps core's load bounded), Telegram's pace kept by the rate limiter
and its 429s waited out (antiflood.telegram_call), none dropped.
"""

import asyncio
import logging
import time
from collections import deque

from telegram import Chat, ChatPermissions, User
from telegram.error import TelegramError

from apps.coreclient import CoreError, CoreUnavailable

from .antiflood import act_on_member, complete, is_exempt_refusal, record_automated, telegram_call

logger = logging.getLogger(__name__)

RULE = "antiraid"
RAID_CONCURRENCY = 32  # raid actions in flight at once (each: a core record, Telegram, a core completion)
RAID_OUTCOMES = {"kick": "kicked", "ban": "banned", "mute": "muted"}


class JoinRateTracker:
    """Per chat, the times of its last K joins: the K-th within W seconds is a raid (then the count starts over)."""

    def __init__(self, *, clock=time.monotonic):
        self._clock = clock
        self._joins: dict[int, deque] = {}
        self._sweep_at = 256
        self.tasks: set[asyncio.Task] = set()
        self._slots: asyncio.Semaphore | None = None

    def note(self, chat_id: int, limit: int, window: float) -> bool:
        """Counts a join; True when it is the `limit`-th within `window` seconds."""
        now = self._clock()
        joins = self._joins.get(chat_id)
        if joins is None or joins.maxlen != limit:
            if len(self._joins) >= self._sweep_at:
                self._sweep(now)
            joins = self._joins[chat_id] = deque(joins or (), maxlen=limit)
        joins.append(now)
        if len(joins) == limit and now - joins[0] < window:
            del self._joins[chat_id]
            return True
        return False

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


async def on_join(context, chat: Chat, user: User, settings) -> str | None:
    """Counts the join, switches raid mode on at the group's threshold, and while raid mode is on applies the raid
    action to the joiner: "kicked" | "banned" | "muted" (under way: see the module's docstring), "captcha" (the
    caller challenges the joiner), or None (nothing to do)."""
    if settings is None or user.id == context.bot.id:
        return None
    tracker: JoinRateTracker = context.bot_data.joins
    if (settings.raid_detection and not settings.raid_active
            and tracker.note(chat.id, settings.raid_join_limit, settings.raid_window_seconds)):
        settings = await switch_raid_on(context, chat, settings) or settings
    if not settings.raid_active:
        return None
    action = settings.raid_action
    if action == "captcha":
        return "captcha"
    if action not in RAID_OUTCOMES:
        return None
    tracker.spawn(_raid_action(context.application, tracker, chat.id, user, action))
    return RAID_OUTCOMES[action]


async def switch_raid_on(context, chat: Chat, settings):
    """Asks core to switch raid mode on (automatic); keeps core's answer in the settings cache and tells the group.
    Returns the new settings, or None when core could not be asked (raid mode stays off: core decides)."""
    try:
        updated = await context.core.protection_raid(settings.group_id, active=True)
    except (CoreUnavailable, CoreError) as exc:
        logger.warning("antiraid: raid mode not switched on", extra={"chat_id": chat.id, "error": str(exc)})
        return None
    context.bot_data.protection.store(updated)
    logger.warning("raid mode on", extra={"chat_id": chat.id, "joins": settings.raid_join_limit,
                                          "window_seconds": settings.raid_window_seconds})
    what = {"captcha": "must solve a captcha", "mute": "are muted", "kick": "are kicked",
            "ban": "are banned"}.get(updated.raid_action, "are checked")
    minutes = settings.raid_duration_minutes
    text = (f"Raid detected ({settings.raid_join_limit} joins within {settings.raid_window_seconds} s): raid mode is "
            f"on for {minutes} minute{'s' if minutes != 1 else ''}; new members {what}. Admins: /antiraid off "
            "ends it.")
    try:
        await context.bot.send_message(chat.id, text)
    except TelegramError as exc:
        logger.info("raid notice not sent", extra={"chat_id": chat.id, "error": exc.message})
    return updated


async def _raid_action(application, tracker: JoinRateTracker, chat_id: int, user: User, action: str) -> None:
    async with tracker.slots():
        try:
            await _apply(application, chat_id, user, action)
        except Exception:  # a task's failure would go unseen otherwise
            logger.exception("antiraid action failed", extra={"chat_id": chat_id, "member": user.id})


async def _apply(application, chat_id: int, user: User, action: str) -> None:
    bot, core = application.bot, application.bot_data.core
    try:
        recorded = await record_automated(core, rule=RULE, chat_id=chat_id, type=action, user_id=user.id,
                                          name=user.full_name, reason="joined during a raid",
                                          details={"username": user.username or ""})
    except CoreError as exc:
        if not is_exempt_refusal(exc):
            logger.warning("core refused an antiraid action", extra={"chat_id": chat_id, "error": str(exc)})
        return
    except CoreUnavailable as exc:
        logger.warning("antiraid: core unavailable, no action", extra={"chat_id": chat_id, "error": str(exc)})
        return
    record = getattr(recorded, "action", recorded)
    error = None
    try:
        if action == "mute":
            await telegram_call(bot.restrict_chat_member, chat_id, user.id, ChatPermissions.no_permissions())
        else:
            await act_on_member(bot, chat_id, user.id, action, None)
    except TelegramError as exc:
        error = exc
        logger.warning("antiraid action refused by Telegram", extra={"chat_id": chat_id, "error": exc.message})
    await complete(core, record.id, error)
