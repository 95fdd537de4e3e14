"""Starts and stops the replica's share of the work: the update log the webhook appends to, and the partitions
it holds."""

import logging

import redis.asyncio as aioredis
from django.conf import settings

from .consumer import PartitionConsumer, close_quietly
from .leases import PartitionLeases, replica_id
from .log import UpdateLog

logger = logging.getLogger(__name__)


class Replica:
    def __init__(self, application):
        self.client = aioredis.Redis.from_url(settings.BOT_REDIS_URL, health_check_interval=30)
        prefix, partitions = settings.BOT_STREAM_PREFIX, settings.BOT_STREAM_PARTITIONS
        self.log = UpdateLog(self.client, prefix=prefix, partitions=partitions,
                             dedupe_seconds=settings.BOT_STREAM_DEDUPE_SECONDS)
        self.id = replica_id(settings.BOT_REPLICA_NAME)
        self.consumer = PartitionConsumer(self.client, self.log, application, self.id)
        self.leases = PartitionLeases(self.client, prefix=prefix, partitions=partitions, replica=self.id,
                                      run_partition=self.consumer.run,
                                      lease_seconds=settings.BOT_STREAM_LEASE_SECONDS)

    async def start(self) -> None:
        await self.client.ping()  # a wrong URL fails the start, not each update
        self.leases.start()
        logger.info("bot replica started", extra={"replica": self.id})

    async def stop(self) -> None:
        await self.leases.stop()
        await close_quietly(self.client)
