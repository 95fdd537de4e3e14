"""Writers of the audit trail: each appends to its own chain stream, so no two of them ever race for one
"next sequence".

A writer is a thread of a core process (a lane): a thread runs one transaction at a time, so its stream's
next position (head + 1, read inside that transaction) is never contested, whatever the backend; concurrent
appends of one process still share a transaction (group commit), written to the lane of the thread that leads
it. A lane is named after the host, the process id, a nonce drawn at the process's start and a number; a
thread that ends returns its lane to the process, and the next new thread takes it over (thread-per-request
servers would otherwise leave a stream per request).

The global order key (`sequence`: the list, the CSV and the live feed's cursor) is drawn by the lane itself,
without asking anyone: milliseconds since 2026-01-01 (41 bits), the lane's slot (9 bits) and a counter (3 bits)
that, once spent within one millisecond, borrows the next one. It stays below 2**53, so browsers read it
exactly. Slots are drawn at random, distinct within a process; two lanes of different processes sharing one can
give two events the same key only if both draw it in the same millisecond with the same counter: the key is
indexed, not unique, so that never fails a write (it only orders those two events by id).
"""

import os
import random
import secrets
import socket
import threading
import time
import weakref

from django.conf import settings

EPOCH_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z
SLOT_BITS, COUNTER_BITS = 9, 3
CHECKPOINT_INTERVAL_SECONDS = 60.0


class Lane:
    __slots__ = ("__weakref__", "checkpointed_at", "counter", "head", "name", "pending", "slot", "tick")

    def __init__(self, name: str, slot: int):
        self.name, self.slot = name, slot
        self.tick = self.counter = 0
        self.checkpointed_at: float | None = None  # time.monotonic() of this lane's last checkpoint
        self.pending = False  # appended since its last checkpoint
        # (stream_seq, hash) its last transaction committed, or None: read from the database (services.py)
        self.head: tuple[int, str] | None = None

    def next_key(self, floor: int = 0) -> int:
        """The next key of this lane, above `floor` (the newest key on record where the writer holds the
        database's write lock: SQLite's keys then follow commit order exactly)."""
        now = int(time.time() * 1000) - EPOCH_MS
        if now > self.tick:
            self.tick, self.counter = now, 0
        else:
            self.counter += 1
            if self.counter == 1 << COUNTER_BITS:
                self.tick, self.counter = self.tick + 1, 0
        if self._key() <= floor:  # another writer's clock ran ahead: follow it
            self.tick, self.counter = (floor >> (SLOT_BITS + COUNTER_BITS)) + 1, 0
        return self._key()

    def _key(self) -> int:
        return (self.tick << (SLOT_BITS + COUNTER_BITS)) | (self.slot << COUNTER_BITS) | self.counter

    def checkpoint_due(self) -> bool:
        return self.checkpointed_at is None or time.monotonic() - self.checkpointed_at >= CHECKPOINT_INTERVAL_SECONDS


class _Lease:
    __slots__ = ("__weakref__", "lane", "pid")

    def __init__(self, lane: Lane, pid: int):
        self.lane, self.pid = lane, pid


class _Lanes:
    def __init__(self):
        self.lock = threading.Lock()
        self.local = threading.local()
        self._reset(os.getpid())

    def _reset(self, pid: int) -> None:
        self.pid = pid
        self.prefix = f"{socket.gethostname()[:48]}:{pid}:{secrets.token_hex(4)}"
        self.free: list[Lane] = []
        self.every: list[Lane] = []

    def current(self) -> Lane:
        """The calling thread's lane: its own for as long as the thread lives."""
        lease = getattr(self.local, "lease", None)
        pid = os.getpid()
        if lease is not None and lease.pid == pid:
            return lease.lane
        with self.lock:
            if self.pid != pid:  # a forked child: new writers, new streams
                self._reset(pid)
            lane = self.free.pop() if self.free else self._new_lane()
        lease = _Lease(lane, pid)
        weakref.finalize(lease, self._release, lane, pid)
        self.local.lease = lease
        return lane

    def _new_lane(self) -> Lane:
        taken = {lane.slot for lane in self.every}
        slot = random.choice([s for s in range(1 << SLOT_BITS) if s not in taken] or range(1 << SLOT_BITS))
        lane = Lane(f"{self.prefix}:{len(self.every) + 1}", slot)
        self.every.append(lane)
        return lane

    def _release(self, lane: Lane, pid: int) -> None:
        with self.lock:
            if self.pid == pid:
                self.free.append(lane)

    def of_this_process(self) -> list[Lane]:
        with self.lock:
            return list(self.every) if self.pid == os.getpid() else []

    def forget_heads(self, **_signal) -> None:
        """The database was emptied or rebuilt under these writers (flush, migrate: tests): each reads its
        stream's head again."""
        for lane in self.of_this_process():
            lane.head = None


lanes = _Lanes()


def checkpoint_keys() -> dict[str, bytes]:
    """key id -> secret, the signing key first (settings.AUDIT_CHECKPOINT_KEYS)."""
    return getattr(settings, "AUDIT_CHECKPOINT_KEYS", {})
