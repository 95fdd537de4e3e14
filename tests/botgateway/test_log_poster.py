"""The log channel's poster against the real core (a live server, the bot's key and scope) and the Telegram sandbox:
entries core wrote are posted to the log chat and reported sent; a log chat the bot cannot post to fails each post
(recorded with Telegram's error) and is said in the group once."""

import asyncio
from types import SimpleNamespace

import pytest
import telegram

from apps.botgateway.protection.logchannel import TELEGRAM_TEXT_LIMIT, LogPoster, packs
from apps.coreclient import AsyncCoreClient
from apps.groups.models import Group
from apps.logchannel.models import LogEntry
from apps.moderation.services import moderation_action_complete, moderation_action_record
from tests.factories import make_group, make_member, make_user
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


def run_poster(sandbox, live_server, rounds: int = 1) -> None:
    async def go():
        bot = telegram.Bot(DEFAULT_BOT_TOKEN, base_url=f"{sandbox.url}/bot")
        core = AsyncCoreClient(live_server.url, "bot-key", timeout=5)
        poster = LogPoster(SimpleNamespace(bot=bot, bot_data=SimpleNamespace(core=core)))
        try:
            async with bot:
                for _ in range(rounds):
                    await poster.run_once()
        finally:
            await core.aclose()
    asyncio.run(go())


def banned_in(group, count: int = 1) -> None:
    moderator, target = make_user(display_name="Mod"), make_user(display_name="Spammer")
    make_member(moderator, group)
    make_member(target, group)
    for _ in range(count):
        action, _ = moderation_action_record(type="ban", group=group, actor=moderator, target=target, reason="spam")
        moderation_action_complete(action=action, status="executed")


def core_group_of(world, log_chat_id):
    chat = world.chat("Sandbox Group")
    group = make_group(telegram_chat_id=chat.id, title=chat.title)
    Group.objects.filter(pk=group.pk).update(log_chat_id=log_chat_id)
    group.refresh_from_db()
    return chat, group


@pytest.mark.django_db(transaction=True)
def test_entries_are_posted_to_the_log_chat_and_reported_sent(world, sandbox, live_server):
    channel = world.create_chat("Mod Log", "alice", type="channel")
    world.add_member(channel, "sandbox_mod_bot", by="alice", status="administrator", rights={"can_post_messages": True})
    _, group = core_group_of(world, channel.id)
    banned_in(group, 2)
    run_poster(sandbox, live_server)
    posts = [m for m in world.messages(channel) if "#BANNED" in (m.text or "")]
    assert len(posts) == 1 and posts[0].text.count("#BANNED") == 2  # one message for the two
    assert "Reason: spam" in posts[0].text  # the HTML parsed: tags gone, entities kept
    assert list(LogEntry.objects.values_list("status", flat=True)) == ["sent", "sent"]


@pytest.mark.django_db(transaction=True)
def test_a_log_chat_the_bot_cannot_post_to_is_recorded_and_said_once_in_the_group(world, sandbox, live_server):
    channel = world.create_chat("Elsewhere", "alice", type="channel", username="elsewhere")  # the bot is not in it
    chat, group = core_group_of(world, channel.id)
    before = len(world.messages(chat))
    banned_in(group, 2)
    run_poster(sandbox, live_server)
    banned_in(group, 1)
    run_poster(sandbox, live_server)
    entries = list(LogEntry.objects.values_list("status", "error"))
    assert entries == [("failed", "Forbidden: bot is not a member of the channel chat")] * 3
    said = [m.text for m in world.messages(chat)[before:] if m.text and "log channel" in m.text]
    assert said == ["I can't post to this group's log channel (Forbidden: bot is not a member of the channel chat). "
                    "Make me an admin there with the right to post messages, or turn the log channel off with "
                    "/unsetlog."]


def entry(number: int, log_chat_id: int, length: int = 100) -> dict:
    return {"id": str(number), "telegram_chat_id": -100, "log_chat_id": log_chat_id, "text": "x" * length}


def test_entries_share_a_message_per_log_chat_within_telegrams_length():
    items = [entry(1, -1), entry(2, -2), entry(3, -1), entry(4, -2, 4000), entry(5, -1)]
    assert [[item["id"] for item in pack] for pack in packs(items)] == [["1", "3", "5"], ["2"], ["4"]]
    long = [entry(number, -1, 1000) for number in range(9)]
    sizes = [len(pack) for pack in packs(long)]
    assert sizes == [4, 4, 1]  # 4 x 1000 + 3 separators fit in 4096; a fifth would not
    assert all(sum(len(i["text"]) + 2 for i in pack) - 2 <= TELEGRAM_TEXT_LIMIT for pack in packs(long))
    assert packs([]) == []


@pytest.mark.django_db(transaction=True)
def test_a_refused_claim_backs_off_instead_of_spinning(sandbox, live_server, caplog):
    async def go():
        core = AsyncCoreClient(live_server.url, "not-a-key", timeout=5)
        poster = LogPoster(SimpleNamespace(bot=None, bot_data=SimpleNamespace(core=core)), poll_seconds=0.01)
        await core.health()  # the live server warmed up: the rounds below take milliseconds
        poster.start()
        await asyncio.sleep(0.8)
        await poster.stop()
        await core.aclose()
    with caplog.at_level("INFO", logger="apps.botgateway.protection.logchannel"):
        asyncio.run(go())
    rounds = [record for record in caplog.records if record.name == "apps.botgateway.protection.logchannel"]
    assert [(record.levelname, record.getMessage()) for record in rounds] == [
        ("WARNING", "log channel: entries not claimed")]  # then it waits a second, not 10 ms
