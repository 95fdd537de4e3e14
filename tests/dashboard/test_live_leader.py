"""The live feed's leader lock (redis-py's Lock on a real redis-server): one holder at a time, renewed by its
holder, lost when it expired under a stalled holder and someone else took it, handed over at once on release."""

import asyncio
import uuid

import pytest

from apps.dashboard.live.feed import LEADER_TTL_MS, RedisCoordinator

pytestmark = pytest.mark.redis


def test_one_holder_renews_a_stalled_one_loses_the_lead_and_a_release_hands_it_over(redis_url):
    prefix = f"test{uuid.uuid4().hex[:8]}"

    async def scenario():
        first, second = RedisCoordinator(redis_url, prefix=prefix), RedisCoordinator(redis_url, prefix=prefix)
        try:
            assert await first.lead() and not await second.lead()
            await first.redis.pexpire(first.leader_key, 200)
            assert await first.lead()  # renewed: the full time to live again
            assert await first.redis.pttl(first.leader_key) > LEADER_TTL_MS - 500
            await first.redis.delete(first.leader_key)  # as if it expired while its holder stalled
            assert await second.lead()
            assert not await first.lead() and not first.leading  # the stalled holder sees it lost the lead
            await second.close()  # releases: the next one takes over without waiting for the expiry
            assert await first.lead()
        finally:
            await first.close()
            await second.close()
        check = RedisCoordinator(redis_url, prefix=prefix)
        try:
            assert not await check.redis.exists(check.leader_key)  # the last holder released it on close
        finally:
            await check.redis.aclose()

    asyncio.run(scenario())
