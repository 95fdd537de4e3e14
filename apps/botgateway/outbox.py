"""The bot's durable queue file: what the webhook acknowledged, and the events it owes core.

A local SQLite file (the bot's own: not a database of the platform's, which the bot never touches) with:

- `outbox`: events for core, shipped in order, in batches, deleted once core accepted them. A core outage leaves
  them on disk; a restart finds them there; event ids make a replay harmless (core stores each id once).
- `inbox`: the raw updates that go through python-telegram-bot's handlers, stored before the webhook answers 200
  and marked handled (in the same transaction as the events their handling recorded) once the handlers are done.
  A restart hands the unhandled ones to the application again; an update id seen before is not handled twice.
- `dead_letter`: events core kept refusing after bounded retries, kept for an operator instead of dropped.

Durability: the webhook answers 200 only once its update's row is committed. Commits are grouped (GroupCommit):
the requests that arrive together share one transaction, so a burst of updates costs one commit, not one each.

The file runs in WAL mode. By default with synchronous=NORMAL: a COMMIT has written the transaction's frames to the
WAL file (write(2), into the OS's page cache) before it returns, so once the webhook answers, no kill of the bot's
process (SIGKILL included) can take the row back: the next open recovers every committed frame from the WAL. What
NORMAL leaves out is the fsync per commit, so an OS crash or a power loss can lose the commits since the WAL was
last synced. Checkpoints are where it is synced: automatic checkpoints are off on the writing connection and a
checkpoint runs every second on a connection of its own, in a thread (fsync of the WAL, then of the database file),
so the event loop never waits for the disk; a kill during a checkpoint loses nothing (the WAL is reset only after a
complete one). With BOT_OUTBOX_SYNCHRONOUS=full each group commit fsyncs the WAL before anyone is told, for a power
loss too; its writes then run in a thread, as the fsync takes milliseconds. NORMAL is the default because its
guarantee is the one Telegram's own retries cannot make up for on a running machine (the bot dying), at no cost in
throughput; see docs/benchmarks.md for both.
"""

import asyncio
import contextlib
import json
import logging
import sqlite3
import threading
import time
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import NamedTuple

from prometheus_client import Counter, Gauge

from apps.common.error_codes import ErrorCode
from apps.coreclient import CoreError, CoreUnavailable

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
# A stored update whose handling was interrupted by this many restarts in a row is given up (a poison update that
# kills the process must not kill every restart too).
MAX_UPDATE_REPLAYS = 3
# Handled updates' ids are kept this long, so a redelivery of one (the 200 did not reach Telegram) is recognized.
# Telegram redelivers soon after the bot answers again, and a restart replays from the handling time on.
HANDLED_UPDATES_KEPT_SECONDS = 3600.0
# Seconds between checkpoints of the outbox file when commits do not fsync (synchronous=NORMAL): at most this much
# of acknowledged updates is not yet fsynced (lost on a power loss, never on a kill of the process).
CHECKPOINT_INTERVAL = 1.0


class OutboxRow(NamedTuple):
    seq: int
    event: dict
    attempts: int


class Outbox:
    def __init__(self, path: Path, *, synchronous: str = "NORMAL"):
        if synchronous not in ("NORMAL", "FULL"):
            raise ValueError(f"the outbox's synchronous mode is NORMAL or FULL, not {synchronous!r}")
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        # FULL: each commit waits for an fsync, so the callers run the writes in a thread (see EventShipper._io).
        self.fsyncs = synchronous == "FULL"
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(f"PRAGMA synchronous={synchronous}")
        if not self.fsyncs:  # checkpoints (and their fsyncs) run off the event loop: see checkpoint()
            self._db.execute("PRAGMA wal_autocheckpoint=0")
        self._checkpointer: sqlite3.Connection | None = None
        self._db.execute("CREATE TABLE IF NOT EXISTS outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT, "
                         "attempts INTEGER NOT NULL DEFAULT 0, not_before REAL NOT NULL DEFAULT 0)")
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(outbox)")}
        for column in ("attempts INTEGER NOT NULL DEFAULT 0", "not_before REAL NOT NULL DEFAULT 0"):
            if column.split()[0] not in columns:  # a file from before retries were bounded
                self._db.execute(f"ALTER TABLE outbox ADD COLUMN {column}")
        self._db.execute("CREATE TABLE IF NOT EXISTS inbox (update_id INTEGER PRIMARY KEY, body BLOB, "
                         "handled_at REAL, replays INTEGER NOT NULL DEFAULT 0)")
        self._db.execute("CREATE TABLE IF NOT EXISTS dead_letter (seq INTEGER PRIMARY KEY, body TEXT, error TEXT, "
                         "dead_at REAL)")
        # Chats (user_id 0) and members whose change on Telegram could not reach core: synced again from
        # Telegram's current state once core answers (EventShipper.resync).
        self._db.execute("CREATE TABLE IF NOT EXISTS resync (chat_id INTEGER NOT NULL, user_id INTEGER NOT NULL, "
                         "PRIMARY KEY (chat_id, user_id))")

    @contextlib.contextmanager
    def _transaction(self):
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def write(self, events: Iterable[dict] = (), updates: Iterable[tuple[int, bytes]] = (),
              handled: Iterable[int] = ()) -> list[bool]:
        """One transaction: appends `events`, stores raw `updates` (update id, body) and marks `handled` updates.
        Returns, for each of `updates`, whether it is new (False: that update id is stored already)."""
        events, updates, handled = list(events), list(updates), list(handled)
        if not (events or updates or handled):
            return []
        fresh = []
        with self._transaction() as db:
            for chunk in _chunks(events):
                db.execute(_listed("INSERT INTO outbox (body) VALUES ", len(chunk), 1),
                           [json.dumps(event) for event in chunk])
            if updates:
                stored = set()
                for chunk in _chunks([update_id for update_id, _ in updates]):
                    stored.update(row[0] for row in db.execute(
                        _listed("SELECT update_id FROM inbox WHERE update_id IN ", len(chunk)), chunk))
                new = {}
                for update_id, body in updates:
                    is_new = update_id not in stored and update_id not in new
                    fresh.append(is_new)
                    if is_new:
                        new[update_id] = body
                for chunk in _chunks(list(new.items())):
                    db.execute(_listed("INSERT INTO inbox (update_id, body) VALUES ", len(chunk), 2),
                               [value for row in chunk for value in row])
            for chunk in _chunks(handled):
                db.execute(_listed("UPDATE inbox SET body = NULL, handled_at = ? WHERE update_id IN ", len(chunk)),
                           [time.time(), *chunk])
        return fresh

    def checkpoint(self) -> None:
        """Copies committed transactions from the WAL into the database file, fsyncing both, on a connection of its
        own (called from a thread; never waits for the writer)."""
        if self._checkpointer is None:
            self._checkpointer = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None)
        self._checkpointer.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()

    def append(self, events: list[dict]) -> None:
        self.write(events)

    def updates_to_replay(self, max_replays: int = MAX_UPDATE_REPLAYS) -> tuple[list[tuple[int, bytes]], list[int]]:
        """The stored updates nobody finished handling (a restart hands them to the application again), in update
        order, each counted as replayed once more; and the ids of those given up (replayed too often), which are
        marked handled."""
        with self._transaction() as db:
            db.execute("UPDATE inbox SET replays = replays + 1 WHERE handled_at IS NULL")
            rows = db.execute("SELECT update_id, body, replays FROM inbox WHERE handled_at IS NULL "
                              "ORDER BY update_id").fetchall()
            abandoned = [update_id for update_id, _, replays in rows if replays > max_replays]
            db.executemany("UPDATE inbox SET body = NULL, handled_at = ? WHERE update_id = ?",
                           [(time.time(), update_id) for update_id in abandoned])
        return [(update_id, body) for update_id, body, replays in rows if replays <= max_replays], abandoned

    def forget_handled(self, older_than: float) -> None:
        with self._transaction() as db:
            db.execute("DELETE FROM inbox WHERE handled_at < ?", (older_than,))

    def pending_updates(self) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM inbox WHERE handled_at IS NULL").fetchone()[0]

    def peek(self, limit: int, now: float | None = None) -> list[OutboxRow]:
        """The first `limit` events in order, leaving out those set aside until later (refused by core)."""
        now = time.time() if now is None else now
        with self._lock:
            rows = self._db.execute("SELECT seq, body, attempts FROM outbox WHERE not_before <= ? ORDER BY seq "
                                    "LIMIT ?", (now, limit)).fetchall()
        return [OutboxRow(seq, json.loads(body), attempts) for seq, body, attempts in rows]

    def settle(self, shipped: list[int], retry: list[tuple[int, float]] = (),
               dead: list[tuple[int, str]] = ()) -> None:
        """In one transaction: deletes shipped rows; sets refused ones aside until a time (seq, not before),
        counting the attempt; moves those refused for the last time to the dead-letter table (seq, error)."""
        if not (shipped or retry or dead):
            return
        with self._transaction() as db:
            for chunk in _chunks(shipped):
                db.execute(_listed("DELETE FROM outbox WHERE seq IN ", len(chunk)), chunk)
            db.executemany("UPDATE outbox SET attempts = attempts + 1, not_before = ? WHERE seq = ?",
                           [(not_before, seq) for seq, not_before in retry])
            now = time.time()
            db.executemany("INSERT OR REPLACE INTO dead_letter (seq, body, error, dead_at) "
                           "SELECT seq, body, ?, ? FROM outbox WHERE seq = ?",
                           [(error, now, seq) for seq, error in dead])
            db.executemany("DELETE FROM outbox WHERE seq = ?", [(seq,) for seq, _ in dead])

    def ack(self, sequences: list[int]) -> None:
        self.settle(sequences)

    def depth(self) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0]

    def dead_letters(self) -> list[tuple[dict, str]]:
        with self._lock:
            rows = self._db.execute("SELECT body, error FROM dead_letter ORDER BY seq").fetchall()
        return [(json.loads(body), error) for body, error in rows]

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
            if self._checkpointer is not None:
                self._checkpointer.close()


_CHUNK = 500  # rows per statement: far below SQLite's limit on parameters


def _chunks(values: list) -> list[list]:
    return [values[start:start + _CHUNK] for start in range(0, len(values), _CHUNK)]


def _listed(statement: str, rows: int, columns: int = 0) -> str:
    """`statement` ending in placeholders for `rows` values: `(?, ?, ...)`, an IN list (columns=0), or
    `(?, ?), (?, ?), ...`, VALUES of `rows` rows. One statement, where executemany steps once per row."""
    if not columns:
        return statement + f"({', '.join('?' * rows)})"
    row = f"({', '.join('?' * columns)})"
    return statement + ", ".join([row] * rows)


class GroupCommit:
    """Makes what concurrent callers hand in durable together: everything handed in while the event loop serves
    the requests that arrived together is written in one transaction, and what arrives while one is being written
    (in a thread, when commits fsync) waits for the next, which takes it all. Each caller resumes once its own
    part is committed."""

    def __init__(self, outbox: Outbox, on_events_written: Callable[[int], None] | None = None):
        self.outbox = outbox
        self.on_events_written = on_events_written
        self._waiting: list[tuple[list[dict], tuple[int, bytes] | None, list[int], asyncio.Future]] = []
        self._writer: asyncio.Task | None = None

    async def persist(self, *, events: list[dict] = (), update: tuple[int, bytes] | None = None,
                      handled: list[int] = ()) -> bool:
        """Returns once committed: whether `update` (update id, raw body) was new. Raises what the write raised."""
        future = asyncio.get_running_loop().create_future()
        self._waiting.append((list(events), update, list(handled), future))
        if self._writer is None:
            self._writer = asyncio.create_task(self._write_rounds(), name="outbox-group-commit")
        return await future

    async def _write_rounds(self) -> None:
        try:
            while True:
                await asyncio.sleep(0)  # the requests already under way in this turn of the loop join the round
                if not self._waiting:
                    return
                round_, self._waiting = self._waiting, []
                events = [event for part in round_ for event in part[0]]
                updates = [part[1] for part in round_ if part[1] is not None]
                handled = [update_id for part in round_ for update_id in part[2]]
                try:
                    if self.outbox.fsyncs:
                        fresh = iter(await asyncio.to_thread(self.outbox.write, events, updates, handled))
                    else:
                        fresh = iter(self.outbox.write(events, updates, handled))
                except Exception as exc:
                    for *_, future in round_:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                for _, update, _, future in round_:
                    is_new = next(fresh) if update is not None else True
                    if not future.done():  # its caller may have gone (a client that hung up)
                        future.set_result(is_new)
                if events and self.on_events_written is not None:
                    self.on_events_written(len(events))
        finally:
            self._writer = None


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
        self.core_reachable = True

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
                await self.ship()
                OUTBOX_DEPTH.set(await self._io(self.outbox.depth))  # only events set aside are left
                await self.resync_pending()
                backoff, ship_after = self.flush_interval, 0.0
                self.core_reachable = True
            except CoreUnavailable as exc:
                self.core_reachable = False
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
