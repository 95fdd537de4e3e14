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

import contextlib
import json
import sqlite3
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple

# A stored update whose handling was interrupted by this many restarts in a row is given up (a poison update that
# kills the process must not kill every restart too).
MAX_UPDATE_REPLAYS = 3


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
        # A checkpoint runs in a thread that a stopping shipper no longer waits for: closing its connection under it
        # would crash the process (sqlite3 without check_same_thread), so close() waits for it instead.
        self._checkpoint_lock = threading.Lock()
        self._closed = False
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
        with self._checkpoint_lock:
            if self._closed:
                return
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
        with self._checkpoint_lock:
            self._closed = True
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
