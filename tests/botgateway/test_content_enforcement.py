"""Locks and the blocklist enforced by the bot's real application (in process) against the Telegram sandbox and core
(a live server): a message that breaks a rule is recorded in core first (rule locks/blocklist, refused for exempt
members, who are then left alone and not asked about again for a while), deleted, its mode's action taken on the
member, the record completed and the group told why; one act per member however many messages break the rules
meanwhile; edits are checked; the webhook's plain-message shortcut and the application's handlers reach the same
verdict and the same acts; a message that breaks nothing costs no core call and starts nothing."""

import asyncio
import time

import pytest

from apps.botgateway.handlers.activity import plain_message_event
from apps.botgateway.protection.enforcement import EXECUTED, EXEMPT, enforce
from apps.moderation.models import ModerationAction, Warning

from .content_harness import (
    PEOPLE,
    Bot,
    bot_texts,
    core_group,
    newcomer,
    present,
    sandbox_fixtures,
    status,
    update_of,
)

pytestmark = pytest.mark.django_db(transaction=True)


sandbox, world = sandbox_fixtures()


def records(group, rule="locks"):
    return list(ModerationAction.objects.filter(group=group, rule=rule).order_by("created_at", "pk"))


def run(scenario):
    return asyncio.run(scenario())


def test_a_locked_message_is_recorded_deleted_and_explained(world, sandbox, live_server, tmp_path):
    chat, group = core_group(world, locks={"sticker": {"mode": "delete"}})
    sticker = world.send_message(chat, "dave", content={"sticker": True})

    async def scenario():
        async with Bot(sandbox, live_server, tmp_path) as bot:
            await bot.know(chat.id, group.pk)
            await bot.handle(update_of(world, sticker, update_id=1))
            await bot.settle()

    run(scenario)
    assert not present(world, chat, sticker.message_id)
    [record] = records(group)
    assert (record.type, record.status, record.actor, record.telegram_message_id, record.target.telegram_user_id) == (
        "delete", "executed", None, sticker.message_id, PEOPLE["dave"])
    assert "sticker" in record.reason and record.details["kind"] == "sticker"
    [notice] = bot_texts(world, chat)
    assert "Dave" in notice and "sticker is locked" in notice


def test_lock_warnings_off_delete_silently(world, sandbox, live_server, tmp_path):
    chat, group = core_group(world, locks={"url": {"mode": "delete"}}, lock_warns=False)
    link = world.send_message(chat, "dave", "cheap watches at https://watches.example/sale")

    async def scenario():
        async with Bot(sandbox, live_server, tmp_path) as bot:
            await bot.know(chat.id, group.pk)
            await bot.webhook(update_of(world, link, update_id=1))
            await bot.settle()

    run(scenario)
    assert not present(world, chat, link.message_id)
    assert [(r.type, r.status) for r in records(group)] == [("delete", "executed")]
    assert bot_texts(world, chat) == []


def test_each_mode_acts_on_the_member(world, sandbox, live_server, tmp_path):
    chat, group = core_group(world, locks={
        "sticker": {"mode": "warn"}, "gif": {"mode": "mute", "reason": "no gifs here"},
        "voice": {"mode": "tmute", "duration_seconds": 3600}, "document": {"mode": "kick"},
        "contact": {"mode": "ban"}, "location": {"mode": "tban", "duration_seconds": 86400}})
    for login in ("muted1", "kicked1", "banned1"):
        newcomer(world, group, login)
    sent = {
        "warn": world.send_message(chat, "carol", content={"sticker": True}),
        "mute": world.send_message(chat, "muted1", content={"animation": True}),
        "tmute": world.send_message(chat, "dave", content={"voice": True}),
        "kick": world.send_message(chat, "kicked1", content={"document": True}),
        "ban": world.send_message(chat, "banned1", content={"contact": {"phone_number": "+15550", "first_name": "Y"}}),
        "tban": world.send_message(chat, "spammer", content={"location": {"latitude": 1.0, "longitude": 2.0}}),
    }

    async def scenario():
        async with Bot(sandbox, live_server, tmp_path) as bot:
            await bot.know(chat.id, group.pk)
            for number, message in enumerate(sent.values()):
                await bot.handle(update_of(world, message, update_id=number + 1))
            await bot.settle()

    run(scenario)
    assert not any(present(world, chat, message.message_id) for message in sent.values())
    by_message = {record.telegram_message_id: record for record in records(group)}
    got = {mode: by_message[message.message_id] for mode, message in sent.items()}
    assert {mode: (record.type, record.status) for mode, record in got.items()} == {
        "warn": ("warn", "executed"), "mute": ("mute", "executed"), "tmute": ("mute", "executed"),
        "kick": ("kick", "executed"), "ban": ("ban", "executed"), "tban": ("ban", "executed")}
    assert got["mute"].until is None and got["ban"].until is None and got["mute"].reason == "no gifs here"
    assert 3500 < got["tmute"].until.timestamp() - time.time() < 3700
    assert 86300 < got["tban"].until.timestamp() - time.time() < 86500
    assert status(world, chat, "carol").status == "member"
    assert Warning.objects.filter(group=group, user__telegram_user_id=PEOPLE["carol"]).count() == 1
    assert status(world, chat, "muted1").status == "restricted" and status(world, chat, "muted1").until_date == 0
    assert 3500 < status(world, chat, "dave").until_date - time.time() < 3700
    assert status(world, chat, "kicked1").status == "left"
    assert status(world, chat, "banned1").status == "kicked" and status(world, chat, "banned1").until_date == 0
    assert 86300 < status(world, chat, "spammer").until_date - time.time() < 86500
    notices = bot_texts(world, chat)
    assert any("has been warned (1/3)" in text and "sticker is locked" in text for text in notices), notices
    assert any("has been muted" in text and "Reason: no gifs here" in text for text in notices), notices
    assert any("has been muted (1 hour)" in text for text in notices), notices
    assert any("has been kicked" in text for text in notices) and any("banned (1 day)" in t for t in notices)


def test_a_warn_lock_reaching_the_warn_limit_takes_the_groups_action(world, sandbox, live_server, tmp_path):
    chat, group = core_group(world, locks={"sticker": {"mode": "warn"}}, warn_limit=(2, "kick"))
    first = world.send_message(chat, "dave", content={"sticker": True})
    second = world.send_message(chat, "dave", content={"sticker": True})

    async def scenario():
        async with Bot(sandbox, live_server, tmp_path) as bot:
            await bot.know(chat.id, group.pk)
            await bot.handle(update_of(world, first, update_id=1))
            await bot.settle()
            await bot.handle(update_of(world, second, update_id=2))
            await bot.settle()

    run(scenario)
    assert [(r.type, r.status, r.reason) for r in records(group)] == [
        ("warn", "executed", "sticker is locked"), ("warn", "executed", "sticker is locked"),
        ("kick", "executed", "warn limit reached (2)")]
    assert status(world, chat, "dave").status == "left"
    notices = bot_texts(world, chat)
    assert any("has been warned (1/2)" in text for text in notices), notices
    assert any("reached 2 warnings and is kicked" in text for text in notices), notices


def test_exempt_members_are_left_alone_and_not_asked_about_again(world, sandbox, live_server, tmp_path):
    chat, group = core_group(world, locks={"sticker": {"mode": "ban"}})
    stickers = [world.send_message(chat, "bob_mod", content={"sticker": True}) for _ in range(3)]

    async def scenario():
        async with Bot(sandbox, live_server, tmp_path) as bot:
            await bot.know(chat.id, group.pk)
            await bot.handle(update_of(world, stickers[0], update_id=1))
            await bot.settle()
            asked = bot.core_calls.count("protection_action")
            for number, sticker in enumerate(stickers[1:]):
                await bot.handle(update_of(world, sticker, update_id=number + 2))
                assert not bot.data.flood.tasks  # remembered: nothing started
            await bot.settle()
            return asked, bot.core_calls.count("protection_action")

    assert run(scenario) == (1, 1)
    assert all(present(world, chat, sticker.message_id) for sticker in stickers)
    assert records(group) == [] and status(world, chat, "bob_mod").status == "administrator"
    assert bot_texts(world, chat) == []


def test_a_burst_of_violations_is_one_act_and_every_message_goes(world, sandbox, live_server, tmp_path):
    chat, group = core_group(world, locks={"url": {"mode": "mute"}})
    links = [world.send_message(chat, "spammer", f"buy at https://spam{number}.example") for number in range(8)]

    async def scenario():
        async with Bot(sandbox, live_server, tmp_path) as bot:
            await bot.know(chat.id, group.pk)
            for number, link in enumerate(links):  # all arrive before the first act has its answer from core
                await bot.webhook(update_of(world, link, update_id=number + 1))
            await bot.settle()
            return bot.core_calls.count("protection_action")

    assert run(scenario) == 1
    assert not any(present(world, chat, link.message_id) for link in links)
    assert [(r.type, r.status, r.telegram_message_id) for r in records(group)] == [
        ("mute", "executed", links[0].message_id)]
    assert len(bot_texts(world, chat)) == 1


def test_an_edit_that_breaks_a_lock_is_caught(world, sandbox, live_server, tmp_path):
    chat, group = core_group(world, locks={"url": {"mode": "delete"}})
    text = world.send_message(chat, "dave", "hello there")
    plain = world.send_message(chat, "carol", "nothing to see")

    async def scenario():
        async with Bot(sandbox, live_server, tmp_path) as bot:
            await bot.know(chat.id, group.pk)
            await bot.webhook(update_of(world, text, update_id=1))
            await bot.webhook(update_of(world, plain, update_id=2))
            await bot.settle()
            assert "protection_action" not in bot.core_calls
            edited = world.edit_message(chat, text.message_id, "hello there, buy at https://spam.example", user="dave")
            await bot.webhook(update_of(world, edited, update_id=3, edited=True))
            edited_plain = world.edit_message(chat, plain.message_id, "still nothing to see", user="carol")
            await bot.webhook(update_of(world, edited_plain, update_id=4, edited=True))
            await bot.settle()

    run(scenario)
    assert not present(world, chat, text.message_id) and present(world, chat, plain.message_id)
    [record] = records(group)
    assert record.telegram_message_id == text.message_id and record.details["edited"] is True


def test_the_shortcut_and_the_application_reach_the_same_acts(world, sandbox, live_server, tmp_path):
    """The same kind of message, one through the webhook's plain-message shortcut (Telegram's JSON as it came), one
    through the application's handlers (python-telegram-bot's objects made into JSON again): the same record, the
    same deletion, the same notice."""
    chat, group = core_group(world, locks={"url": {"mode": "warn", "reason": "no links"}},
                             blocklist=[{"pattern": "crypto", "mode": "tmute", "duration_seconds": 600}])
    carol = [world.send_message(chat, "carol", "see https://a.example"),
             world.send_message(chat, "carol", "cheap CRYPTO here"), world.send_message(chat, "carol", "hello")]
    dave = [world.send_message(chat, "dave", "see https://a.example"),
            world.send_message(chat, "dave", "cheap CRYPTO here"), world.send_message(chat, "dave", "hello")]

    async def scenario():
        async with Bot(sandbox, live_server, tmp_path) as bot:
            await bot.know(chat.id, group.pk)
            for number, message in enumerate(carol):
                payload = update_of(world, message, update_id=number + 1)
                assert plain_message_event(payload, bot.data.groups) is not None  # the shortcut takes it
                await bot.webhook(payload)
                await bot.settle()
            for number, message in enumerate(dave):
                await bot.handle(update_of(world, message, update_id=number + 10))
                await bot.settle()

    run(scenario)

    def acts(login):
        return [(r.rule, r.type, r.status, r.reason, r.details, r.until is not None) for group_rule in
                ("locks", "blocklist") for r in records(group, group_rule)
                if r.target.telegram_user_id == PEOPLE[login]]

    assert acts("carol") == acts("dave") and len(acts("carol")) == 2
    assert [present(world, chat, m.message_id) for m in carol] == [present(world, chat, m.message_id) for m in dave]
    assert [present(world, chat, m.message_id) for m in carol] == [False, False, True]
    notices = bot_texts(world, chat)
    assert [text.replace("Carol", "X") for text in notices if "Carol" in text] == [
        text.replace("Dave", "X") for text in notices if "Dave" in text]


def test_a_message_that_breaks_nothing_costs_no_core_call_and_starts_nothing(world, sandbox, live_server, tmp_path):
    chat, group = core_group(world, locks={kind: {"mode": "ban"} for kind in ("url", "sticker", "forward", "rtl")},
                             blocklist=[{"pattern": word} for word in ("crypto", "casino", "buy*now")])
    plain = [world.send_message(chat, "dave", f"a plain message number {number}") for number in range(20)]

    async def scenario():
        async with Bot(sandbox, live_server, tmp_path) as bot:
            await bot.know(chat.id, group.pk)
            before = [call for call in bot.core_calls if call != "events_batch"]
            mark = sandbox.world.calls[-1]["seq"] if sandbox.world.calls else 0
            for number, message in enumerate(plain):
                payload = update_of(world, message, update_id=number + 1)
                await (bot.webhook(payload) if number % 2 else bot.handle(payload))
                assert not bot.data.flood.tasks
            after = [call for call in bot.core_calls if call != "events_batch"]
            return before, after, sandbox.world.call_log(since=mark)

    before, after, telegram = run(scenario)
    assert after == before
    assert [call["method"] for call in telegram] == []
    assert records(group) == [] and records(group, "blocklist") == []


def test_a_channel_post_is_deleted_and_a_ban_mode_bans_the_channel(world, sandbox, live_server, tmp_path):
    chat, group = core_group(world, locks={"anonchannel": {"mode": "ban"}})
    channel = world.create_chat("Carol's channel", "carol", type="channel", username="carols_channel")
    post = world.send_message(chat, "carol", "follow my channel", content={"sender_chat": channel.id})
    mark = sandbox.world.calls[-1]["seq"] if sandbox.world.calls else 0

    async def scenario():
        async with Bot(sandbox, live_server, tmp_path) as bot:
            await bot.know(chat.id, group.pk)
            await bot.handle(update_of(world, post, update_id=1))
            await bot.settle()

    run(scenario)
    assert not present(world, chat, post.message_id)
    bans = sandbox.world.call_log(since=mark, method="banChatSenderChat")
    assert [int(call["params"]["sender_chat_id"]) for call in bans] == [channel.id]
    [record] = records(group)
    assert (record.type, record.status, record.target.telegram_user_id) == ("ban", "executed", channel.id)
    assert status(world, chat, "carol").status == "member"


def test_a_bot_added_by_a_member_is_removed_and_the_adder_answers_for_it(world, sandbox, live_server, tmp_path):
    chat, group = core_group(world, locks={"bot": {"mode": "delete"}})
    spam_bot = world.create_user("Spam bot", username="spam_helper_bot", is_bot=True)
    good_bot = world.create_user("Good bot", username="good_helper_bot", is_bot=True)

    async def scenario():
        async with Bot(sandbox, live_server, tmp_path) as bot:
            await bot.know(chat.id, group.pk)
            world.add_member(chat, spam_bot, by="dave")
            added = list(world.chat(chat.id).messages.values())[-1]
            await bot.handle(update_of(world, added, update_id=1))
            world.add_member(chat, good_bot, by="bob_mod")  # an admin's bot stays
            admins = list(world.chat(chat.id).messages.values())[-1]
            await bot.handle(update_of(world, admins, update_id=2))
            await bot.settle()
            return added, admins

    added, admins = run(scenario)
    assert world.member(world.chat(chat.id), spam_bot.id).status in ("left", "kicked")
    assert world.member(world.chat(chat.id), good_bot.id).status == "member"
    [record] = records(group)
    assert (record.target.telegram_user_id, record.telegram_message_id, record.status) == (
        PEOPLE["dave"], added.message_id, "executed")
    assert present(world, chat, admins.message_id) and not present(world, chat, added.message_id)


def test_a_bot_added_while_an_act_of_the_adders_runs_is_still_removed(world, sandbox, live_server, tmp_path):
    chat, group = core_group(world, locks={"sticker": {"mode": "delete"}, "bot": {"mode": "delete"}})
    spam_bot = world.create_user("Spam bot", username="spam_helper_bot", is_bot=True)

    async def scenario():
        async with Bot(sandbox, live_server, tmp_path) as bot:
            await bot.know(chat.id, group.pk)
            sticker = world.send_message(chat, "dave", content={"sticker": True})
            await bot.handle(update_of(world, sticker, update_id=1))  # its act starts, and waits for core
            world.add_member(chat, spam_bot, by="dave")
            added = list(world.chat(chat.id).messages.values())[-1]
            await bot.handle(update_of(world, added, update_id=2))
            await bot.settle()
            return sticker, added

    sticker, added = run(scenario)
    assert world.member(world.chat(chat.id), spam_bot.id).status in ("left", "kicked")
    assert not present(world, chat, sticker.message_id) and not present(world, chat, added.message_id)
    assert sorted(r.telegram_message_id for r in records(group)) == [sticker.message_id, added.message_id]


def test_without_its_rights_the_bot_says_so_once_and_stops_asking_core_for_a_while(world, sandbox, live_server,
                                                                                    tmp_path):
    chat, group = core_group(world, locks={"sticker": {"mode": "delete"}})
    world.promote(chat, world.bot().user, rights={})  # no longer an admin
    stickers = [world.send_message(chat, login, content={"sticker": True}) for login in ("dave", "carol", "spammer")]

    async def scenario():
        async with Bot(sandbox, live_server, tmp_path) as bot:
            await bot.know(chat.id, group.pk)
            await bot.handle(update_of(world, stickers[0], update_id=1))
            await bot.settle()
            for number, sticker in enumerate(stickers[1:]):
                await bot.handle(update_of(world, sticker, update_id=number + 2))
            await bot.settle()
            return bot.core_calls.count("protection_action")

    assert run(scenario) == 1
    assert all(present(world, chat, sticker.message_id) for sticker in stickers)
    [record] = records(group)
    assert (record.status, record.error.lower()) == ("failed", "message can't be deleted")
    [notice] = bot_texts(world, chat)
    assert "could not act" in notice and "delete messages" in notice


def test_a_message_too_old_to_delete_does_not_make_the_bot_think_it_lacks_rights(world, sandbox, live_server,
                                                                                 tmp_path):
    chat, group = core_group(world, locks={"url": {"mode": "delete"}})
    old = world.send_message(chat, "dave", "hello")
    world.advance_time(49 * 3600)  # past the 48 hours in which Telegram lets a message be deleted
    edited = world.edit_message(chat, old.message_id, "hello, see https://spam.example", user="dave")
    fresh = world.send_message(chat, "carol", "and https://spam.example")

    async def scenario():
        async with Bot(sandbox, live_server, tmp_path) as bot:
            await bot.know(chat.id, group.pk)
            await bot.handle(update_of(world, edited, update_id=1, edited=True))
            await bot.settle()
            await bot.handle(update_of(world, fresh, update_id=2))
            await bot.settle()

    run(scenario)
    assert present(world, chat, old.message_id) and not present(world, chat, fresh.message_id)
    assert sorted((r.telegram_message_id, r.status) for r in records(group)) == [
        (old.message_id, "failed"), (fresh.message_id, "executed")]
    assert not any("could not act" in text for text in bot_texts(world, chat))


def test_blocklist_modes_delete_silently_or_act_and_keep_the_message_when_asked(world, sandbox, live_server,
                                                                               tmp_path):
    chat, group = core_group(world, blocklist=[{"pattern": "crypto"}, {"pattern": "buy*now", "mode": "warn"}])
    quiet = world.send_message(chat, "dave", "Cheap CRYPTO here")
    warned = world.send_message(chat, "carol", "BUYNOW it is cheap")
    kept = world.send_message(chat, "spammer", "more crypto")

    async def scenario():
        async with Bot(sandbox, live_server, tmp_path) as bot:
            await bot.know(chat.id, group.pk)
            await bot.webhook(update_of(world, quiet, update_id=1))
            await bot.webhook(update_of(world, warned, update_id=2))
            await bot.settle()
            from apps.protection.services import protection_update

            await asyncio.to_thread(protection_update, group=group, changes={
                "blocklist_delete": False, "blocklist_action": "warn"})
            await bot.data.protection.load(bot.data.core, chat.id)
            await bot.webhook(update_of(world, kept, update_id=3))
            await bot.settle()

    run(scenario)
    assert not present(world, chat, quiet.message_id) and not present(world, chat, warned.message_id)
    assert present(world, chat, kept.message_id)
    assert sorted((r.type, r.target.telegram_user_id) for r in records(group, "blocklist")) == sorted([
        ("delete", PEOPLE["dave"]), ("warn", PEOPLE["carol"]), ("warn", PEOPLE["spammer"])])
    notices = bot_texts(world, chat)
    assert not any("Dave" in text for text in notices)  # the plain delete is silent, as Rose's
    assert any("Carol" in text and "buy*now" in text for text in notices), notices


def test_a_joiner_with_a_blocklisted_name_gets_the_blocklist_mode(world, sandbox, live_server, tmp_path):
    chat, group = core_group(world, blocklist=[{"pattern": "casino", "mode": "ban"}], blocklist_joiner_names=True)
    joiner = world.create_user("Best", last_name="Casino Bonus", username="bestbonus")
    fine = world.create_user("Frank", username="frank_here")

    async def scenario():
        async with Bot(sandbox, live_server, tmp_path) as bot:
            await bot.know(chat.id, group.pk)
            for number, user in enumerate((joiner, fine)):
                world.add_member(chat, user)
                join = list(world.chat(chat.id).messages.values())[-1]
                await bot.handle(update_of(world, join, update_id=number + 1))
            await bot.settle()

    run(scenario)
    assert world.member(world.chat(chat.id), joiner.id).status == "kicked"
    assert world.member(world.chat(chat.id), fine.id).status == "member"
    [record] = records(group, "blocklist")
    assert (record.type, record.target.telegram_user_id) == ("ban", joiner.id)


def test_enforce_records_first_then_acts_and_refuses_nothing_for_an_exempt_member(world, sandbox, live_server,
                                                                                  tmp_path):
    """enforcement.enforce, the rules' one step: what it came to, and nothing done for an exempt member."""
    chat, group = core_group(world)
    spam = world.send_message(chat, "spammer", "spam")
    admin = world.send_message(chat, "bob_mod", "spam too")

    async def scenario():
        async with Bot(sandbox, live_server, tmp_path) as bot:
            common = dict(rule="blocklist", chat_id=chat.id, mode="tmute", duration_seconds=600, reason="spam",
                          why='matches blocklist entry "spam"', delete_message=True, notify=False)
            return (await enforce(bot.application, user_id=PEOPLE["spammer"], name="Spam", message_id=spam.message_id,
                                  **common),
                    await enforce(bot.application, user_id=PEOPLE["bob_mod"], name="Bob", message_id=admin.message_id,
                                  **common))

    assert run(scenario) == (EXECUTED, EXEMPT)
    assert not present(world, chat, spam.message_id) and present(world, chat, admin.message_id)
    [record] = records(group, "blocklist")
    assert (record.type, record.status, record.reason) == ("mute", "executed", "spam")
    assert 500 < status(world, chat, "spammer").until_date - time.time() < 700
    assert bot_texts(world, chat) == []  # notify=False
