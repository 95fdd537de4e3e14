"""Which replica handles which partition: a lease per partition in Redis, balanced among the live replicas.

Every `tick` seconds a replica renews its heartbeat key and the leases it holds (a lease it no longer holds, say
after a pause longer than the lease, stops its partition at once), counts the live replicas by their heartbeat
keys, and moves toward ceil(partitions / live) partitions: it gives back the extra ones (after the batch in hand,
acknowledged) or takes free ones. A dead replica's heartbeat and leases expire after `lease_seconds`; the next
tick of the others takes its partitions, whose pending entries they claim (consumer.PartitionConsumer).
"""

import asyncio
import contextlib
import logging
import math
import uuid
from collections.abc import Awaitable, Callable

import redis.asyncio as aioredis
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def replica_id(name: str) -> str:
    """Unique per process: a restarted pod with the same name is a new replica, never the owner its leases name."""
    return f"{name}-{uuid.uuid4().hex[:8]}"


class PartitionLeases:
    """Runs `run_partition(partition, stop)` while this replica holds the partition's lease; `stop` is set when
    the partition is to be given back (the runner finishes its batch and returns). Losing the lease cancels it."""

    def __init__(self, client: aioredis.Redis, *, prefix: str, partitions: int, replica: str,
                 run_partition: Callable[[int, asyncio.Event], Awaitable[None]], lease_seconds: float = 4.0,
                 tick: float = 1.0):
        self.client = client
        self.prefix = prefix
        self.partitions = partitions
        self.replica = replica
        self.run_partition = run_partition
        self.lease_ms = int(lease_seconds * 1000)
        self.tick = tick
        self.owned: dict[int, tuple[asyncio.Task, asyncio.Event]] = {}
        self._renew = client.register_script(_RENEW)
        self._release = client.register_script(_RELEASE)
        self._task: asyncio.Task | None = None

    def lease_key(self, partition: int) -> str:
        return f"{self.prefix}:lease:{partition}"

    def heartbeat_key(self, replica: str) -> str:
        return f"{self.prefix}:replica:{replica}"

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="partition-leases")

    async def stop(self) -> None:
        """Gives back every partition after its batch in hand, then the heartbeat: the others take over at once."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await asyncio.gather(*(self._give_back(partition) for partition in list(self.owned)))
        with contextlib.suppress(RedisError, OSError):
            await self.client.delete(self.heartbeat_key(self.replica))

    async def _run(self) -> None:
        while True:
            try:
                await self.balance()
            except (RedisError, OSError) as exc:
                logger.warning("partition leases: redis unreachable", extra={"error": str(exc)})
            await asyncio.sleep(self.tick)

    async def live_replicas(self) -> int:
        count = 0
        async for _ in self.client.scan_iter(match=self.heartbeat_key("*"), count=100):
            count += 1
        return max(count, 1)

    async def balance(self) -> None:
        await self.client.set(self.heartbeat_key(self.replica), "1", px=self.lease_ms)
        for partition, (task, _) in list(self.owned.items()):
            if task.done():  # its runner failed: given back, taken again below if still ours to take
                await self._give_back(partition)
            elif not await self._renew(keys=[self.lease_key(partition)], args=[self.replica, self.lease_ms]):
                logger.warning("partition lease lost", extra={"partition": partition, "replica": self.replica})
                task.cancel()
                del self.owned[partition]
        share = math.ceil(self.partitions / await self.live_replicas())
        extra = sorted(self.owned, reverse=True)[:max(len(self.owned) - share, 0)]
        await asyncio.gather(*(self._give_back(partition) for partition in extra))  # together: within one tick
        start = int(self.replica.rsplit("-", 1)[-1], 16) % self.partitions  # replicas try different ones first
        for offset in range(self.partitions):
            if len(self.owned) >= share:
                break
            partition = (start + offset) % self.partitions
            if partition in self.owned:
                continue
            if await self.client.set(self.lease_key(partition), self.replica, nx=True, px=self.lease_ms):
                stop = asyncio.Event()
                task = asyncio.create_task(self.run_partition(partition, stop), name=f"partition-{partition}")
                self.owned[partition] = (task, stop)
                logger.info("partition taken", extra={"partition": partition, "replica": self.replica})

    async def _give_back(self, partition: int) -> None:
        task, stop = self.owned.pop(partition)
        stop.set()
        # The batch in hand is finished and acknowledged if it can be within half a lease (core answering); else
        # it is interrupted, left pending for the next owner, which handles it again under the same event ids.
        await asyncio.wait([task], timeout=self.lease_ms / 2000)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            try:
                await task
            except Exception:
                logger.exception("partition runner failed", extra={"partition": partition})
        with contextlib.suppress(RedisError, OSError):
            await self._release(keys=[self.lease_key(partition)], args=[self.replica])
