"""The bot's cache of protection settings against a live core: one load per chat however many ask, refreshed by
version, stale answers never replacing newer ones, core away or a chat unknown read as None."""

import asyncio
import tracemalloc
from types import SimpleNamespace

import pytest

from apps.botgateway.protection.settings_cache import ProtectionCache, protection_settings
from apps.coreclient import AsyncCoreClient
from apps.groups.services import group_migrate
from apps.protection.services import protection_update
from tests.factories import make_group

API_KEY = "bot-key"


class Counting:
    """The real async client, counting the calls made through it."""

    def __init__(self, core):
        self.core = core
        self.calls: list[str] = []

    def __getattr__(self, name):
        method = getattr(self.core, name)

        async def counted(*args, **kwargs):
            self.calls.append(name)
            return await method(*args, **kwargs)

        return counted


def run(live_server, scenario):
    async def main():
        core = AsyncCoreClient(live_server.url, API_KEY)
        try:
            return await scenario(Counting(core))
        finally:
            await core.aclose()

    return asyncio.run(main())


@pytest.mark.django_db(transaction=True)
def test_concurrent_loads_share_one_core_call_and_get_is_the_cached_object(live_server):
    group = make_group()
    cache = ProtectionCache()

    async def scenario(core):
        assert cache.get(group.telegram_chat_id) is None
        loaded = await asyncio.gather(*(cache.load(core, group.telegram_chat_id) for _ in range(20)))
        return core.calls, loaded

    calls, loaded = run(live_server, scenario)
    assert calls == ["protection_settings"]
    assert all(settings is loaded[0] for settings in loaded)
    assert cache.get(group.telegram_chat_id) is loaded[0]
    for _ in range(1000):  # warmed up: the interpreter's one-time specialisation is not the hot path's cost
        cache.get(group.telegram_chat_id)
    tracemalloc.start()
    try:
        before = tracemalloc.take_snapshot()
        for _ in range(10_000):
            cache.get(group.telegram_chat_id)
        after = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    grown = sum(stat.size_diff for stat in after.compare_to(before, "filename")
                if stat.traceback[0].filename.endswith("settings_cache.py"))
    assert grown < 10_000  # 10,000 gets: one allocation per get would be at least 10,000 times its size


@pytest.mark.django_db(transaction=True)
def test_a_change_in_core_is_picked_up_by_version_and_only_changed_chats_reload(live_server):
    changed_group, quiet_group = make_group(), make_group()
    cache = ProtectionCache()

    async def scenario(core):
        await cache.load(core, changed_group.telegram_chat_id)
        await cache.load(core, quiet_group.telegram_chat_id)
        await asyncio.to_thread(protection_update, group=changed_group, changes={"flood_limit": 5})
        core.calls.clear()
        reloaded = await cache.refresh(core)
        return reloaded, list(core.calls)

    reloaded, calls = run(live_server, scenario)
    assert (reloaded, calls) == (1, ["protection_versions", "protection_settings"])
    fresh = cache.get(changed_group.telegram_chat_id)
    assert (fresh.flood_limit, fresh.version) == (5, 2)
    assert cache.get(quiet_group.telegram_chat_id).version == 1


@pytest.mark.django_db(transaction=True)
def test_the_poller_reloads_on_its_own_and_stops(live_server):
    group = make_group()
    cache = ProtectionCache()

    async def scenario(core):
        await cache.load(core, group.telegram_chat_id)
        cache.start(core, 0.05)
        try:
            await asyncio.to_thread(protection_update, group=group, changes={"captcha_enabled": True})
            for _ in range(100):
                if cache.get(group.telegram_chat_id).captcha_enabled:
                    break
                await asyncio.sleep(0.05)
        finally:
            await cache.stop()
        return cache.get(group.telegram_chat_id)

    assert run(live_server, scenario).captcha_enabled is True
    assert cache._poller is None


@pytest.mark.django_db(transaction=True)
def test_a_chat_asked_for_by_its_pre_migration_id_is_kept_under_its_current_one(live_server):
    group = make_group()
    old_chat_id = group.telegram_chat_id
    group_migrate(group=group, new_telegram_chat_id=old_chat_id - 7)
    cache = ProtectionCache()

    async def scenario(core):
        return await cache.load(core, old_chat_id)

    loaded = run(live_server, scenario)
    assert loaded.telegram_chat_id == old_chat_id - 7 and cache.get(old_chat_id - 7) is loaded


@pytest.mark.django_db(transaction=True)
def test_an_older_version_never_replaces_a_newer_one_and_unknown_chats_read_as_none(live_server):
    group = make_group()
    cache = ProtectionCache()

    async def scenario(core):
        old = await cache.load(core, group.telegram_chat_id)
        newer = await core.protection_update(str(group.pk), welcome_enabled=True)
        cache.store(newer)
        cache.store(old)  # a slow, older answer arriving late
        context = SimpleNamespace(bot_data=SimpleNamespace(protection=cache), core=core)
        unknown = await protection_settings(context, -999)
        again = await protection_settings(context, -999)  # not asked again for a while
        return newer, unknown, again, list(core.calls)

    newer, unknown, again, calls = run(live_server, scenario)
    assert cache.get(group.telegram_chat_id) is newer and newer.welcome_enabled
    assert (unknown, again) == (None, None)
    assert calls.count("protection_settings") == 2  # the group's first load, then -999 once


def test_core_away_reads_as_none():
    cache = ProtectionCache()

    async def scenario():
        core = AsyncCoreClient("http://127.0.0.1:9", API_KEY, retries=0)
        try:
            context = SimpleNamespace(bot_data=SimpleNamespace(protection=cache), core=core)
            return await protection_settings(context, -100)
        finally:
            await core.aclose()

    assert asyncio.run(scenario()) is None
