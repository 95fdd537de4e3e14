"""Group commit: the writes of a process's concurrent request threads share one transaction.

The first thread to arrive leads: it waits for the writer's turn (`turn`, when writers queue for one), takes every
item waiting once it holds the turn and hands them to `write` (in arrival order), and only once `write` has returned
wakes the others, each of which then returns (or raises `write`'s error) knowing its own item is written. Items
arriving meanwhile wait for the next group, led by the first of them. With one thread per process (sync workers)
every group holds one item: the plain path plus a lock taken uncontended.
Used by the audit trail's appends and by event ingest.
"""

import contextlib
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Generic, TypeVar

Item = TypeVar("Item")


class _Slot(Generic[Item]):
    __slots__ = ("error", "item", "lead", "woken")

    def __init__(self, item: Item):
        self.item = item
        self.woken = threading.Event()
        self.lead = False
        self.error: BaseException | None = None


class GroupCommit(Generic[Item]):
    def __init__(self, write: Callable[[list[Item]], None],
                 turn: Callable[[], AbstractContextManager] = contextlib.nullcontext):
        self._write = write
        self._turn = turn
        self._lock = threading.Lock()
        self._waiting: list[_Slot[Item]] = []
        self._busy = False

    def waiting(self) -> int:
        """How many items wait for a leader to take them."""
        with self._lock:
            return len(self._waiting)

    def submit(self, item: Item) -> None:
        """Returns once `item` is written, with the others waiting beside it; raises what writing its group raised
        (a `write` that settles each item's outcome on the item itself raises nothing)."""
        mine = _Slot(item)
        with self._lock:
            self._waiting.append(mine)
            leading = not self._busy
            self._busy = True
        if not leading:
            mine.woken.wait()
            if not mine.lead:
                if mine.error is not None:
                    raise mine.error
                return
        group: list[_Slot[Item]] = []
        error = None
        try:
            # Taken once the turn is held, not before: what arrives while the leader waits for it (another
            # process holding it) joins this group instead of waiting for the next.
            with self._turn():
                with self._lock:
                    group, self._waiting = self._waiting, []
                self._write([slot.item for slot in group])
        except BaseException as exc:  # the group's write failed as a whole: every item of it did
            error = exc
            if not group:  # the turn itself failed: the waiting items, this one among them, are the group
                with self._lock:
                    group, self._waiting = self._waiting, []
        finally:
            for slot in group:
                if slot is not mine:
                    slot.error = error
                    slot.woken.set()
            with self._lock:
                if self._waiting:
                    self._waiting[0].lead = True
                    self._waiting[0].woken.set()
                else:
                    self._busy = False
        if error is not None:
            raise error
