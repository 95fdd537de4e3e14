"""A member named by @username whose first message the bot has seen but not yet delivered to core: the command
delivers what the bot recorded and asks core again, instead of answering that it has never seen them write."""

import asyncio

import pytest

from apps.moderation.models import ModerationAction
from apps.users.models import User

from .content_harness import Bot, bot_texts, core_group, sandbox_fixtures, update_of

pytestmark = pytest.mark.django_db(transaction=True)

sandbox, world = sandbox_fixtures()


def test_a_member_whose_first_message_is_still_in_the_outbox_is_named_by_username(world, sandbox, live_server,
                                                                                   tmp_path):
    chat, group = core_group(world)
    # An id and name of their own: a core write of an earlier test's bot that was still under way when its database
    # was flushed may leave that test's sandbox users behind.
    newcomer = world.create_user("Eve", username="evelyn", user_id=424_242_001)
    world.add_member(chat, newcomer)

    async def main():
        async with Bot(sandbox, live_server, tmp_path) as bot:
            await bot.know(chat.id, group.pk)
            # The shipper's own rounds stopped: the newcomer's message stays in the outbox until someone asks.
            await bot.data.shipper.stop()
            hello = world.send_message(chat, "evelyn", "hello everyone")
            await bot.webhook(update_of(world, hello, update_id=1))
            assert not await User.objects.filter(telegram_user_id=newcomer.id).aexists()
            before = len(bot_texts(world, chat))
            command = world.send_message(chat, "bob_mod", "/tmute @evelyn 10m calm down")
            await bot.handle(update_of(world, command, update_id=2))
            await bot.settle()
            return bot_texts(world, chat)[before:]

    replies = asyncio.run(main())
    assert replies == ["@evelyn is muted for 10 minutes."]
    assert world.member(chat, newcomer.id).status == "restricted"
    action = ModerationAction.objects.get(target__telegram_user_id=newcomer.id)
    assert (action.type, action.status) == ("mute", "executed")


def test_a_username_nobody_has_used_is_still_unknown_after_the_delivery(world, sandbox, live_server, tmp_path):
    chat, group = core_group(world)

    async def main():
        async with Bot(sandbox, live_server, tmp_path) as bot:
            await bot.know(chat.id, group.pk)
            before = len(bot_texts(world, chat))
            command = world.send_message(chat, "bob_mod", "/tmute @nobody_here 10m")
            await bot.handle(update_of(world, command, update_id=1))
            await bot.settle()
            return bot_texts(world, chat)[before:]

    assert asyncio.run(main()) == [
        "I haven't seen @nobody_here write yet, so I can't tell who that is. Reply to one of their messages with "
        "the command, or name them by their numeric Telegram id."]
    assert not ModerationAction.objects.exists()
