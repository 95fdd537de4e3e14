"""Each ban list's banned Telegram ids, cached in the bot and kept current by version.

`banned_in(list_ids, telegram_user_id)` is the hot path: it runs on every message of a group that follows a list
(and on every join there), so it awaits nothing, allocates nothing and calls core never. A list the bot has not
cached yet is loaded in the background on that first need (`ban_list_ids(since=0)`): until it is in, the check
answers as if the list were empty (joins ask core about the joiner meanwhile: enforce.py).

The cache is kept current by version, as the protection settings are: every BOT_BANLIST_REFRESH_SECONDS the poller
asks core for the versions of the cached lists (`ban_list_versions`, 100 a call) and fetches, for each list that
moved, only what changed after the version it holds (`ban_list_ids(since=...)`: the ids banned and unbanned). A list
core no longer answers for (deleted), or that no cached group follows any more, is dropped.

One list (`BanSet`), measured against the alternatives in bench/banlists.py (docs/benchmarks.md): its ids as a
sorted array('q') (8 bytes an id: 100,000 ids are 0.8 MB, where a Python set of them is over 4 MB), a bitmap of
16 bits per id indexed by the id's low bits (a miss, the common case, is one bit test: 15 out of 16 misses never
reach the array), and two small sets of the changes since the array was built (ids banned, ids unbanned), merged into
a new array once they grow past a threshold. A hit or a bitmap's false positive costs one binary search.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import operator
import time
from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterable
from itertools import islice

from apps.coreclient import CoreError, CoreUnavailable

logger = logging.getLogger(__name__)

VERSIONS_PER_CALL = 100  # core's limit per ban_list_versions call
BITS_PER_ID = 16  # the bitmap's size: 1/16 of misses (at most) go on to the binary search
MIN_BITS = 1 << 13  # a list of a few ids still gets a bitmap of 1 KB
MIN_DELTA = 256  # changes kept beside the array before it is rebuilt: at least this many...
DELTA_SHARE = 32  # ... or 1/32 of the array's length, whichever is more
BUILD_IN_THREAD_FROM = 10_000  # ids: a list this large is made into the cache's form in a thread
LOAD_RETRY_SECONDS = 30.0  # after a failed load (core away, a list it does not know) the list is asked for again then


def _bitmap_size(count: int) -> int:
    bits = MIN_BITS
    while bits < count * BITS_PER_ID:
        bits <<= 1
    return bits


class BanSet:
    """One list's banned ids (see the module's docstring), its version and name."""

    __slots__ = ("added", "base", "bits", "mask", "name", "removed", "version")

    def __init__(self, ids: Iterable[int], *, version: int, name: str = ""):
        self.version = version
        self.name = name
        ids = ids if isinstance(ids, list) else list(ids)
        # Core answers them in ascending order: checked at C speed, sorted (and made unique) only when they are not.
        if not all(map(operator.lt, ids, islice(ids, 1, None))):
            ids = sorted(set(ids))
        self._build(ids)

    def _build(self, ordered: list[int]) -> None:
        self.base = array("q", ordered)
        size = _bitmap_size(len(ordered))
        self.mask = size - 1
        bits = bytearray(size >> 3)
        mask = self.mask
        for uid in ordered:
            index = uid & mask
            bits[index >> 3] |= 1 << (index & 7)
        self.bits = bits
        self.added: set[int] = set()
        self.removed: set[int] = set()

    def __contains__(self, uid: int) -> bool:
        if not self.bits[(uid & self.mask) >> 3] >> (uid & 7) & 1:
            return False
        return self.holds(uid)

    def holds(self, uid: int) -> bool:
        """The exact answer, after the bitmap said maybe."""
        if uid in self.added:
            return True
        if uid in self.removed:
            return False
        base = self.base
        index = bisect_left(base, uid)
        return index < len(base) and base[index] == uid

    def __len__(self) -> int:
        return len(self.base) - len(self.removed) + len(self.added)

    def _in_base(self, uid: int) -> bool:
        base = self.base
        index = bisect_left(base, uid)
        return index < len(base) and base[index] == uid

    def apply(self, banned: Iterable[int], unbanned: Iterable[int], version: int) -> None:
        """What changed after `self.version`, up to `version`: ids banned and unbanned."""
        mask, bits = self.mask, self.bits
        for uid in unbanned:
            self.added.discard(uid)
            if self._in_base(uid):
                self.removed.add(uid)
        for uid in banned:
            self.removed.discard(uid)
            if not self._in_base(uid):
                self.added.add(uid)
                index = uid & mask
                bits[index >> 3] |= 1 << (index & 7)
        self.version = max(self.version, version)
        if len(self.added) + len(self.removed) > max(MIN_DELTA, len(self.base) // DELTA_SHARE):
            self.compact()

    def compact(self) -> None:
        """The changes merged into a new array (and bitmap: unbanned ids' bits go)."""
        removed = self.removed
        kept = [uid for uid in self.base if uid not in removed] if removed else list(self.base)
        kept.extend(self.added)
        kept.sort()
        self._build(kept)

    def nbytes(self) -> int:
        """Roughly what the set holds in memory (the array, the bitmap, the change sets)."""
        return (self.base.buffer_info()[1] * self.base.itemsize + len(self.bits)
                + 64 * (len(self.added) + len(self.removed)))


class BanListCache:
    """Every cached list by id (core's list id, a string), loaded on first need, refreshed by version."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic):
        self._sets: dict[str, BanSet] = {}
        self._loading: dict[str, asyncio.Future] = {}
        self._failed_until: dict[str, float] = {}
        self._clock = clock
        self._tasks: set[asyncio.Task] = set()
        self._poller: asyncio.Task | None = None
        self._wake: asyncio.Event | None = None
        self.core = None  # the core client, bound by start() (or by a test)
        # The list ids some cached group still follows (None: keep every list): the poller drops the others.
        self.referenced: Callable[[], set[str]] | None = None

    # -- the hot path

    def banned_in(self, list_ids: Iterable[str], telegram_user_id: int) -> str | None:
        """The first of `list_ids` that bans the user, or None. A list not cached yet counts as empty here, and is
        asked for in the background."""
        sets = self._sets
        uid = telegram_user_id
        for list_id in list_ids:
            found = sets.get(list_id)
            if found is None:
                self._want(list_id)
                continue
            if found.bits[(uid & found.mask) >> 3] >> (uid & 7) & 1 and found.holds(uid):
                return list_id
        return None

    # -- what the checks and commands read

    def get(self, list_id: str) -> BanSet | None:
        return self._sets.get(list_id)

    def version(self, list_id: str) -> int | None:
        found = self._sets.get(list_id)
        return None if found is None else found.version

    def name(self, list_id: str) -> str:
        found = self._sets.get(list_id)
        return found.name if found is not None else ""

    def missing(self, list_ids: Iterable[str]) -> list[str]:
        """The lists among `list_ids` the cache does not hold yet."""
        return [list_id for list_id in list_ids if list_id not in self._sets]

    def list_ids(self) -> list[str]:
        return list(self._sets)

    def nbytes(self) -> int:
        return sum(found.nbytes() for found in self._sets.values())

    def drop(self, list_id: str) -> None:
        self._sets.pop(list_id, None)

    # -- loading

    def _want(self, list_id: str) -> None:
        """Starts loading a list in the background (once: later asks while it loads, or while a failed load waits
        for its retry, cost a dict lookup)."""
        if list_id in self._loading or self.core is None:
            return
        retry_at = self._failed_until.get(list_id)
        if retry_at is not None:
            if self._clock() < retry_at:
                return
            del self._failed_until[list_id]
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no loop (a synchronous caller): the next check on the loop loads it
            return
        task = loop.create_task(self._load_quietly(list_id), name=f"ban-list-load-{list_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _load_quietly(self, list_id: str) -> None:
        with contextlib.suppress(CoreError, CoreUnavailable):  # logged, and retried later, by load()
            await self.load(list_id)

    def store(self, list_id: str, ids: Iterable[int], *, version: int, name: str = "") -> BanSet:
        """A list's full content (core's answer to since=0), replacing what the cache held unless that is later."""
        current = self._sets.get(list_id)
        if current is not None and current.version > version:
            return current
        found = self._sets[list_id] = BanSet(ids, version=version, name=name or (current.name if current else ""))
        self._failed_until.pop(list_id, None)
        return found

    async def _store_built(self, list_id: str, ids: list[int], version: int, name: str = "") -> BanSet:
        """store(), with a large list's arrays built in a thread: the event loop keeps serving updates meanwhile
        (the build is pure Python, so it shares the interpreter, but in slices of a few milliseconds)."""
        current = self._sets.get(list_id)
        if current is not None and current.version > version:
            return current
        if len(ids) < BUILD_IN_THREAD_FROM:
            return self.store(list_id, ids, version=version, name=name)
        built = await asyncio.to_thread(BanSet, ids, version=version, name=name)
        current = self._sets.get(list_id)
        if current is not None and current.version > version:
            return current
        built.name = name or (current.name if current else "")
        self._sets[list_id] = built
        self._failed_until.pop(list_id, None)
        return built

    async def load(self, list_id: str) -> BanSet:
        """The list from core, in full, kept in the cache; concurrent loads of one list share one call. Raises what
        the call raises (CoreUnavailable; CoreError not_found for a list core does not know); a failed list is not
        asked for again on the hot path for LOAD_RETRY_SECONDS."""
        pending = self._loading.get(list_id)
        if pending is not None:
            return await asyncio.shield(pending)
        future = asyncio.get_running_loop().create_future()
        self._loading[list_id] = future
        try:
            answer = await self.core.ban_list_ids(list_id, since=0)
            found = await self._store_built(list_id, answer.get("banned") or [], int(answer["version"]))
        except BaseException as exc:
            if isinstance(exc, asyncio.CancelledError):
                future.cancel()
            else:
                self._failed_until[list_id] = self._clock() + LOAD_RETRY_SECONDS
                if len(self._failed_until) > 10_000:
                    self._failed_until.clear()
                future.set_exception(exc)
                future.exception()  # retrieved: a load nobody else waited for logs nothing
                logger.info("ban list not loaded", extra={"ban_list_id": list_id, "error": str(exc)[:200]})
            raise
        finally:
            self._loading.pop(list_id, None)
        future.set_result(found)
        logger.info("ban list loaded", extra={"ban_list_id": list_id, "bans": len(found), "version": found.version})
        return found

    async def _catch_up(self, list_id: str, version: int, name: str) -> None:
        """Brings one cached list up to `version`: the changes since its own version (or all of it, when core
        answers in full)."""
        found = self._sets.get(list_id)
        if found is None or list_id in self._loading:
            return
        answer = await self.core.ban_list_ids(list_id, since=found.version)
        if self._sets.get(list_id) is not found:  # replaced or dropped meanwhile
            return
        new_version = int(answer["version"])
        if answer.get("full"):
            found = await self._store_built(list_id, answer.get("banned") or [], new_version, name)
        else:
            found.apply(answer.get("banned") or (), answer.get("unbanned") or (), new_version)
        if name:
            found.name = name

    # -- keeping current

    async def refresh(self) -> int:
        """One round: the versions of the cached lists, and the changes of those that moved; lists core no
        longer answers for, or that no cached group follows, are dropped. Returns how many lists moved."""
        if self.referenced is not None:
            keep = self.referenced()
            for list_id in [list_id for list_id in self._sets if list_id not in keep]:
                del self._sets[list_id]
        list_ids = list(self._sets)
        moved = 0
        for start in range(0, len(list_ids), VERSIONS_PER_CALL):
            asked = list_ids[start:start + VERSIONS_PER_CALL]
            versions = await self.core.ban_list_versions(asked)
            for list_id in asked:
                found = self._sets.get(list_id)
                if found is None:
                    continue
                info = versions.get(list_id)
                if info is None:  # deleted (or never was): its groups' settings drop it too
                    del self._sets[list_id]
                    continue
                name = info.get("name") or ""
                if int(info["version"]) > found.version:
                    try:
                        await self._catch_up(list_id, int(info["version"]), name)
                        moved += 1
                    except CoreError as exc:
                        logger.warning("ban list changes not fetched", extra={"ban_list_id": list_id,
                                                                               "error": str(exc)})
                        self._sets.pop(list_id, None)  # loaded again in full on its next need
                elif name:
                    found.name = name
        return moved

    def start(self, core, interval: float, *, referenced: Callable[[], set[str]] | None = None) -> None:
        """Starts the version poller (once)."""
        self.core = core
        if referenced is not None:
            self.referenced = referenced
        if self._poller is None or self._poller.done():
            self._wake = asyncio.Event()
            self._poller = asyncio.create_task(self._poll(interval), name="ban-list-cache-poller")

    def refresh_soon(self) -> None:
        """The next round now rather than at its time (after this bot's own /fban or /unfban)."""
        if self._wake is not None:
            self._wake.set()

    async def stop(self) -> None:
        poller, self._poller = self._poller, None
        tasks = [*self._tasks, *([poller] if poller is not None else [])]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def _poll(self, interval: float) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=interval)
            self._wake.clear()
            if not self._sets:
                continue
            try:
                await self.refresh()
            except (CoreUnavailable, CoreError) as exc:
                logger.info("ban list versions not polled", extra={"error": str(exc)})
            except Exception:  # the poller outlives any one bad round
                logger.exception("ban list poll failed")


def referenced_by(protection) -> Callable[[], set[str]]:
    """The lists the groups in the bot's protection cache follow (BotData.protection)."""

    def lists() -> set[str]:
        found: set[str] = set()
        for chat_id in protection.chat_ids():
            settings = protection.get(chat_id)
            if settings is not None:
                found.update(settings.ban_lists)
        return found

    return lists
