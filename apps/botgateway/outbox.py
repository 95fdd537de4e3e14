"""The event shipper: gets the events the handlers record (and the webhook counts) to core, in order and in
batches, from the bot's durable queue file (`outbox_store.Outbox`, written through `outbox_commit.GroupCommit`).

Delivery: a core outage leaves the events on disk and backs off; a batch naming chats core does not know (core's
code unknown_group) registers them and ships again; an event core refuses on its own is set aside, retried after
2, 4, 8... seconds, and dead-lettered at the last try (kept in the file for an operator), never holding up the
others.
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

from prometheus_client import Counter, Gauge

from apps.common.error_codes import ErrorCode
from apps.coreclient import CoreError, CoreUnavailable

from .outbox_commit import GroupCommit
from .outbox_store import Outbox, OutboxRow

logger = logging.getLogger(__name__)

OUTBOX_DEPTH = Gauge("bot_outbox_depth", "Events waiting in the outbox for core", multiprocess_mode="livesum")
EVENTS_SHIPPED = Counter("bot_events_shipped_total", "Events accepted by core")
EVENTS_REFUSED = Counter("bot_events_refused_total", "Events core refused alone, set aside for a later retry")
EVENTS_DEAD = Counter("bot_events_dead_lettered_total",
                      "Events core kept refusing after bounded retries (logged, kept in the dead-letter table)")
UPDATES_REPLAYED = Counter("bot_updates_replayed_total", "Acknowledged updates handled again after a restart")
UPDATES_ABANDONED = Counter("bot_updates_abandoned_total",
                            "Acknowledged updates given up after every restart failed to finish handling them")

# An event core refuses on its own is tried again after 2, 4, 8, ... seconds, and dead-lettered at the last try.
MAX_EVENT_ATTEMPTS = 5
MAX_RETRY_DELAY = 60.0
# Handled updates' ids are kept this long, so a redelivery of one (the 200 did not reach Telegram) is recognized.
# Telegram redelivers soon after the bot answers again, and a restart replays from the handling time on.
HANDLED_UPDATES_KEPT_SECONDS = 3600.0
# Seconds between checkpoints of the outbox file when commits do not fsync (synchronous=NORMAL): at most this much
# of acknowledged updates is not yet fsynced (lost on a power loss, never on a kill of the process).
CHECKPOINT_INTERVAL = 1.0


class EventShipper:
    """Collects events from the handlers and gets them to core, in order, at most about a second late; stores
    what the webhook acknowledges, and the end of each stored update's handling."""

    def __init__(self, outbox: Outbox, core, *, flush_interval: float = 0.25, batch_size: int = 500,
                 max_backoff: float = 5.0, register_chats: Callable[[set[int]], Awaitable[None]] | None = None,
                 resync: Callable[[int, int | None], Awaitable[None]] | None = None,
                 max_attempts: int = MAX_EVENT_ATTEMPTS, clock: Callable[[], float] = time.time):
        self.outbox = outbox
        self.core = core
        self.commit = GroupCommit(outbox, self._events_written)
        # Registers in core the chats of events it refused as naming an unknown group: a group the bot first met
        # while core was down has events in the outbox before core has the group.
        self.register_chats = register_chats
        # Brings core in line with Telegram for a chat's admins, and a member's status when one is named: for
        # changes whose update could not reach core (see Outbox.mark_resync).
        self.resync = resync
        self._resync_waiting = True  # the file may hold some from before a restart
        self.flush_interval = flush_interval
        self.batch_size = batch_size
        self.max_backoff = max_backoff
        self.max_attempts = max_attempts
        self.clock = clock  # when refused events may be tried again
        self._buffer: list[dict] = []
        self._handled: list[int] = []
        self._written_since_wake = 0
        self._task: asyncio.Task | None = None
        self._wake = asyncio.Event()
        # One shipping at a time: two would peek the same rows and send them twice.
        self._shipping = asyncio.Lock()

    def record(self, event: dict) -> None:
        """An event a handler made: written with the end of its update's handling (see `update_handled`)."""
        self._buffer.append(event)
        if len(self._buffer) >= self.batch_size:
            self._wake.set()

    def update_handled(self, update_id: int) -> None:
        """The application is done with a stored update: marked handled in the transaction that writes the events
        its handlers recorded (they were recorded before this), so a kill in between replays it, events included."""
        self._handled.append(update_id)

    async def persist_events(self, events: list[dict]) -> None:
        """Returns once `events` are on disk (the webhook's plain messages)."""
        await self.commit.persist(events=events)

    async def persist_update(self, update_id: int, body: bytes) -> bool:
        """Returns once the raw update is on disk: whether it is new (False: stored before, not to be handled
        again)."""
        return await self.commit.persist(update=(update_id, body))

    async def _io(self, function, *args):
        """Runs an outbox call: on the event loop when the file does not fsync per commit (a fraction of a
        millisecond, and no handing over of the GIL between threads row by row), in a thread when it does."""
        if self.outbox.fsyncs:
            return await asyncio.to_thread(function, *args)
        return function(*args)

    def _events_written(self, count: int) -> None:
        self._written_since_wake += count
        if self._written_since_wake >= self.batch_size:
            self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="event-shipper")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.flush_to_disk()
        with contextlib.suppress(TimeoutError, CoreUnavailable):  # best effort; what is left stays on disk
            await asyncio.wait_for(self.ship(), timeout=2)

    async def deliver_pending(self, timeout: float = 5.0) -> bool:
        """Ships now what the handlers have recorded so far, for a reader about to ask core something those events
        answer (who @name is, when their first message is still on its way). Best effort within `timeout`: whether
        everything was delivered."""
        async def deliver() -> None:
            await self.flush_to_disk()
            async with self._shipping:
                await self.ship()

        try:
            await asyncio.wait_for(deliver(), timeout=timeout)
        except (TimeoutError, CoreUnavailable) as exc:
            logger.warning("recorded events not delivered to core in time for a reader waiting on them",
                           extra={"error": type(exc).__name__, "timeout_seconds": timeout})
            return False
        return True

    async def flush_to_disk(self) -> None:
        pending, self._buffer = self._buffer, []
        handled, self._handled = self._handled, []
        if pending or handled:
            await self.commit.persist(events=pending, handled=handled)

    async def replay(self) -> list[tuple[int, bytes]]:
        """The stored updates a previous run acknowledged but did not finish handling, for the application."""
        updates, abandoned = await self._io(self.outbox.updates_to_replay)
        if abandoned:
            UPDATES_ABANDONED.inc(len(abandoned))
            logger.error("updates given up: every restart failed to finish handling them",
                         extra={"update_ids": abandoned[:50], "count": len(abandoned)})
        if updates:
            UPDATES_REPLAYED.inc(len(updates))
            logger.warning("handling acknowledged updates again after a restart", extra={"count": len(updates)})
        return updates

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        backoff, ship_after, forget_after, checkpoint_after = self.flush_interval, 0.0, 0.0, 0.0
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.flush_interval)
            self._wake.clear()
            self._written_since_wake = 0
            try:
                await self.flush_to_disk()
                if loop.time() >= checkpoint_after and not self.outbox.fsyncs:
                    checkpoint_after = loop.time() + CHECKPOINT_INTERVAL
                    await asyncio.to_thread(self.outbox.checkpoint)
                if loop.time() >= forget_after:
                    forget_after = loop.time() + 300
                    await self._io(self.outbox.forget_handled, time.time() - HANDLED_UPDATES_KEPT_SECONDS)
            except Exception:  # the disk refused: the buffer is lost, its updates are replayed after a restart
                logger.exception("event shipper could not write to the outbox")
            if loop.time() < ship_after:  # core was unreachable: wait out the backoff, keep flushing meanwhile
                continue
            try:
                async with self._shipping:
                    await self.ship()
                OUTBOX_DEPTH.set(await self._io(self.outbox.depth))  # only events set aside are left
                await self.resync_pending()
                backoff, ship_after = self.flush_interval, 0.0
            except CoreUnavailable as exc:
                backoff = min(max(backoff * 2, self.flush_interval), self.max_backoff)
                ship_after = loop.time() + backoff
                depth = await self._io(self.outbox.depth)
                OUTBOX_DEPTH.set(depth)
                logger.warning("core unreachable; events kept in the outbox",
                               extra={"error": str(exc), "outbox_depth": depth})
            except Exception:  # never let the shipper die: the next tick tries again
                logger.exception("event shipper failed")
                OUTBOX_DEPTH.set(await self._io(self.outbox.depth))

    async def mark_resync(self, chat_id: int, user_id: int | None = None) -> None:
        """Remembers (on disk) that core missed a change of this chat's admins or of this member."""
        await self._io(self.outbox.mark_resync, chat_id, user_id)
        self._resync_waiting = True

    async def resync_pending(self) -> None:
        """Runs the resyncs that changes during a core outage left; each is dropped once done. Core unreachable
        again: CoreUnavailable, and they wait for the next round."""
        if self.resync is None or not self._resync_waiting:
            return
        self._resync_waiting = False
        try:
            for chat_id, user_id in await self._io(self.outbox.resyncs):
                await self.resync(chat_id, user_id)
                await self._io(self.outbox.resynced, chat_id, user_id)
                logger.info("resynced after an outage", extra={"chat_id": chat_id, "telegram_user_id": user_id})
        except BaseException:
            self._resync_waiting = True
            raise

    async def ship(self) -> None:
        """Ships until nothing is left but events set aside for later. An event core refuses on its own (the rest
        of its batch accepted) is set aside and retried later, then dead-lettered: it never holds up the others."""
        while True:
            rows = await self._io(self.outbox.peek, self.batch_size, self.clock())
            if not rows:
                return
            refused: list[tuple[OutboxRow, CoreError]] = []
            await self._ship_rows(rows, refused)
            if refused and len(refused) == len(rows) and all(exc.status_code >= 500 for _, exc in refused):
                # Nothing went through: a failing core, not a bad event. Everything waits, nothing is counted.
                raise CoreUnavailable(f"core failed every event: {refused[0][1].message}")
            refused_seqs = {row.seq for row, _ in refused}
            retry, dead = [], []
            for row, exc in refused:
                if row.attempts + 1 >= self.max_attempts:
                    dead.append((row.seq, f"{exc.code}: {exc.message}"))
                    EVENTS_DEAD.inc()
                    logger.error("core kept refusing an event; dead-lettered", extra={
                        "outbox_event": row.event, "error": exc.message, "error_code": exc.code,
                        "attempts": row.attempts + 1})
                else:
                    retry.append((row.seq, self.clock() + min(2.0 ** (row.attempts + 1), MAX_RETRY_DELAY)))
                    EVENTS_REFUSED.inc()
                    logger.warning("core refused an event; set aside for a retry", extra={
                        "outbox_event": row.event, "error": exc.message, "error_code": exc.code,
                        "attempts": row.attempts + 1})
            await self._io(self.outbox.settle, [row.seq for row in rows if row.seq not in refused_seqs],
                                    retry, dead)

    async def _ship_rows(self, rows: list[OutboxRow], refused: list, *, registered: bool = False) -> None:
        """Ships rows. Events of chats core does not know yet are shipped again once those chats are registered;
        a batch still refused is bisected, so one bad event cannot block the rest: the events refused on their
        own are added to `refused`. A refusal that is about core, not the batch, is CoreUnavailable."""
        try:
            await self.core.events_batch([row.event for row in rows])
            EVENTS_SHIPPED.inc(len(rows))
        except CoreError as exc:
            if _core_wide(exc):
                raise CoreUnavailable(str(exc)) from exc
            unknown = _unknown_chats(exc, rows)
            if unknown and not registered and self.register_chats is not None:
                await self.register_chats(unknown)  # core down again: CoreUnavailable, the rows stay on disk
                await self._ship_rows(rows, refused, registered=True)
                return
            if len(rows) == 1:
                refused.append((rows[0], exc))
                return
            middle = len(rows) // 2
            await self._ship_rows(rows[:middle], refused, registered=registered)
            await self._ship_rows(rows[middle:], refused, registered=registered)


def _core_wide(exc: CoreError) -> bool:
    """A refusal that any batch would get (the bot's key, its scope, core's limits or load): waiting helps;
    splitting the batch does not, and the events are not at fault."""
    return exc.status_code in (401, 403, 404, 405, 408, 429) or exc.status_code >= 502


def _unknown_chats(exc: CoreError, rows: list[OutboxRow]) -> set[int]:
    """The chat ids of the events core refused as naming an unknown group (code unknown_group; its details name
    them by index)."""
    refused = (exc.details or {}).get("events") if isinstance(exc.details, dict) else None
    if exc.code != ErrorCode.UNKNOWN_GROUP or not isinstance(refused, dict):
        return set()
    chats = set()
    for index in refused:
        if str(index).isdigit() and int(index) < len(rows):
            chat_id = rows[int(index)].event.get("telegram_chat_id")
            if chat_id is not None:
                chats.add(chat_id)
    return chats
