"""The propagation worker: carries each ban list's bans and unbans to every group that follows it.

Core writes the work when a list changes (one propagation per group: ban, unban, or notify where the member is
exempt); this worker claims a batch (`ban_propagations_claim`, leased to this process for LEASE_SECONDS: a bot that
dies holding them loses nothing, the next claim after the lease gets them again, and a ban done twice is harmless),
does each on Telegram at BOT_BANLIST_RATE calls a second (Telegram allows a bot about 30 a second in all; the rest
is left to the bot's other work), and reports each done or failed with Telegram's error
(`ban_propagation_complete`, which completes the ban's moderation record the same way). A 429 pauses the worker for
the retry_after Telegram names, and the same item is tried again.

- ban: banChatMember (a member not in the group is banned all the same: they cannot join it);
- unban: unbanChatMember with only_if_banned (a member who is in the group is left in it);
- notify: a short notice in the group for its moderators (the member is exempt there: approved, an admin).

It claims every BOT_BANLIST_POLL_SECONDS, at once while batches come full, and at once when `kick(application)` is
called (the /fban and /unfban commands, right after core answered). It also starts and stops the ban-list cache's
version poller (cache.py), as both live for the application's lifetime.
"""

from __future__ import annotations

import asyncio
import contextlib
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
LEASE_SECONDS = 120  # a batch at 20 a second takes 2.5 s; the lease covers a few 429 pauses besides
CORE_AWAY_BACKOFF_SECONDS = (1, 2, 5, 10, 30)
STOP_GRACE_SECONDS = 10.0  # stop() lets the item in flight finish for at most this long
DEFAULT_RATE = 20.0
DEFAULT_POLL_SECONDS = 5.0
DEFAULT_REFRESH_SECONDS = 5.0
# Telegram's answers that will not change on a retry: the item is completed as failed with them.
FINAL_ERRORS = (BadRequest, Forbidden, ChatMigrated)


class Pacer:
    """At most `rate` calls a second, spread evenly; `hold(seconds)` makes every later call wait (a 429)."""

    def __init__(self, rate: float, *, clock=time.monotonic, sleep=asyncio.sleep):
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self._clock, self._sleep = clock, sleep
        self._next = 0.0

    async def wait(self) -> None:
        now = self._clock()
        at = max(now, self._next)
        self._next = at + self.interval
        if at > now:
            await self._sleep(at - now)

    def hold(self, seconds: float) -> None:
        self._next = max(self._next, self._clock() + seconds)


class PropagationWorker:
    def __init__(self, application, *, rate: float = DEFAULT_RATE, poll_seconds: float = DEFAULT_POLL_SECONDS,
                 batch: int = BATCH, lease_seconds: int = LEASE_SECONDS):
        self.application = application
        self.poll_seconds = poll_seconds
        self.batch = batch
        self.lease_seconds = lease_seconds
        self.pacer = Pacer(rate)
        self._task: asyncio.Task | None = None
        self._kicked = asyncio.Event()
        self._stopping = False
        self.retry_afters = 0  # 429s met (for tests and the logs)

    @property
    def core(self):
        return automation_core(self.application.bot_data)

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._stopping = False
            self._task = asyncio.create_task(self._run(), name="ban-list-propagation")

    def kick(self) -> None:
        """Claim now (new work was just written), not at the next poll."""
        self._kicked.set()

    async def stop(self) -> None:
        """Stops after the item in flight (its Telegram call and its report), waiting at most STOP_GRACE_SECONDS;
        what was claimed and not done is claimed again after its lease."""
        task, self._task = self._task, None
        if task is None:
            return
        self._stopping = True
        self._kicked.set()
        with contextlib.suppress(TimeoutError, asyncio.CancelledError):
            await asyncio.wait_for(asyncio.shield(task), timeout=STOP_GRACE_SECONDS)
        if not task.done():
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task

    async def _idle(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._kicked.wait(), timeout=seconds)
        self._kicked.clear()

    async def _run(self) -> None:
        away = 0
        while not self._stopping:
            try:
                claimed = await self.run_once()
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
                logger.exception("ban lists: a propagation round failed")
                claimed = 0
            if claimed < self.batch and not self._stopping:
                await self._idle(self.poll_seconds)

    async def run_once(self) -> int:
        """Claims one batch and does it. Returns how many items were claimed."""
        items = (await self.core.ban_propagations_claim(limit=self.batch,
                                                        lease_seconds=self.lease_seconds))["results"]
        if items:
            self.application.bot_data.banlists.refresh_soon()  # a list changed: arrivals see it soon too
        for item in items:
            if self._stopping:
                break  # left to its lease
            await self.carry(item)
        return len(items)

    async def carry(self, item: dict) -> None:
        """One propagation on Telegram, then its report. A 429 waits its retry_after and tries again; a timeout or
        network error leaves the item to its lease (claimed again later)."""
        while True:
            await self.pacer.wait()
            try:
                await self._telegram(item)
                error = None
            except RetryAfter as exc:
                pause = exc._retry_after.total_seconds()  # as ratelimit.py reads it
                self.retry_afters += 1
                logger.info("ban lists: Telegram flood limit, waiting", extra={"retry_after": pause})
                self.pacer.hold(pause + 0.1)
                if self._stopping:
                    return
                continue
            except FINAL_ERRORS as exc:
                error = exc.message
            except TelegramError as exc:  # timed out, network: done again after the lease
                logger.warning("ban lists: propagation not done yet", extra={
                    "propagation_id": item.get("id"), "error": str(exc)})
                return
            break
        await self._complete(item, error)

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
