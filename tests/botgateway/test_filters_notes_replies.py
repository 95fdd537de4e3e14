"""Filter and note replies against the Telegram sandbox and the real core (a live server, the bot's key): the reply
to the triggering message with placeholders filled in, media by file id with a caption and buttons, a note read
from core by #name (as is, raw with noformat, or as a private note's deep-link button), and core's answer to a
change kept in the bot's settings cache."""

import asyncio
from types import SimpleNamespace

import pytest
import telegram
from asgiref.sync import sync_to_async

from apps.botgateway.context import BotData
from apps.botgateway.protection.filters import reply_filter
from apps.botgateway.protection.notes import reply_hashtag
from apps.botgateway.protection.saved_replies import remember
from apps.contentrules.services import note_save
from apps.coreclient import AsyncCoreClient
from apps.protection.services import protection_update
from tests.factories import make_group
from tgsandbox.seed import DEFAULT_BOT_TOKEN, seed_demo
from tgsandbox.server import SandboxServer


@pytest.fixture(scope="module")
def sandbox():
    server = SandboxServer().start()
    yield server
    server.stop()


@pytest.fixture
def world(sandbox):
    sandbox.world.reset()
    seed_demo(sandbox.world, history=False)
    yield sandbox.world
    sandbox.world.reset()


def run(sandbox, live_server, work):
    """`work(application)` with a real bot (on the sandbox) and core client, as the bot's tasks get them."""
    async def go():
        bot = telegram.Bot(DEFAULT_BOT_TOKEN, base_url=f"{sandbox.url}/bot")
        data = BotData()
        data.core = AsyncCoreClient(live_server.url, "bot-key", timeout=5)
        try:
            async with bot:
                return await work(SimpleNamespace(bot=bot, bot_data=data))
        finally:
            await data.core.aclose()
    return asyncio.run(go())


def said(world, chat, message_id) -> dict:
    """The bot's messages in the chat after `message_id`, as the Bot API shows them."""
    bot = world.bot("sandbox_mod_bot")
    with world.lock:
        return [world.message_dict(m) for m in world.messages(chat) if m.message_id > message_id
                and m.from_id == bot.id]


def posted(world, chat, user, text=None, **content) -> dict:
    message = world.send_message(chat, user, text, content=content or None)
    with world.lock:
        return world.message_dict(message)


@pytest.mark.django_db(transaction=True)
def test_a_filter_answers_the_message_with_placeholders_and_buttons(world, sandbox, live_server):
    chat = world.chat("Sandbox Group")
    trigger = posted(world, chat, "carol", "I love puppies")
    wire = {"trigger": "puppies", "match": "word", "text": "Hi <b>{first}</b> of {chatname} ({count})\n{rules}",
            "media_type": None, "media_file_id": "", "buttons": [[{"text": "Site", "url": "https://example.com"}]]}

    async def work(app):
        await reply_filter(app, chat.id, trigger, wire)
    run(sandbox, live_server, work)
    [answer] = said(world, chat, trigger["message_id"])
    with world.lock:
        count = sum(1 for user_id in chat.members if world.member(chat, user_id).present)
    assert answer["text"] == f"Hi Carol of Sandbox Group ({count})"
    assert {"type": "bold", "offset": 3, "length": 5} in answer["entities"]
    assert answer["reply_to_message"]["message_id"] == trigger["message_id"]
    rows = [[(b["text"], b["url"]) for b in row] for row in answer["reply_markup"]["inline_keyboard"]]
    assert rows == [[("Site", "https://example.com")], [("Rules", f"https://t.me/sandbox_mod_bot?start=rules_"
                                                                  f"{chat.id}")]]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("kind", ["photo", "sticker", "document", "animation", "video", "audio", "voice"])
def test_a_filter_sends_its_media_by_file_id_with_caption_and_buttons(world, sandbox, live_server, kind):
    chat = world.chat("Sandbox Group")
    media = posted(world, chat, "alice", **{kind: True})
    file_id = media["photo"][-1]["file_id"] if kind == "photo" else media[kind]["file_id"]
    trigger = posted(world, chat, "carol", "cats please")
    wire = {"trigger": "cats", "match": "word", "text": "A <i>cat</i> for {first}", "media_type": kind,
            "media_file_id": file_id, "buttons": [[{"text": "More", "url": "https://cats.example"}]]}
    run(sandbox, live_server, lambda app: reply_filter(app, chat.id, trigger, wire))
    answers = said(world, chat, trigger["message_id"])
    sent = answers[0]
    sent_id = sent["photo"][-1]["file_id"] if kind == "photo" else sent[kind]["file_id"]
    assert sent_id == file_id and sent["reply_to_message"]["message_id"] == trigger["message_id"]
    if kind == "sticker":  # no caption on a sticker: the text follows it, with the buttons
        assert [a.get("text") for a in answers[1:]] == ["A cat for Carol"]
        assert answers[1]["reply_markup"]["inline_keyboard"][0][0]["url"] == "https://cats.example"
    else:
        assert len(answers) == 1
        assert sent["caption"] == "A cat for Carol"
        assert {"type": "italic", "offset": 2, "length": 3} in sent["caption_entities"]
        assert sent["reply_markup"]["inline_keyboard"][0][0]["url"] == "https://cats.example"


@pytest.mark.django_db(transaction=True)
def test_a_filter_whose_html_telegram_refuses_goes_as_plain_text(world, sandbox, live_server):
    chat = world.chat("Sandbox Group")
    trigger = posted(world, chat, "carol", "hi")
    wire = {"trigger": "hi", "match": "word", "text": "1 < 2 <b>", "media_type": None, "media_file_id": "",
            "buttons": []}
    run(sandbox, live_server, lambda app: reply_filter(app, chat.id, trigger, wire))
    assert [a["text"] for a in said(world, chat, trigger["message_id"])] == ["1 < 2 <b>"]


def core_group_with_note(chat, **settings):
    group = make_group(telegram_chat_id=chat.id, title=chat.title)
    note_save(group=group, name="faq", text="Hello <b>{first}</b>, read [this](buttonurl://x)",
              buttons=[[{"text": "Docs", "url": "https://docs.example"}]])
    if settings:
        protection_update(group=group, changes=settings)
    return group


async def load_then(app, chat_id, coroutine_factory):
    await app.bot_data.protection.load(app.bot_data.core, chat_id)
    await coroutine_factory()


@pytest.mark.django_db(transaction=True)
def test_hashtag_sends_the_note_from_core_as_a_reply_and_noformat_shows_it_raw(world, sandbox, live_server):
    chat = world.chat("Sandbox Group")
    core_group_with_note(chat)
    asked = posted(world, chat, "dave", "#faq")
    raw = posted(world, chat, "dave", "#faq noformat")

    async def work(app):
        await app.bot_data.protection.load(app.bot_data.core, chat.id)
        await reply_hashtag(app, chat.id, asked, "faq")
        await reply_hashtag(app, chat.id, raw, "faq")
    run(sandbox, live_server, work)
    first, second = said(world, chat, asked["message_id"])[:2]
    assert first["text"] == "Hello Dave, read [this](buttonurl://x)"
    assert first["reply_to_message"]["message_id"] == asked["message_id"]
    assert first["reply_markup"]["inline_keyboard"] == [[{"text": "Docs", "url": "https://docs.example"}]]
    assert second["text"] == ("Hello <b>{first}</b>, read [this](buttonurl://x)\n"
                              "[Docs](buttonurl://https://docs.example)")
    assert "bold" not in {e["type"] for e in second.get("entities", [])}  # the HTML shown as typed
    assert "reply_markup" not in second


@pytest.mark.django_db(transaction=True)
def test_a_private_note_is_a_button_deep_linking_to_the_bots_private_chat(world, sandbox, live_server):
    chat = world.chat("Sandbox Group")
    core_group_with_note(chat, private_notes=True)
    asked = posted(world, chat, "dave", "#faq")
    unknown = posted(world, chat, "dave", "#nothing")

    async def work(app):
        await app.bot_data.protection.load(app.bot_data.core, chat.id)
        await reply_hashtag(app, chat.id, asked, "faq")
        await reply_hashtag(app, chat.id, unknown, "nothing")
    run(sandbox, live_server, work)
    [answer] = said(world, chat, asked["message_id"])
    assert answer["text"] == "Tap here to view faq in your private chat."
    [[button]] = answer["reply_markup"]["inline_keyboard"]
    assert button == {"text": "Click me!", "url": f"https://t.me/sandbox_mod_bot?start=note_{chat.id}_faq"}


@pytest.mark.django_db(transaction=True)
def test_a_change_core_answers_out_of_turn_reloads_the_settings_from_core(world, sandbox, live_server):
    chat = world.chat("Sandbox Group")
    group = core_group_with_note(chat)

    async def work(app):
        cache = app.bot_data.protection
        before = await cache.load(app.bot_data.core, chat.id)
        save = sync_to_async(note_save)
        await save(group=group, name="one", text="1")  # two changes the bot did not make
        version, _ = await save(group=group, name="two", text="2")
        await remember(app.bot_data, chat.id, version, lambda wire: {**wire, "notes": ["wrong"]})
        return before, cache.get(chat.id)
    before, after = run(sandbox, live_server, work)
    assert before.notes == ("faq",)
    assert after.notes == ("faq", "one", "two") and after.version == before.version + 2
