"""The live feed: one poller per web process follows core's audit trail and publishes what happened.

Every ~250 ms the poller asks core for the events after the last sequence it published
(GET /api/audit/events?after=N, oldest first, paged) and sends them to the channel layer's `live` group, where
each process's hub (hub.py) hands them to its open pages. Core's stats are fetched when events arrive (at
most once a second) and every 5 s, and published when they changed.

With several workers or replicas on the Redis channel layer, only one poller may publish, or each browser
would get every event once per worker: the pollers elect a leader with a Redis lock (redis-py's Lock, renewed on
every poll), and the leader keeps two positions in Redis: where new pages start (moved before a publish) and
where a successor resumes (moved after it), so a leader that dies while publishing leaves that page of events to
its successor instead of losing it. Without REDIS_URL the channel layer is in-memory, there is one process, and it
always leads. A handover can republish a few events; consumers drop what a connection already got or what
happened before its page started (by sequence).
"""

import asyncio
import contextlib
import logging
import weakref

from channels.layers import get_channel_layer
from django.conf import settings

from apps.dashboard.core import async_core

from .metrics import EVENTS_PUBLISHED

logger = logging.getLogger(__name__)

GROUP = "live"
POLL_SECONDS = 0.25
PAGE_SIZE = 200  # core's maximum
STATS_EVERY_SECONDS = 5.0
STATS_MIN_GAP_SECONDS = 1.0
MAX_BACKOFF_SECONDS = 5.0
LEADER_TTL_MS = 3000
SEQUENCE_TTL_SECONDS = 120


def is_published(event: dict) -> bool:
    """Allowed permission checks stay off the live feed: core records one for every API call (each dashboard
    page load and this feed's own connections included), so they would bury what people act on. Denied checks
    and every other event are published. The audit pages still list everything."""
    return not (event.get("action") == "permission.check" and event.get("result") == "allowed")


async def core_latest_sequence(client) -> int:
    page = await client.audit_events(limit=1)
    return page["items"][0]["sequence"] if page["items"] else 0


class LocalCoordinator:
    """One process on the in-memory channel layer: always the leader, the positions kept in memory."""

    def __init__(self):
        self._sequence: int | None = None
        self._published: int | None = None

    async def lead(self) -> bool:
        return True

    async def sequence(self) -> int | None:
        return self._sequence

    async def set_sequence(self, value: int) -> None:
        self._sequence = value

    async def published(self) -> int | None:
        return self._published

    async def set_published(self, value: int) -> None:
        self._published = value

    async def close(self) -> None:
        pass


class RedisCoordinator:
    """Leadership and the feed's two positions, shared by every web worker and replica through Redis."""

    def __init__(self, url: str, *, prefix: str = "tgmod"):
        from redis import asyncio as aioredis

        self.redis = aioredis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)
        self.leader_key = f"{prefix}:live:leader"
        self.sequence_key = f"{prefix}:live:sequence"
        self.published_key = f"{prefix}:live:published"
        self.leader_lock = self.redis.lock(self.leader_key, timeout=LEADER_TTL_MS / 1000, blocking=False,
                                           thread_local=False)
        self.leading = False

    async def lead(self) -> bool:
        """Renews the lock if this process holds it, else tries to take it. True while this process leads."""
        from redis.exceptions import LockError

        if self.leading:
            try:
                await self.leader_lock.reacquire()  # back to the full time to live, if still this process's
            except LockError:  # expired (a stall longer than the time to live) and maybe taken by another
                self.leading = False
        if not self.leading:
            self.leading = await self.leader_lock.acquire()
        return self.leading

    async def sequence(self) -> int | None:
        value = await self.redis.get(self.sequence_key)
        return int(value) if value is not None else None

    async def set_sequence(self, value: int) -> None:
        await self.redis.set(self.sequence_key, value, ex=SEQUENCE_TTL_SECONDS)

    async def published(self) -> int | None:
        value = await self.redis.get(self.published_key)
        return int(value) if value is not None else None

    async def set_published(self, value: int) -> None:
        await self.redis.set(self.published_key, value, ex=SEQUENCE_TTL_SECONDS)

    async def close(self) -> None:
        try:
            if self.leading:  # a successor need not wait for the lock to expire
                await self.leader_lock.release()
        except Exception as exc:  # shutting down; the lock expires on its own
            logger.info("live feed: leader lock not released", extra={"error": f"{type(exc).__name__}: {exc}"})
        self.leading = False
        await self.redis.aclose()


class Feed:
    def __init__(self, *, layer, coordinator, poll_seconds: float = POLL_SECONDS):
        self.layer = layer
        self.coordinator = coordinator
        self.poll_seconds = poll_seconds
        self.cursor: int | None = None  # the last sequence this process handled as the leader
        self._stats_key: dict | None = None
        self._stats_at: float | None = None
        self._task: asyncio.Task | None = None
        self._failing = False

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        if not self.running:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="live-feed")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.coordinator.close()

    async def latest_sequence(self, *, wait: float = 2.0) -> int | None:
        """Where a newly connected page starts: the feed's position, shared by all workers. Read after the
        connection has joined the hub, every event above it reaches that connection (the leader moves the
        position before it publishes). Waits up to `wait` seconds for a feed that has just started to take
        its position; None when it cannot be known."""
        try:
            deadline = asyncio.get_running_loop().time() + wait
            while True:
                position = await self.coordinator.sequence()
                if position is not None or asyncio.get_running_loop().time() >= deadline:
                    return position
                await asyncio.sleep(0.05)
        except Exception as exc:  # a hello without a position is still useful
            logger.warning("live feed: position unknown", extra={"error": f"{type(exc).__name__}: {exc}"})
            return None

    async def _run(self) -> None:
        delay = self.poll_seconds
        while True:
            try:
                await self.step()
                if self._failing:
                    logger.info("live feed: polling core again")
                    self._failing = False
                delay = self.poll_seconds
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # core or Redis down: log once, back off, keep going
                if not self._failing:
                    logger.warning("live feed: cannot poll", extra={"error": f"{type(exc).__name__}: {exc}"})
                    self._failing = True
                delay = min(max(delay * 2, 0.5), MAX_BACKOFF_SECONDS)
            await asyncio.sleep(delay)

    async def step(self) -> int:
        """One poll: publishes what is new if this process leads. Returns the number of events published."""
        if not await self.coordinator.lead():
            self.cursor = None  # another process leads; start from the shared position if this one takes over
            return 0
        client = async_core()
        if self.cursor is None:
            await self._take_over(client)
        published = 0
        while True:
            page = await client.audit_feed(after=self.cursor, limit=PAGE_SIZE)
            items = page["items"]
            if not items:
                break
            events = [event for event in items if is_published(event)]
            self.cursor = items[-1]["sequence"]
            # Where new pages start moves before the publish: a page that joined and then read it gets every event
            # above it. Where a successor resumes moves after: if this process dies in between, the successor
            # publishes this page again.
            await self.coordinator.set_sequence(self.cursor)
            if events:
                await self.layer.group_send(GROUP, {"type": "live.audit", "events": events})
                published += len(events)
            await self.coordinator.set_published(self.cursor)
            if len(items) < PAGE_SIZE:
                break
        await self.coordinator.set_sequence(self.cursor)  # keeps the shared positions from expiring
        await self.coordinator.set_published(self.cursor)
        if published:
            EVENTS_PUBLISHED.inc(published)
        await self._maybe_stats(client, changed=published > 0)
        return published

    async def _take_over(self, client) -> None:
        """Where this leader starts: after what the previous one finished publishing (or core's latest event)."""
        latest = await core_latest_sequence(client)
        start = await self.coordinator.sequence()
        resume = await self.coordinator.published()
        if resume is None:
            resume = start
        # Positions ahead of core belong to another core (a reset database): start afresh.
        self.cursor = resume if resume is not None and resume <= latest else latest
        if start is None or not self.cursor <= start <= latest:
            start = self.cursor
        await self.coordinator.set_sequence(start)
        await self.coordinator.set_published(self.cursor)
        logger.info("live feed: leading", extra={"sequence": self.cursor, "resumed": resume is not None})

    async def _maybe_stats(self, client, *, changed: bool) -> None:
        now = asyncio.get_running_loop().time()
        since = None if self._stats_at is None else now - self._stats_at
        if not (since is None or since >= STATS_EVERY_SECONDS or (changed and since >= STATS_MIN_GAP_SECONDS)):
            return
        self._stats_at = now
        stats = await client.system_stats()
        key = {name: value for name, value in stats.items() if name != "generated_at"}
        if key != self._stats_key:
            self._stats_key = key
            await self.layer.group_send(GROUP, {"type": "live.stats", "stats": stats})


_feeds: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Feed]" = weakref.WeakKeyDictionary()


def live_feed() -> Feed:
    """This process's feed (one per event loop), built on first use; consumers start it."""
    loop = asyncio.get_running_loop()
    feed = _feeds.get(loop)
    if feed is None:
        redis_url = settings.REDIS_URL
        coordinator = (RedisCoordinator(redis_url, prefix=settings.LIVE_REDIS_PREFIX) if redis_url
                       else LocalCoordinator())
        feed = _feeds[loop] = Feed(layer=get_channel_layer(), coordinator=coordinator)
    return feed


async def stop_live_feed() -> None:
    feed = _feeds.pop(asyncio.get_running_loop(), None)
    if feed is not None:
        await feed.stop()
