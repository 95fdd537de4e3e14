"""The propagation worker: carries each ban list's bans and unbans to every group that follows it.

Core writes the work when a list changes (one propagation per group: ban, unban, or notify where the member is
exempt); this worker claims a batch (`ban_propagations_claim`, leased to this process for LEASE_SECONDS: a bot that
dies holding them loses nothing, the next claim after the lease gets them again, and a ban done twice is harmless),
does each on Telegram at BOT_BANLIST_RATE calls a second (Telegram allows a bot about 30 a second in all; the rest
is left to the bot's other work), and reports each done or failed with Telegram's error
(`ban_propagation_complete`, which completes the ban's moderation record the same way).

Its pace is the rate's, not the round trips': the Pacer hands out the Telegram calls' turns, one call at a time (so
a 429's answer holds every later call), and each item's report to core runs beside the next calls, at most IN_FLIGHT
items at a time, so a report does not hold up the next call; the next batch is claimed while the current one runs
(when it came full). Items of one
(chat, user) keep their order (a ban then an unban). A report that fails leaves the item leased: it is done again
after the lease, which is harmless. A 429 holds every later Telegram call of the worker for the retry_after
Telegram names, and the same item is tried again.

- ban: banChatMember (a member not in the group is banned all the same: they cannot join it);
- unban: unbanChatMember with only_if_banned (a member who is in the group is left in it);
- notify: a short notice in the group for its moderators (the member is exempt there: approved, an admin).

It claims every BOT_BANLIST_POLL_SECONDS, at once while batches come full, and at once when `kick(application)` is
called (the /fban and /unfban commands, right after core answered). A graceful stop lets the Telegram calls and
reports in flight finish and gives the items claimed but not started back to core at once
(`ban_propagations_release`), so a restarted bot or another replica takes them without waiting out the lease. It
also starts and stops the ban-list cache's version poller (cache.py), as both live for the application's lifetime.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import html
import logging
import time

from django.conf import settings
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, RetryAfter, TelegramError

from apps.coreclient import CoreError, CoreUnavailable

from ..protection.enforcement import automation_core, patiently
from .cache import referenced_by

logger = logging.getLogger(__name__)

BATCH = 50
# Two batches may be held at once (the one running, the next claimed ahead): at 20 a second 5 s; the lease covers a
# few 429 pauses besides.
LEASE_SECONDS = 120
IN_FLIGHT = 3  # items started, not yet reported: 100 ms reports at 20 a second; a slow core holds calls back
CORE_AWAY_BACKOFF_SECONDS = (1, 2, 5, 10, 30)
STOP_GRACE_SECONDS = 10.0  # stop() lets the items in flight finish for at most this long
RELEASE_SECONDS = 5.0  # stop() gives back what was not started within this, else it waits out its lease
DEFAULT_RATE = 20.0
DEFAULT_POLL_SECONDS = 5.0
DEFAULT_REFRESH_SECONDS = 5.0
# Telegram's answers that will not change on a retry: the item is completed as failed with them.
FINAL_ERRORS = (BadRequest, Forbidden, ChatMigrated)


class Pacer:
    """At most `rate` calls a second, spread evenly; `hold(seconds)` makes every call not yet made wait (a 429),
    those already waiting their turn included."""

    def __init__(self, rate: float, *, clock=time.monotonic, sleep=asyncio.sleep):
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self._clock, self._sleep = clock, sleep
        self._next = 0.0
        self._held_until = 0.0

    async def wait(self) -> None:
        while True:
            now = self._clock()
            at = max(now, self._next, self._held_until)
            self._next = at + self.interval
            if at > now:
                await self._sleep(at - now)
            if at >= self._held_until:  # no hold came while it waited: its turn
                return

    def hold(self, seconds: float) -> None:
        self._held_until = max(self._held_until, self._clock() + seconds)
        self._next = max(self._next, self._held_until)


class PropagationWorker:
    def __init__(self, application, *, rate: float = DEFAULT_RATE, poll_seconds: float = DEFAULT_POLL_SECONDS,
                 batch: int = BATCH, lease_seconds: int = LEASE_SECONDS, in_flight: int = IN_FLIGHT):
        self.application = application
        self.poll_seconds = poll_seconds
        self.batch = batch
        self.lease_seconds = lease_seconds
        self.pacer = Pacer(rate)
        self._task: asyncio.Task | None = None
        self._kicked = asyncio.Event()
        self._stopped = asyncio.Event()  # set by stop(): items waiting for their turn give it up
        self._stopping = False
        self._slots = asyncio.Semaphore(in_flight)
        self._calling = asyncio.Lock()  # one Telegram call at a time, in turn order (first come first served)
        self._in_flight: set[asyncio.Task] = set()
        self._last: dict[tuple, asyncio.Task] = {}  # (chat, user) -> its latest item, which the next one follows
        self._unstarted: list[str] = []  # claimed, not started, given up by a stop: released to core
        self.retry_afters = 0  # 429s met (for tests and the logs)
        self.released = 0  # items given back to core by stops (for tests and the logs)

    @property
    def core(self):
        return automation_core(self.application.bot_data)

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._stopping = False
            self._stopped.clear()
            self._task = asyncio.create_task(self._run(), name="ban-list-propagation")

    def kick(self) -> None:
        """Claim now (new work was just written), not at the next poll."""
        self._kicked.set()

    async def stop(self) -> None:
        """Stops claiming and starting items, gives the claimed ones not started back to core at once, and lets the
        Telegram calls and reports in flight finish, for at most STOP_GRACE_SECONDS in all (what is cut short then
        is done again after its lease)."""
        task, self._task = self._task, None
        if task is None and not self._in_flight:
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + STOP_GRACE_SECONDS
        self._stopping = True
        self._stopped.set()
        self._kicked.set()
        if task is not None:
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(asyncio.shield(task), timeout=STOP_GRACE_SECONDS)
            if not task.done():
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await asyncio.sleep(0)  # the items waiting for their turn give it up
        await self._release()
        if self._in_flight:
            _, late = await asyncio.wait(set(self._in_flight), timeout=max(0.0, deadline - loop.time()))
            for item_task in late:
                item_task.cancel()
            if late:
                await asyncio.wait(late)
        await self._release()  # any that gave up their turn meanwhile

    async def _release(self) -> None:
        ids, self._unstarted = self._unstarted, []
        if not ids:
            return
        try:
            answer = await asyncio.wait_for(self.core.ban_propagations_release(ids), timeout=RELEASE_SECONDS)
        except (CoreError, CoreUnavailable, TimeoutError) as exc:
            logger.warning("ban lists: propagations not released, left to their lease", extra={
                "count": len(ids), "error": str(exc)})
            return
        self.released += len(ids)
        logger.info("ban lists: propagations not started released", extra={
            "count": len(ids), "released": answer.get("released")})

    async def _idle(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._kicked.wait(), timeout=seconds)
        self._kicked.clear()

    async def _run(self) -> None:
        away = 0
        ahead: asyncio.Task | None = None  # the next batch's claim, made while this one runs
        try:
            while not self._stopping:
                claim, ahead = ahead, None
                try:
                    items = await claim if claim is not None else await self._claim()
                    away = 0
                except (CoreUnavailable, CoreError) as exc:  # away, or refusing the claim (a key out of scope)
                    delay = CORE_AWAY_BACKOFF_SECONDS[min(away, len(CORE_AWAY_BACKOFF_SECONDS) - 1)]
                    away += 1
                    level = logging.INFO if isinstance(exc, CoreUnavailable) else logging.WARNING
                    logger.log(level, "ban lists: propagations not claimed", extra={"error": str(exc),
                                                                                    "retry_seconds": delay})
                    await self._idle(delay)
                    continue
                except Exception:  # a bug must not end the loop: the work waits in core
                    logger.exception("ban lists: a propagation claim failed")
                    items = []
                full = len(items) >= self.batch
                if full and not self._stopping:
                    ahead = asyncio.create_task(self._claim(), name="ban-list-propagation-claim")
                try:
                    await self._start_all(items)
                except Exception:
                    logger.exception("ban lists: a propagation round failed")
                if not full and not self._stopping:
                    await self._idle(self.poll_seconds)
        finally:
            if ahead is not None:
                await self._give_up_ahead(ahead)

    async def _give_up_ahead(self, ahead: asyncio.Task) -> None:
        """The batch claimed ahead, not started: released with the rest (a claim still on its way is let finish)."""
        with contextlib.suppress(TimeoutError, asyncio.CancelledError):
            await asyncio.wait({ahead}, timeout=RELEASE_SECONDS)
        if not ahead.done():
            ahead.cancel()
            return
        if not ahead.cancelled() and ahead.exception() is None:
            self._unstarted.extend(item["id"] for item in ahead.result())

    async def _claim(self) -> list[dict]:
        items = (await self.core.ban_propagations_claim(limit=self.batch,
                                                        lease_seconds=self.lease_seconds))["results"]
        if items:
            self.application.bot_data.banlists.refresh_soon()  # a list changed: arrivals see it soon too
        return items

    async def run_once(self) -> int:
        """Claims one batch and does it, every report made. Returns how many items were claimed."""
        items = await self._claim()
        await self._start_all(items)
        await self.drain()
        return len(items)

    async def drain(self) -> None:
        """Waits for every item started to be done and reported."""
        while self._in_flight:
            await asyncio.wait(set(self._in_flight))

    async def _start_all(self, items: list[dict]) -> None:
        """Starts each item as a slot frees (IN_FLIGHT at most); returns when all are started, not finished. Stopped
        meanwhile: the rest are given up (released by stop())."""
        for index, item in enumerate(items):
            if not self._stopping:
                await self._slots.acquire()
                if self._stopping:
                    self._slots.release()
            if self._stopping:
                self._unstarted.extend(rest["id"] for rest in items[index:])
                return
            key = (item.get("telegram_chat_id"), item.get("telegram_user_id"))
            task = asyncio.create_task(self._carry_after(item, self._last.get(key)))
            self._last[key] = task
            self._in_flight.add(task)
            task.add_done_callback(functools.partial(self._finished, key))

    def _finished(self, key: tuple, task: asyncio.Task) -> None:
        self._in_flight.discard(task)
        if self._last.get(key) is task:
            del self._last[key]
        self._slots.release()
        if not task.cancelled() and task.exception() is not None:
            logger.error("ban lists: a propagation failed", exc_info=task.exception())

    async def _carry_after(self, item: dict, previous: asyncio.Task | None) -> None:
        if previous is not None:  # the same member in the same chat: in order
            await asyncio.wait({previous})
        await self.carry(item)

    async def _turn(self) -> bool:
        """Waits for the item's turn at the pacer; False when the worker stops first."""
        if self._stopping:
            return False
        turn = asyncio.ensure_future(self.pacer.wait())
        stopped = asyncio.ensure_future(self._stopped.wait())
        try:
            await asyncio.wait({turn, stopped}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiting in (turn, stopped):
                if not waiting.done():
                    waiting.cancel()
        return turn.done() and not turn.cancelled() and not self._stopping

    async def carry(self, item: dict) -> None:
        """One propagation on Telegram at its turn, then its report. A 429 holds the pacer for its retry_after and
        the item tries again; a timeout or network error leaves it to its lease (claimed again later); a stop before
        its call gives it back."""
        while True:
            async with self._calling:
                if not await self._turn():
                    self._unstarted.append(item["id"])
                    return
                try:
                    await self._telegram(item)
                    error = None
                except RetryAfter as exc:
                    pause = exc._retry_after.total_seconds()  # as ratelimit.py reads it
                    self.retry_afters += 1
                    logger.info("ban lists: Telegram flood limit, waiting", extra={"retry_after": pause})
                    self.pacer.hold(pause + 0.1)
                    continue
                except FINAL_ERRORS as exc:
                    error = exc.message
                except TelegramError as exc:  # timed out, network: done again after the lease
                    logger.warning("ban lists: propagation not done yet", extra={
                        "propagation_id": item.get("id"), "error": str(exc)})
                    return
            break
        await self._complete(item, error)  # beside the next items' calls

    async def _telegram(self, item: dict) -> None:
        bot = self.application.bot
        chat_id, uid, action = int(item["telegram_chat_id"]), int(item["telegram_user_id"]), item["action"]
        if action == "ban":
            await bot.ban_chat_member(chat_id, uid)
        elif action == "unban":
            await bot.unban_chat_member(chat_id, uid, only_if_banned=True)
        elif action == "notify":
            await bot.send_message(chat_id, notify_text(item), parse_mode=ParseMode.HTML)
        else:
            raise BadRequest(f"unknown propagation action {action!r}")

    async def _complete(self, item: dict, error: str | None) -> None:
        if error is not None:
            logger.warning("ban lists: Telegram refused a propagation", extra={
                "propagation_id": item["id"], "chat_id": item.get("telegram_chat_id"), "error": error})
        try:
            await patiently(self.core.ban_propagation_complete, item["id"], error=error)
        except CoreError as exc:  # already completed (a retried report) or gone with its list
            logger.info("ban lists: propagation report refused", extra={"propagation_id": item["id"],
                                                                        "code": exc.code})
        except CoreUnavailable as exc:  # reported again when the item is claimed again after its lease
            logger.warning("ban lists: propagation not reported", extra={"propagation_id": item["id"],
                                                                         "error": str(exc)})


def notify_text(item: dict) -> str:
    uid = int(item["telegram_user_id"])
    name = html.escape(item.get("ban_list_name") or str(item.get("ban_list_id")))
    reason = (item.get("reason") or "").strip()
    because = f" (reason: {html.escape(reason)})" if reason else ""
    return (f'Moderators: <a href="tg://user?id={uid}">{uid}</a> was banned in the federation <b>{name}</b>'
            f"{because}, but is exempt here (approved or an admin), so I have not banned them.")


def _setting(name: str, default: float) -> float:
    return float(getattr(settings, name, default))


def start(application) -> None:
    """Starts the worker and the ban-list cache's version poller (once); both kept on application.bot_data."""
    data = application.bot_data
    data.banlists.start(automation_core(data), _setting("BOT_BANLIST_REFRESH_SECONDS", DEFAULT_REFRESH_SECONDS),
                        referenced=referenced_by(data.protection))
    if data.banlist_worker is None:
        data.banlist_worker = PropagationWorker(
            application, rate=_setting("BOT_BANLIST_RATE", DEFAULT_RATE),
            poll_seconds=_setting("BOT_BANLIST_POLL_SECONDS", DEFAULT_POLL_SECONDS),
            lease_seconds=int(_setting("BOT_BANLIST_LEASE_SECONDS", LEASE_SECONDS)))
    data.banlist_worker.start()


def kick(application) -> None:
    """Makes the worker claim at once (the /fban and /unfban commands call it once core has answered)."""
    worker = application.bot_data.banlist_worker
    if worker is not None:
        worker.kick()
    application.bot_data.banlists.refresh_soon()


async def stop(application) -> None:
    """Stops the worker, letting a Telegram call in flight finish, and the cache's poller."""
    data = application.bot_data
    worker = data.banlist_worker
    if worker is not None:
        await worker.stop()
    await data.banlists.stop()
