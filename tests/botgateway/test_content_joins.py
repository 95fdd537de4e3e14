"""Locks and the blocklist on members joining, whichever way Telegram tells the join: the new_chat_members service
message, a chat_member update (admin bots asking for them; the only telling when the group hides join messages), or
both. The bot's real application (in process) against the Telegram sandbox and core (a live server): each join is
checked once (one core record), a chat_member telling acts without a message, the join message's later telling goes
with the act, a member who left and comes back is checked again, and a joiner the rules remove gets no welcome."""

import asyncio

import pytest

from apps.moderation.models import ModerationAction

from .content_harness import PEOPLE, Bot, bot_texts, core_group, present, sandbox_fixtures, update_of

pytestmark = pytest.mark.django_db(transaction=True)


def _with_member_updates(world):
    world.bot().allowed_updates = ["message", "edited_message", "callback_query", "my_chat_member", "chat_member"]


sandbox, world = sandbox_fixtures(prepare=_with_member_updates)


def records(group, rule):
    return list(ModerationAction.objects.filter(group=group, rule=rule).order_by("created_at", "pk"))


def run(scenario):
    return asyncio.run(scenario())


def join(world, chat, user, *, by=None):
    """`user` joins (or `by` adds them): the two tellings Telegram sends an admin bot, (chat_member update, service
    message update), as the sandbox queued them for the bot."""
    bot = world.bot()
    before = len(bot.updates)
    world.add_member(chat, user, by=by)
    [change] = [update for update in bot.updates[before:] if "chat_member" in update
                and update["chat_member"]["new_chat_member"]["user"]["id"] == user.id]
    service = list(world.chat(chat.id).messages.values())[-1]
    assert service.service.get("new_chat_members") == [user.id]
    return change, service


def test_a_blocklisted_name_told_only_by_a_chat_member_update_is_acted_on(world, sandbox, live_server, tmp_path):
    """The group hides join messages: the chat_member update is all the bot gets."""
    chat, group = core_group(world, blocklist=[{"pattern": "casino", "mode": "ban"}], blocklist_joiner_names=True)
    joiner = world.create_user("Best", last_name="Casino Bonus", username="bestbonus")
    fine = world.create_user("Frank", username="frank_here")

    async def scenario():
        async with Bot(sandbox, live_server, tmp_path) as bot:
            await bot.know(chat.id, group.pk)
            for user in (joiner, fine):
                change, _ = join(world, chat, user)
                await bot.handle(change)
            await bot.settle()

    run(scenario)
    assert world.member(world.chat(chat.id), joiner.id).status == "kicked"
    assert world.member(world.chat(chat.id), fine.id).status == "member"
    [record] = records(group, "blocklist")
    assert (record.type, record.target.telegram_user_id, record.status) == ("ban", joiner.id, "executed")
    assert record.telegram_message_id is None


@pytest.mark.parametrize("order", ["chat_member_first", "service_message_first"])
def test_a_join_told_twice_is_checked_once_and_its_message_goes(world, sandbox, live_server, tmp_path, order):
    chat, group = core_group(world, blocklist=[{"pattern": "casino", "mode": "ban"}], blocklist_joiner_names=True,
                             welcome_enabled=True)
    joiner = world.create_user("Casino", last_name="Royale", username="casino_royale")
    fine = world.create_user("Frank", username="frank_here")

    async def scenario():
        async with Bot(sandbox, live_server, tmp_path) as bot:
            await bot.know(chat.id, group.pk)
            change, service = join(world, chat, joiner)
            first, second = (change, update_of(world, service, update_id=10 ** 6))
            if order == "service_message_first":
                first, second = second, first
            await bot.handle(first)
            await bot.handle(second)
            await bot.settle()
            change, _ = join(world, chat, fine)
            await bot.handle(change)
            await bot.settle()
            return service

    service = run(scenario)
    assert world.member(world.chat(chat.id), joiner.id).status == "kicked"
    [record] = records(group, "blocklist")
    assert (record.type, record.target.telegram_user_id) == ("ban", joiner.id)
    assert not present(world, chat, service.message_id)  # the join message goes, whichever telling came first
    texts = bot_texts(world, chat)
    assert [text for text in texts if "how are you" in text] == ["Hey Frank, how are you?"], texts


def test_a_bot_added_told_only_by_a_chat_member_update_is_removed(world, sandbox, live_server, tmp_path):
    chat, group = core_group(world, locks={"bot": {"mode": "delete"}})
    spam_bot = world.create_user("Spam bot", username="spam_helper_bot", is_bot=True)

    async def scenario():
        async with Bot(sandbox, live_server, tmp_path) as bot:
            await bot.know(chat.id, group.pk)
            change, service = join(world, chat, spam_bot, by="dave")
            await bot.handle(change)
            await bot.settle()
            removed = world.member(world.chat(chat.id), spam_bot.id).status
            await bot.handle(update_of(world, service, update_id=10 ** 6))  # its service message, later
            await bot.settle()
            return service, removed

    service, removed = run(scenario)
    assert removed in ("left", "kicked")  # by the chat_member update alone
    [record] = records(group, "locks")
    assert (record.target.telegram_user_id, record.status) == (PEOPLE["dave"], "executed")
    assert not present(world, chat, service.message_id)


def test_a_member_who_left_and_comes_back_is_checked_again(world, sandbox, live_server, tmp_path):
    chat, group = core_group(world, blocklist=[{"pattern": "casino", "mode": "kick"}], blocklist_joiner_names=True)
    joiner = world.create_user("Casino", last_name="Kid", username="casino_kid")

    async def scenario():
        async with Bot(sandbox, live_server, tmp_path) as bot:
            await bot.know(chat.id, group.pk)
            for _ in range(2):
                before = len(world.bot().updates)
                change, _ = join(world, chat, joiner)
                await bot.handle(change)
                await bot.settle()
                # The kick's own tellings (chat_member updates of the ban and the unban) reach the bot.
                for update in world.bot().updates[before:]:
                    if "chat_member" in update and update is not change:
                        await bot.handle(update)

    run(scenario)
    assert world.member(world.chat(chat.id), joiner.id).status == "left"
    assert [r.type for r in records(group, "blocklist")] == ["kick", "kick"]
