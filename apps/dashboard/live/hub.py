"""One subscription to the channel layer's `live` group per web process, fanned out to the process's sockets.

The feed's leader publishes each batch once with group_send("live", ...). Rather than one channel per browser
in that group (Channels' in-memory layer walks every channel and group membership on each receive, so a burst
to a thousand sockets costs a million steps, and it silently drops memberships older than a day), each process
holds one channel in the group and hands every message to its own connections' outboxes. A connection whose
outbox overflows (a client that stopped reading) is dropped; its page reconnects and resumes.
"""

import asyncio
import contextlib
import logging
import weakref

from channels.layers import get_channel_layer

from .feed import GROUP

logger = logging.getLogger(__name__)

REJOIN_SECONDS = 600.0  # refreshes the group membership well within any layer's group expiry
MAX_BACKOFF_SECONDS = 5.0


class Hub:
    def __init__(self, layer):
        self.layer = layer
        self.subscribers: set = set()
        self._tasks: list[asyncio.Task] = []
        self._channel: str | None = None
        self.subscribed = asyncio.Event()  # set while the process's channel is in the group

    @property
    def running(self) -> bool:
        return any(not task.done() for task in self._tasks)

    def start(self) -> None:
        if not self.running:
            loop = asyncio.get_running_loop()
            self._tasks = [loop.create_task(self._relay(), name="live-hub")]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    async def subscribe(self, subscriber, *, wait: float = 2.0) -> None:
        """Adds a connection; returns once the process receives the group (or after `wait` seconds)."""
        self.subscribers.add(subscriber)
        try:
            await asyncio.wait_for(self.subscribed.wait(), wait)
        except TimeoutError:
            logger.warning("live hub: not subscribed yet; the connection may miss events until it resumes")

    def unsubscribe(self, subscriber) -> None:
        self.subscribers.discard(subscriber)

    def broadcast(self, message: dict) -> None:
        for subscriber in list(self.subscribers):
            subscriber.offer(message)

    async def _relay(self) -> None:
        delay, failing = 0.25, False
        while True:
            rejoin = None
            try:
                self._channel = await self.layer.new_channel()
                await self.layer.group_add(GROUP, self._channel)
                self.subscribed.set()
                rejoin = asyncio.get_running_loop().create_task(self._rejoin(self._channel))
                if failing:
                    logger.info("live hub: subscribed again")
                    failing, delay = False, 0.25
                while True:
                    self.broadcast(await self.layer.receive(self._channel))
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # Redis away: log once, back off, subscribe again
                self.subscribed.clear()
                if not failing:
                    logger.warning("live hub: lost the channel layer", extra={"error": f"{type(exc).__name__}: {exc}"})
                    failing = True
                await asyncio.sleep(delay)
                delay = min(delay * 2, MAX_BACKOFF_SECONDS)
            finally:
                if rejoin is not None:
                    rejoin.cancel()

    async def _rejoin(self, channel: str) -> None:
        while True:
            await asyncio.sleep(REJOIN_SECONDS)
            try:
                await self.layer.group_add(GROUP, channel)
            except Exception as exc:
                logger.warning("live hub: could not renew the subscription", extra={"error": str(exc)})


_hubs: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Hub]" = weakref.WeakKeyDictionary()


def live_hub() -> Hub:
    """This process's hub (one per event loop), started on first use."""
    loop = asyncio.get_running_loop()
    hub = _hubs.get(loop)
    if hub is None:
        hub = _hubs[loop] = Hub(get_channel_layer())
    hub.start()
    return hub


async def stop_live_hub() -> None:
    hub = _hubs.pop(asyncio.get_running_loop(), None)
    if hub is not None:
        await hub.stop()
