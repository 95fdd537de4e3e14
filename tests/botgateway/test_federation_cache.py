"""The bot's cache of ban lists (federations/cache.py): one list's set of ids through bans, unbans and merges answers
exactly as a Python set would; against the real core (a live server, the bot's key and scope) a list is loaded on its
first need in the background, followed by its changes only (ids since the version held), dropped when deleted or
no longer followed, and a core that does not answer leaves the check answering from what it holds."""

import asyncio
import random

import pytest

from apps.banlists.bans import ban_list_ban, ban_list_unban
from apps.banlists.models import BanList
from apps.banlists.services import ban_list_create, ban_list_delete
from apps.botgateway.federations.cache import BanListCache, BanSet, referenced_by
from apps.botgateway.protection.settings_cache import ProtectionCache
from apps.coreclient import AsyncCoreClient
from tests.factories import make_user

from .content_harness import Counting

LOW, HIGH = 10**8, 8 * 10**9


def test_a_ban_set_answers_as_a_set_through_bans_unbans_and_merges():
    rng = random.Random(7)
    loaded = rng.sample(range(LOW, HIGH), 5_000)
    reference = set(loaded)
    bans = BanSet(loaded, version=1)
    merged = 0
    for version in range(2, 40):
        banned = rng.sample(range(LOW, HIGH), 40) + rng.sample(sorted(reference), 5)  # some banned again
        unbanned = rng.sample(sorted(reference), 30) + rng.sample(range(LOW, HIGH), 5)  # some never banned
        bans.apply(banned, unbanned, version)
        reference.difference_update(unbanned)
        reference.update(banned)
        merged += not bans.added and not bans.removed
        assert len(bans) == len(reference)
        assert all(uid in bans for uid in rng.sample(sorted(reference), 200))
        strangers = [uid for uid in rng.sample(range(LOW, HIGH), 500) if uid not in reference]
        assert not any(uid in bans for uid in strangers)
        assert all(uid not in bans for uid in unbanned if uid not in reference)
    assert merged >= 2  # the changes were merged into new arrays along the way
    assert bans.version == 39
    assert sorted(bans.base) == list(bans.base)


def test_ids_out_of_order_or_repeated_are_sorted_and_counted_once():
    bans = BanSet([30, 10, 20, 10, 30], version=4, name="x")
    assert list(bans.base) == [10, 20, 30] and len(bans) == 3
    assert 20 in bans and 15 not in bans and 40 not in bans


def test_the_bitmap_sends_few_misses_on_to_the_binary_search():
    rng = random.Random(3)
    bans = BanSet(rng.sample(range(LOW, HIGH), 100_000), version=1)
    held = set(bans.base)
    probes = [uid for uid in (rng.randrange(LOW, HIGH) for _ in range(20_000)) if uid not in held]
    maybe = sum(bool(bans.bits[(uid & bans.mask) >> 3] >> (uid & 7) & 1) for uid in probes)
    assert maybe / len(probes) < 0.1  # 16 bits an id: about 6% of misses get past the bitmap
    assert bans.nbytes() < 1_100_000  # 0.8 MB of ids and 0.25 MB of bitmap for 100,000


def test_the_check_names_the_first_list_that_bans_and_counts_a_list_not_loaded_as_empty():
    cache = BanListCache()
    cache.store("a", [1, 2, 3], version=1)
    cache.store("b", [3, 4], version=1)
    assert cache.banned_in(("a", "b"), 3) == "a"
    assert cache.banned_in(("b", "a"), 3) == "b"
    assert cache.banned_in(("a", "b"), 4) == "b"
    assert cache.banned_in(("a", "b", "c"), 5) is None  # "c" not loaded, and no core to load it from
    assert cache.missing(("a", "c")) == ["c"]
    assert cache.banned_in((), 3) is None
    cache.store("a", [9], version=0)  # older than what is held: kept as it is
    assert cache.banned_in(("a",), 1) == "a"


# -- against the real core


def _owner():
    return make_user(username="fedowner", telegram_user_id=3000001, display_name="Fed Owner")


def _banned(ban_list, *telegram_user_ids):
    for telegram_user_id in telegram_user_ids:
        ban_list_ban(ban_list=ban_list, telegram_user_id=telegram_user_id, reason="spam")


async def _in_thread(function, *args, **kwargs):
    """Core's services (the ORM) from the test's event loop."""
    return await asyncio.to_thread(function, *args, **kwargs)


async def _loaded(cache: BanListCache, list_id: str) -> None:
    async with asyncio.timeout(10):
        while cache.get(list_id) is None:
            await asyncio.sleep(0.01)


@pytest.mark.django_db(transaction=True)
def test_a_list_loads_on_first_need_then_follows_its_changes_by_version(live_server):
    ban_list = ban_list_create(name="Spam Watch", actor=_owner())
    _banned(ban_list, 111, 222, 333)
    list_id = str(ban_list.pk)

    async def scenario():
        core = Counting(AsyncCoreClient(live_server.url, "bot-key", timeout=5))
        cache = BanListCache()
        cache.core = core
        try:
            assert cache.banned_in((list_id,), 111) is None  # not cached yet: asked for in the background
            assert cache.banned_in((list_id,), 222) is None  # ... once
            await _loaded(cache, list_id)
            assert core.calls == ["ban_list_ids"]
            assert [cache.banned_in((list_id,), uid) for uid in (111, 222, 333, 444)] == [list_id] * 3 + [None]
            held = cache.version(list_id)

            assert await cache.refresh() == 0  # nothing changed: one versions call, no ids
            assert core.calls[1:] == ["ban_list_versions"]

            await _in_thread(_banned, ban_list, 444)
            await _in_thread(ban_list_unban, ban_list=ban_list, telegram_user_id=111)
            assert await cache.refresh() == 1
            assert core.calls[2:] == ["ban_list_versions", "ban_list_ids"]
            assert [cache.banned_in((list_id,), uid) for uid in (111, 222, 444)] == [None, list_id, list_id]
            assert cache.version(list_id) == held + 2
            assert cache.name(list_id) == "Spam Watch"
            assert cache.get(list_id).added == {444} and cache.get(list_id).removed == {111}  # a delta, not a load

            await _in_thread(ban_list_delete, ban_list=await _in_thread(BanList.objects.get, pk=ban_list.pk),
                             actor=None)
            await cache.refresh()
            assert cache.get(list_id) is None  # deleted: dropped
        finally:
            await core.core.aclose()

    asyncio.run(scenario())


@pytest.mark.django_db(transaction=True)
def test_the_since_call_is_what_core_answers_for_the_version_held(live_server):
    """The cache asks `since=<its version>`: core's answer holds exactly the ids changed after it."""
    ban_list = ban_list_create(name="Versions", actor=_owner())
    _banned(ban_list, 10, 20)
    list_id = str(ban_list.pk)

    async def scenario():
        core = AsyncCoreClient(live_server.url, "bot-key", timeout=5)
        cache = BanListCache()
        cache.core = core
        try:
            await cache.load(list_id)
            held = cache.version(list_id)
            await _in_thread(_banned, ban_list, 30)
            answer = await core.ban_list_ids(list_id, since=held)
            assert (answer["full"], answer["banned"], answer["unbanned"]) == (False, [30], [])
            await cache.refresh()
            assert cache.banned_in((list_id,), 30) == list_id
        finally:
            await core.aclose()

    asyncio.run(scenario())


@pytest.mark.django_db(transaction=True)
def test_lists_no_cached_group_follows_are_dropped_at_the_next_round(live_server):
    ban_list = ban_list_create(name="Followed", actor=_owner())
    _banned(ban_list, 5)
    list_id = str(ban_list.pk)

    async def scenario():
        core = AsyncCoreClient(live_server.url, "bot-key", timeout=5)
        cache = BanListCache()
        cache.core = core
        cache.referenced = referenced_by(ProtectionCache())  # no group cached: nothing is followed
        try:
            await cache.load(list_id)
            assert cache.banned_in((list_id,), 5) == list_id
            await cache.refresh()
            assert cache.get(list_id) is None
        finally:
            await core.aclose()

    asyncio.run(scenario())


@pytest.mark.django_db(transaction=True)
def test_a_list_core_cannot_give_is_not_asked_for_on_every_message(live_server, caplog):
    async def scenario():
        away = AsyncCoreClient("http://127.0.0.1:9", "bot-key", timeout=1, retries=0)  # nothing listens there
        cache = BanListCache()
        cache.core = away
        try:
            assert cache.banned_in(("abc",), 1) is None
            async with asyncio.timeout(10):
                while cache._tasks:
                    await asyncio.sleep(0.01)
            for _ in range(100):
                assert cache.banned_in(("abc",), 1) is None
            assert not cache._tasks and not cache._loading  # waiting for its retry time, not loading again
        finally:
            await away.aclose()

    with caplog.at_level("INFO", logger="apps.botgateway.federations.cache"):
        asyncio.run(scenario())
    assert [record.getMessage() for record in caplog.records
            if record.name == "apps.botgateway.federations.cache"] == ["ban list not loaded"]


@pytest.mark.django_db(transaction=True)
def test_the_poller_catches_up_when_woken(live_server):
    ban_list = ban_list_create(name="Woken", actor=_owner())
    _banned(ban_list, 7)
    list_id = str(ban_list.pk)

    async def scenario():
        core = AsyncCoreClient(live_server.url, "bot-key", timeout=5)
        cache = BanListCache()
        cache.start(core, interval=3600)  # its own time is far off: only the wake-up brings the change
        try:
            await cache.load(list_id)
            await _in_thread(_banned, ban_list, 8)
            cache.refresh_soon()
            async with asyncio.timeout(10):
                while cache.banned_in((list_id,), 8) is None:
                    await asyncio.sleep(0.02)
        finally:
            await cache.stop()
            await core.aclose()

    asyncio.run(scenario())
