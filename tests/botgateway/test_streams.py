"""The shared update log and partition leases of the bot's replicas (apps/botgateway/replicas/), against a real
redis-server: an update is added once by its id to its chat's partition; replicas share the partitions evenly, and
a replica that dies without giving its partitions back loses them to the others when its leases run out."""

import asyncio
import itertools
import json

import pytest
import redis.asyncio as aioredis

from apps.botgateway.replicas.leases import PartitionLeases, replica_id
from apps.botgateway.replicas.log import UpdateLog, chat_of, partition_of, update_id_and_payload

_prefixes = itertools.count(1)


def _prefix() -> str:
    return f"test-streams-{next(_prefixes)}"


def message(update_id: int, chat_id: int) -> bytes:
    return json.dumps({"update_id": update_id, "message": {"message_id": update_id, "date": 0, "text": "hi",
                                                           "chat": {"id": chat_id, "type": "supergroup"}}}).encode()


def test_an_update_goes_to_its_chats_partition_once_by_update_id(redis_url):
    async def scenario():
        client = aioredis.Redis.from_url(redis_url)
        log = UpdateLog(client, prefix=_prefix(), partitions=16, dedupe_seconds=60)
        try:
            body = message(7, -1001)
            first = await log.append(7, body, json.loads(body))
            again = await log.append(7, body, json.loads(body))
            other_chat = message(8, -1002)
            await log.append(8, other_chat, json.loads(other_chat))
            entries = await client.xrange(log.stream(partition_of(-1001, 16)))
            return first, again, entries, await client.xlen(log.stream(partition_of(-1002, 16)))
        finally:
            await client.aclose()

    first, again, entries, other_partition_length = asyncio.run(scenario())
    assert (first, again) == (True, False)
    assert [fields[b"u"] for _, fields in entries] == [message(7, -1001)]
    assert partition_of(-1001, 16) != partition_of(-1002, 16) and other_partition_length == 1


def test_the_chat_of_an_update_is_found_where_python_telegram_bot_finds_it():
    assert chat_of({"update_id": 1, "callback_query": {"id": "q", "message": {"chat": {"id": -5}}}}) == -5
    assert chat_of({"update_id": 1, "chat_member": {"chat": {"id": -6}}}) == -6
    assert chat_of({"update_id": 1, "inline_query": {"id": "q"}}) is None
    assert partition_of(None, 16) == 0 and partition_of(-6, 16) == 10
    for bad in (b"[]", b'{"update_id": -1}', b'{"update_id": "1"}', b"not json"):
        with pytest.raises(ValueError):
            update_id_and_payload(bad)


async def _until(condition, what: str, timeout: float = 10.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


def test_replicas_share_the_partitions_and_take_over_those_of_a_replica_that_died(redis_url):
    running: dict[str, set[int]] = {}

    def runner(name):
        async def run_partition(partition, stop):
            running.setdefault(name, set()).add(partition)
            try:
                await stop.wait()
            finally:
                running[name].discard(partition)
        return run_partition

    async def scenario():
        prefix = _prefix()
        clients = [aioredis.Redis.from_url(redis_url) for _ in range(3)]
        replicas = [PartitionLeases(client, prefix=prefix, partitions=16, replica=replica_id(f"r{number}"),
                                    run_partition=runner(f"r{number}"), lease_seconds=1, tick=0.1)
                    for number, client in enumerate(clients)]
        try:
            for replica in replicas:
                replica.start()
            await _until(lambda: sum(len(r.owned) for r in replicas) == 16
                         and all(len(r.owned) <= 6 for r in replicas), "a share of at most ceil(16 / 3) each")
            owned = [set(r.owned) for r in replicas]
            assert set().union(*owned) == set(range(16)) and sum(map(len, owned)) == 16  # each held once
            assert {name: len(parts) for name, parts in running.items()} == {"r0": len(owned[0]),
                                                                           "r1": len(owned[1]),
                                                                           "r2": len(owned[2])}
            # r0 dies: its loop stops, nothing is given back, its keys expire on their own.
            replicas[0]._task.cancel()
            for task, _ in replicas[0].owned.values():
                task.cancel()
            await _until(lambda: sorted(len(r.owned) for r in replicas[1:]) == [8, 8], "the takeover")
            assert set(replicas[1].owned) | set(replicas[2].owned) == set(range(16))
            assert not set(replicas[1].owned) & set(replicas[2].owned)
            # A replica stopping gives its partitions back at once: the last one takes them all.
            await replicas[1].stop()
            await _until(lambda: len(replicas[2].owned) == 16, "the last replica to hold every partition")
            assert running["r1"] == set()
        finally:
            for replica in replicas[1:]:
                await replica.stop()
            for client in clients:
                await client.aclose()

    asyncio.run(scenario())


def test_the_webhook_answers_200_once_redis_has_the_update_and_503_when_redis_did_not_take_it(redis_url):
    from apps.botgateway.webhook import _append_to_log

    async def post(update_log, body: bytes) -> tuple[int, dict]:
        sent = []

        async def send(message):
            sent.append(message)
        await _append_to_log(update_log, body, send)
        return sent[0]["status"], json.loads(sent[1]["body"])

    async def scenario():
        client = aioredis.Redis.from_url(redis_url)
        unreachable = aioredis.Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=1)
        log = UpdateLog(client, prefix=_prefix(), partitions=16, dedupe_seconds=60)
        try:
            answers = [await post(log, message(21, -1001)), await post(log, message(21, -1001)),
                       await post(log, b'{"update_id": "x"}'),
                       await post(UpdateLog(unreachable, prefix=log.prefix, partitions=16, dedupe_seconds=60),
                                  message(22, -1001))]
            return answers, await client.xlen(log.stream(partition_of(-1001, 16)))
        finally:
            await client.aclose()
            await unreachable.aclose()

    (first, redelivered, malformed, redis_down), length = asyncio.run(scenario())
    assert first == (200, {"ok": True}) and redelivered == (200, {"ok": True})
    assert length == 1  # the redelivery was not added again
    assert malformed == (200, {"ok": True, "dropped": True})  # never redelivered, as without Redis
    assert redis_down[0] == 503  # not acknowledged: Telegram retries
