"""A durable, ordered outbox for the events the bot reports to core.

Events are buffered in memory for at most `flush_interval` seconds, then appended to a local SQLite file
(the bot's own queue file: not a database of the platform's, which the bot never touches), then shipped to
core in order, in batches, and deleted only once core has accepted them. A core outage leaves them on disk;
a restart of the bot finds them there; event ids make a replay harmless.
"""

import asyncio
import contextlib
import json
import logging
import sqlite3
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path

from prometheus_client import Counter, Gauge

from apps.coreclient import CoreError, CoreUnavailable

logger = logging.getLogger(__name__)

OUTBOX_DEPTH = Gauge("bot_outbox_depth", "Events waiting in the outbox for core", multiprocess_mode="livesum")
EVENTS_SHIPPED = Counter("bot_events_shipped_total", "Events accepted by core")
EVENTS_DEAD = Counter("bot_events_dead_lettered_total", "Events core refused as invalid (logged, dropped)")


class Outbox:
    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT)")
        # Chats (user_id 0) and members whose change on Telegram could not reach core: synced again from
        # Telegram's current state once core answers (EventShipper.resync).
        self._db.execute("CREATE TABLE IF NOT EXISTS resync (chat_id INTEGER NOT NULL, user_id INTEGER NOT NULL, "
                         "PRIMARY KEY (chat_id, user_id))")

    def append(self, events: list[dict]) -> None:
        if not events:
            return
        with self._lock:
            self._db.execute("BEGIN")
            self._db.executemany("INSERT INTO outbox (body) VALUES (?)", [(json.dumps(e),) for e in events])
            self._db.execute("COMMIT")

    def peek(self, limit: int) -> list[tuple[int, dict]]:
        with self._lock:
            rows = self._db.execute("SELECT seq, body FROM outbox ORDER BY seq LIMIT ?", (limit,)).fetchall()
        return [(seq, json.loads(body)) for seq, body in rows]

    def ack(self, sequences: list[int]) -> None:
        """Deletes shipped rows, in one transaction (a DELETE per row in autocommit cost a commit each)."""
        if not sequences:
            return
        with self._lock:
            self._db.execute("BEGIN")
            self._db.executemany("DELETE FROM outbox WHERE seq = ?", [(seq,) for seq in sequences])
            self._db.execute("COMMIT")

    def depth(self) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0]

    def mark_resync(self, chat_id: int, user_id: int | None = None) -> None:
        with self._lock:
            self._db.execute("INSERT OR IGNORE INTO resync (chat_id, user_id) VALUES (?, ?)", (chat_id, user_id or 0))

    def resyncs(self) -> list[tuple[int, int | None]]:
        with self._lock:
            rows = self._db.execute("SELECT chat_id, user_id FROM resync ORDER BY chat_id, user_id").fetchall()
        return [(chat_id, user_id or None) for chat_id, user_id in rows]

    def resynced(self, chat_id: int, user_id: int | None) -> None:
        with self._lock:
            self._db.execute("DELETE FROM resync WHERE chat_id = ? AND user_id = ?", (chat_id, user_id or 0))

    def close(self) -> None:
        with self._lock:
            self._db.close()


class EventShipper:
    """Collects events from the handlers and gets them to core, in order, at most about a second late."""

    def __init__(self, outbox: Outbox, core, *, flush_interval: float = 0.25, batch_size: int = 500,
                 max_backoff: float = 5.0, register_chats: Callable[[set[int]], Awaitable[None]] | None = None,
                 resync: Callable[[int, int | None], Awaitable[None]] | None = None):
        self.outbox = outbox
        self.core = core
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
        self._buffer: list[dict] = []
        self._task: asyncio.Task | None = None
        self._wake = asyncio.Event()
        self.core_reachable = True

    def record(self, event: dict) -> None:
        self._buffer.append(event)
        if len(self._buffer) >= self.batch_size:
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

    async def flush_to_disk(self) -> None:
        pending, self._buffer = self._buffer, []
        if pending:
            await asyncio.to_thread(self.outbox.append, pending)

    async def _run(self) -> None:
        backoff = self.flush_interval
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=backoff)
            self._wake.clear()
            await self.flush_to_disk()
            try:
                await self.ship()
                OUTBOX_DEPTH.set(0)  # ship() returns once the outbox is empty
                await self.resync_pending()
                backoff = self.flush_interval
                self.core_reachable = True
            except CoreUnavailable as exc:
                self.core_reachable = False
                backoff = min(max(backoff * 2, self.flush_interval), self.max_backoff)
                depth = await asyncio.to_thread(self.outbox.depth)
                OUTBOX_DEPTH.set(depth)
                logger.warning("core unreachable; events kept in the outbox",
                               extra={"error": str(exc), "outbox_depth": depth})
            except Exception:  # never let the shipper die: the next tick tries again
                logger.exception("event shipper failed")
                OUTBOX_DEPTH.set(await asyncio.to_thread(self.outbox.depth))

    async def mark_resync(self, chat_id: int, user_id: int | None = None) -> None:
        """Remembers (on disk) that core missed a change of this chat's admins or of this member."""
        await asyncio.to_thread(self.outbox.mark_resync, chat_id, user_id)
        self._resync_waiting = True

    async def resync_pending(self) -> None:
        """Runs the resyncs that changes during a core outage left; each is dropped once done. Core unreachable
        again: CoreUnavailable, and they wait for the next round."""
        if self.resync is None or not self._resync_waiting:
            return
        self._resync_waiting = False
        try:
            for chat_id, user_id in await asyncio.to_thread(self.outbox.resyncs):
                await self.resync(chat_id, user_id)
                await asyncio.to_thread(self.outbox.resynced, chat_id, user_id)
                logger.info("resynced after an outage", extra={"chat_id": chat_id, "telegram_user_id": user_id})
        except BaseException:
            self._resync_waiting = True
            raise

    async def ship(self) -> None:
        while True:
            rows = await asyncio.to_thread(self.outbox.peek, self.batch_size)
            if not rows:
                return
            await self._ship_rows(rows)
            await asyncio.to_thread(self.outbox.ack, [seq for seq, _ in rows])

    async def _ship_rows(self, rows: list[tuple[int, dict]], *, registered: bool = False) -> None:
        """Ships rows. Events of chats core does not know yet are shipped again once those chats are registered;
        a batch still refused is bisected, so one bad event cannot block the rest forever."""
        try:
            await self.core.events_batch([event for _, event in rows])
            EVENTS_SHIPPED.inc(len(rows))
        except CoreError as exc:
            if exc.status_code >= 500 or exc.code in {"unauthenticated", "rate_limited"}:
                raise CoreUnavailable(str(exc)) from exc
            unknown = _unknown_chats(exc, rows)
            if unknown and not registered and self.register_chats is not None:
                await self.register_chats(unknown)  # core down again: CoreUnavailable, the rows stay on disk
                await self._ship_rows(rows, registered=True)
                return
            if len(rows) == 1:
                EVENTS_DEAD.inc()
                logger.error("core refused an event; dropped", extra={"event": rows[0][1], "error": exc.message})
                return
            middle = len(rows) // 2
            await self._ship_rows(rows[:middle], registered=registered)
            await self._ship_rows(rows[middle:], registered=registered)


def _unknown_chats(exc: CoreError, rows: list[tuple[int, dict]]) -> set[int]:
    """The chat ids of the events core refused as naming an unknown group (its details name them by index)."""
    refused = (exc.details or {}).get("events") if isinstance(exc.details, dict) else None
    if exc.code != "validation_error" or not isinstance(refused, dict):
        return set()
    chats = set()
    for index, messages in refused.items():
        if str(index).isdigit() and int(index) < len(rows) and "Unknown group." in (messages or []):
            chat_id = rows[int(index)][1].get("telegram_chat_id")
            if chat_id is not None:
                chats.add(chat_id)
    return chats
