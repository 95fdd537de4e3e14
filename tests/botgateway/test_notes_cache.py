"""Notes kept in the bot (note_cache.py): a flood of #name costs core one call and posts one reply, the note is read
again only after the group's settings version changed, an unknown name costs nothing, concurrent asks share one call,
and memory stays bounded per chat and overall. The bot's real application (in process) against the Telegram sandbox
and core (a live server) where a core call is counted."""

import asyncio
from types import SimpleNamespace

import pytest
from asgiref.sync import sync_to_async

from apps.botgateway.protection import notes
from apps.botgateway.protection.note_cache import NoteCache
from apps.contentrules.services import note_save

from .content_harness import Bot, bot_texts, core_group, sandbox_fixtures, update_of

sandbox, world = sandbox_fixtures()


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def run(scenario):
    return asyncio.run(scenario())


@pytest.mark.django_db(transaction=True)
def test_a_flood_of_hashtags_is_one_core_call_and_one_reply_until_the_note_changes(world, sandbox, live_server,
                                                                                    tmp_path):
    chat, group = core_group(world)
    note_save(group=group, name="faq", text="Read the <b>FAQ</b>")
    clock = Clock()
    members = ["dave", "carol", "spammer"]

    async def scenario():
        async with Bot(sandbox, live_server, tmp_path) as bot:
            bot.data.notes = NoteCache(clock=clock)
            await bot.know(chat.id, group.pk)
            update_id = 0

            async def ask(count, text="#faq", via_webhook=True):
                nonlocal update_id
                for number in range(count):
                    update_id += 1
                    message = world.send_message(chat, members[number % len(members)], text)
                    update = update_of(world, message, update_id=update_id)
                    await (bot.webhook(update) if via_webhook else bot.handle(update))
                await bot.settle()

            await ask(20)
            flood = (bot.core_calls.count("note_get"), len(bot_texts(world, chat)))
            clock.now += 5  # past the repeat window: answered again, from memory
            await ask(3, via_webhook=False)
            later = (bot.core_calls.count("note_get"), len(bot_texts(world, chat)))
            await ask(5, "#nothing")  # no such note: no core call, no reply
            await ask(1, "/get nothing", via_webhook=False)
            unknown = bot.core_calls.count("note_get")
            await sync_to_async(note_save)(group=group, name="faq", text="The FAQ moved")  # the version moves on
            await bot.data.protection.load(bot.data.core, chat.id)
            clock.now += 5
            await ask(4)
            changed = bot.core_calls.count("note_get")
            return flood, later, unknown, changed

    flood, later, unknown, changed = run(scenario)
    assert flood == (1, 1)
    assert later == (1, 2)
    assert unknown == 1
    assert changed == 2
    texts = bot_texts(world, chat)
    assert texts.count("Read the FAQ") == 2 and texts.count("The FAQ moved") == 1, texts
    assert "There is no note called nothing here. /notes lists them." in texts


@pytest.mark.django_db(transaction=True)
def test_concurrent_asks_for_one_note_share_one_core_call(world, sandbox, live_server, tmp_path):
    chat, group = core_group(world)
    note_save(group=group, name="faq", text="Read the FAQ")

    async def scenario():
        async with Bot(sandbox, live_server, tmp_path) as bot:
            settings = await bot.data.protection.load(bot.data.core, chat.id)
            got = await asyncio.gather(*(notes._note(bot.data, settings, "faq") for _ in range(10)))
            again = await notes._note(bot.data, settings, "faq")
            return got, again, bot.core_calls.count("note_get")

    got, again, calls = run(scenario)
    assert calls == 1
    assert {note["text"] for note in got} == {"Read the FAQ"} and again == got[0]


def settings_of(chat_id, version, names):
    return SimpleNamespace(telegram_chat_id=chat_id, version=version, notes=tuple(names))


def test_memory_is_bounded_per_chat_and_overall_least_recently_used_first():
    cache = NoteCache(per_chat=3, at_most=5)
    fetched = []

    async def get(chat_id, name, version=1):
        async def fetch():
            fetched.append((chat_id, name, version))
            return {"name": name}
        return await cache.get(settings_of(chat_id, version, ["a", "b", "c", "d"]), name, fetch)

    async def scenario():
        for name in "abc":
            await get(1, name)
        await get(1, "a")  # a used again: b is now the chat's oldest
        await get(1, "d")  # the chat's fourth: b goes
        assert (cache.kept(1), len(cache)) == (3, 3)
        fetched.clear()
        await get(1, "a")
        await get(1, "b")
        assert fetched == [(1, "b", 1)]
        for chat_id in (2, 3, 4):  # over all chats at most 5: the least recently used go first
            await get(chat_id, "a")
        assert len(cache) == 5 and cache.kept(1) == 2
        assert await get(1, "a", version=2) == {"name": "a"}  # a new version is read again
        assert fetched[-1] == (1, "a", 2) and len(cache) == 5
        assert await cache.get(settings_of(1, 2, ["a"]), "zzz", None) is None  # not listed: nothing asked

    asyncio.run(scenario())


def test_the_same_note_is_answered_once_per_window_per_chat_and_form():
    clock = Clock()
    cache = NoteCache(repeat_seconds=3, clock=clock)
    assert cache.first_answer(1, "faq", "note")
    assert not cache.first_answer(1, "faq", "note")
    assert cache.first_answer(1, "faq", "raw") and cache.first_answer(2, "faq", "note")
    assert cache.first_answer(1, "rules", "note")
    clock.now += 3.1
    assert cache.first_answer(1, "faq", "note")
