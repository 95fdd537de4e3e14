"""Ban lists on arrival (federations/enforce.py), by the bot's real application (in process) against the Telegram
sandbox and core (a live server): a joiner on a list the group follows is banned before any challenge or welcome
(from the cache, or from core's word while the list still loads), a member on one is banned at their message (by
either path: the webhook's plain-message shortcut and the application's handlers), the message deleted with the ban,
once per list version however many messages follow; an exempt member is left alone and the group's moderators told
once; the cache a little behind an unban bans nobody; a group that follows no list costs no core call."""

import asyncio

import pytest

from apps.banlists.bans import ban_list_ban, ban_list_unban
from apps.banlists.services import ban_list_create, ban_list_subscribe
from apps.moderation.models import ModerationAction
from apps.protection.services import approval_grant
from apps.users.models import User
from tests.factories import make_user

from .content_harness import PEOPLE, Bot, bot_texts, core_group, present, sandbox_fixtures, update_of

pytestmark = pytest.mark.django_db(transaction=True)


def _with_member_updates(world):
    world.bot().allowed_updates = ["message", "edited_message", "callback_query", "my_chat_member", "chat_member"]


sandbox, world = sandbox_fixtures(prepare=_with_member_updates)

BANLIST_CALLS = {"user_ban_lists", "ban_list_ids", "ban_list_versions", "protection_action"}


def run(scenario):
    return asyncio.run(scenario())


def federation(world, *banned, name="Spam Watch", reason="crypto spam", subscribe=True, **protection):
    chat, group = core_group(world, **protection)
    owner = make_user(username="fedowner", telegram_user_id=3000001, display_name="Fed Owner")
    ban_list = ban_list_create(name=name, actor=owner)
    if subscribe:
        ban_list_subscribe(ban_list=ban_list, group=group, actor=None)
    for telegram_user_id in banned:
        ban_list_ban(ban_list=ban_list, telegram_user_id=telegram_user_id, reason=reason)
    return chat, group, ban_list


def records(group):
    """The bot's bans on arrival (the propagation worker's records name their propagation)."""
    return [record for record in ModerationAction.objects.filter(group=group, rule="banlist").order_by("created_at",
                                                                                                      "pk")
            if "propagation_id" not in (record.details or {})]


def join(world, chat, user):
    """`user` joins: the two tellings Telegram sends an admin bot (chat_member update, service message)."""
    bot = world.bot()
    before = len(bot.updates)
    world.add_member(chat, user)
    [change] = [update for update in bot.updates[before:] if "chat_member" in update
                and update["chat_member"]["new_chat_member"]["user"]["id"] == user.id]
    service = list(world.chat(chat.id).messages.values())[-1]
    return change, service


async def with_lists(bot, chat, group, ban_list=None) -> None:
    """The chat known, its settings cached, the cache able to load lists (post_init's start does it), and the list
    loaded when given."""
    await bot.know(chat.id, group.pk)
    bot.data.banlists.core = bot.data.core
    if ban_list is not None:
        await bot.data.banlists.load(str(ban_list.pk))


def test_a_joiner_on_a_followed_list_is_banned_before_any_welcome(world, sandbox, live_server, tmp_path):
    joiner = world.create_user("Crypto", last_name="King", username="cryptoking")
    chat, group, ban_list = federation(world, joiner.id, welcome_enabled=True, captcha_enabled=True)

    async def scenario():
        async with Bot(sandbox, live_server, tmp_path) as bot:
            await with_lists(bot, chat, group, ban_list)
            change, service = join(world, chat, joiner)
            await bot.handle(change)
            await bot.handle(update_of(world, service, update_id=10**6))  # the second telling: nothing more
            await bot.settle()

    run(scenario)
    assert world.member(world.chat(chat.id), joiner.id).status == "kicked"
    [record] = records(group)
    assert (record.type, record.status, record.target.telegram_user_id) == ("ban", "executed", joiner.id)
    assert record.reason == "Ban list Spam Watch: crypto spam"
    assert record.details["ban_list_id"] == str(ban_list.pk)
    assert [text for text in bot_texts(world, chat) if text] == [
        "Crypto King has been banned for being banned in the federation Spam Watch. Reason: crypto spam."]
    assert not world.call_log(method="restrictChatMember")  # no challenge


def test_a_member_an_admin_lets_back_in_is_banned_again_at_their_next_join(world, sandbox, live_server, tmp_path):
    joiner = world.create_user("Again", username="again_spam")
    chat, group, ban_list = federation(world, joiner.id)

    async def scenario():
        async with Bot(sandbox, live_server, tmp_path) as bot:
            await with_lists(bot, chat, group, ban_list)
            updates = world.bot().updates
            seen = len(updates)
            change, _ = join(world, chat, joiner)
            await bot.handle(change)
            await bot.settle()
            world.unban_member(chat, joiner, by="alice")  # an admin lifts the ban on Telegram
            for update in updates[seen:]:  # the bot sees the ban (the member left) and the unban
                if "chat_member" in update and update is not change:
                    await bot.handle(update)
            change, _ = join(world, chat, joiner)
            await bot.handle(change)
            await bot.settle()

    run(scenario)
    assert world.member(world.chat(chat.id), joiner.id).status == "kicked"
    assert [record.status for record in records(group)] == ["executed", "executed"]


def test_while_a_list_loads_a_join_asks_core_about_the_joiner(world, sandbox, live_server, tmp_path):
    joiner = world.create_user("Early", username="early_spam")
    fine = world.create_user("Fine", username="fine_person")
    chat, group, _ = federation(world, joiner.id, welcome_enabled=True)

    async def scenario():
        async with Bot(sandbox, live_server, tmp_path) as bot:
            await with_lists(bot, chat, group)  # the list is not cached yet
            for user in (joiner, fine):
                change, _ = join(world, chat, user)
                await bot.handle(change)
            await bot.settle()
            return bot.core_calls

    calls = run(scenario)
    assert calls.index("user_ban_lists") < calls.index("ban_list_ids")  # core's word before the list was in
    assert world.member(world.chat(chat.id), joiner.id).status == "kicked"
    assert world.member(world.chat(chat.id), fine.id).status == "member"
    assert [record.target.telegram_user_id for record in records(group)] == [joiner.id]
    assert any(text.startswith("Welcome") or "Fine" in text for text in bot_texts(world, chat))


@pytest.mark.parametrize("path", ["webhook", "application"])
def test_a_member_on_a_list_is_banned_at_their_message_once(world, sandbox, live_server, tmp_path, path):
    chat, group, ban_list = federation(world, PEOPLE["spammer"])
    messages = [world.send_message(chat, "spammer", f"buy coins {number}") for number in range(3)]
    clean = world.send_message(chat, "carol", "hello all")

    async def scenario():
        async with Bot(sandbox, live_server, tmp_path) as bot:
            await with_lists(bot, chat, group, ban_list)
            before = len(bot.core_calls)
            deliver = bot.webhook if path == "webhook" else bot.handle
            await deliver(update_of(world, clean, update_id=99))
            await bot.settle()
            assert not BANLIST_CALLS & set(bot.core_calls[before:])  # a member on no list: no core call
            for number, message in enumerate(messages):
                await deliver(update_of(world, message, update_id=100 + number))
            await bot.settle()

    run(scenario)
    assert world.member(world.chat(chat.id), PEOPLE["spammer"]).status == "kicked"
    [record] = records(group)
    assert (record.type, record.status, record.telegram_message_id) == ("ban", "executed", messages[0].message_id)
    assert not any(present(world, chat, message.message_id) for message in messages)
    assert present(world, chat, clean.message_id)
    assert len([text for text in bot_texts(world, chat) if "federation" in text]) == 1


def test_the_first_message_loads_the_list_and_a_later_one_acts(world, sandbox, live_server, tmp_path):
    chat, group, ban_list = federation(world, PEOPLE["spammer"])
    first, second = (world.send_message(chat, "spammer", text) for text in ("hi", "buy coins"))

    async def scenario():
        async with Bot(sandbox, live_server, tmp_path) as bot:
            await with_lists(bot, chat, group)
            await bot.webhook(update_of(world, first, update_id=1))  # not cached: loaded in the background
            async with asyncio.timeout(10):
                while bot.data.banlists.get(str(ban_list.pk)) is None:
                    await asyncio.sleep(0.01)
            await bot.webhook(update_of(world, second, update_id=2))
            await bot.settle()

    run(scenario)
    assert [record.telegram_message_id for record in records(group)] == [second.message_id]
    assert present(world, chat, first.message_id) and not present(world, chat, second.message_id)


def test_an_exempt_member_is_left_alone_and_the_moderators_told_once(world, sandbox, live_server, tmp_path):
    chat, group, ban_list = federation(world)
    approval_grant(group=group, target=User.objects.get(telegram_user_id=PEOPLE["dave"]), actor=None)
    ban_list_ban(ban_list=ban_list, telegram_user_id=PEOPLE["dave"], reason="spam elsewhere")
    messages = [world.send_message(chat, "dave", f"hi {number}") for number in range(3)]

    async def scenario():
        async with Bot(sandbox, live_server, tmp_path) as bot:
            await with_lists(bot, chat, group, ban_list)
            await bot.webhook(update_of(world, messages[0], update_id=1))
            await bot.settle()
            await bot.webhook(update_of(world, messages[1], update_id=2))
            await bot.settle()
            # The list changes: the member is looked at again (core still says exempt); the notice is not repeated.
            await asyncio.to_thread(ban_list_ban, ban_list=ban_list, telegram_user_id=4242, reason="other")
            await bot.data.banlists.refresh()
            await bot.webhook(update_of(world, messages[2], update_id=3))
            await bot.settle()

    run(scenario)
    assert world.member(world.chat(chat.id), PEOPLE["dave"]).status == "member"
    assert all(present(world, chat, message.message_id) for message in messages)
    assert records(group) == []
    assert [text for text in bot_texts(world, chat) if "federation" in text] == [
        "Moderators: Dave is banned in the federation Spam Watch (reason: spam elsewhere), but is approved here, so "
        "I have not banned them."]


def test_a_cache_behind_an_unban_bans_nobody(world, sandbox, live_server, tmp_path):
    chat, group, ban_list = federation(world, PEOPLE["spammer"])
    message = world.send_message(chat, "spammer", "I was unbanned")

    async def scenario():
        async with Bot(sandbox, live_server, tmp_path) as bot:
            await with_lists(bot, chat, group, ban_list)
            await asyncio.to_thread(ban_list_unban, ban_list=ban_list, telegram_user_id=PEOPLE["spammer"])
            await bot.webhook(update_of(world, message, update_id=1))  # the cache has not caught up yet
            await bot.settle()

    run(scenario)
    assert world.member(world.chat(chat.id), PEOPLE["spammer"]).status == "member"
    assert present(world, chat, message.message_id)
    assert records(group) == []


def test_a_group_that_follows_no_list_asks_nothing(world, sandbox, live_server, tmp_path):
    chat, group, ban_list = federation(world, PEOPLE["spammer"], subscribe=False)
    message = world.send_message(chat, "spammer", "not followed here")

    async def scenario():
        async with Bot(sandbox, live_server, tmp_path) as bot:
            await with_lists(bot, chat, group, ban_list)
            before = len(bot.core_calls)
            await bot.webhook(update_of(world, message, update_id=1))
            await bot.handle(update_of(world, message, update_id=2))
            await bot.settle()
            return bot.core_calls[before:]

    calls = run(scenario)
    assert not BANLIST_CALLS & set(calls)
    assert world.member(world.chat(chat.id), PEOPLE["spammer"]).status == "member"


def test_an_admin_on_a_list_found_at_the_admin_sync_is_told_to_the_moderators(world, sandbox, live_server, tmp_path):
    chat, group, ban_list = federation(world, PEOPLE["bob_mod"], reason="raids")

    async def scenario():
        from apps.botgateway.context import BotContext
        from apps.botgateway.flows import sync_admins

        async with Bot(sandbox, live_server, tmp_path) as bot:
            await with_lists(bot, chat, group, ban_list)
            await sync_admins(BotContext(bot.application), await bot.application.bot.get_chat(chat.id))
            await bot.settle()

    run(scenario)
    assert world.member(world.chat(chat.id), PEOPLE["bob_mod"]).status == "administrator"
    notices = [text for text in bot_texts(world, chat) if "federation" in text]
    assert notices == ["Moderators: Bob Admin is banned in the federation Spam Watch (reason: raids), but is an admin "
                       "here, so I have not banned them."]
