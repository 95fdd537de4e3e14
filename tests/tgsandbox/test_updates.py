"""Updates as Telegram produces them: long polling, offsets, allowed_updates, privacy mode,
chat_member/my_chat_member objects PTB can parse, anonymous admins, service messages, callbacks."""

import asyncio
import threading
import time

import pytest
import telegram
from telegram.constants import ChatMemberStatus
from telegram.error import BadRequest, Conflict

from tests.tgsandbox.conftest import telegram_error
from tgsandbox.errors import SandboxError
from tgsandbox.world.model import ANONYMOUS_ADMIN_ID

pytestmark = pytest.mark.anyio


async def test_long_polling_returns_as_soon_as_a_message_arrives(demo):
    async with demo.bot() as bot:
        loop = asyncio.get_running_loop()
        loop.call_later(0.2, demo.world.send_message, demo.group, demo.carol, "hello bot")
        started = time.monotonic()
        updates = await bot.get_updates(timeout=5)
        elapsed = time.monotonic() - started
        assert 0.15 < elapsed < 2
        assert [u.message.text for u in updates] == ["hello bot"]
        assert updates[0].message.from_user.username == "carol"
        started = time.monotonic()
        assert await bot.get_updates(offset=updates[0].update_id + 1, timeout=1) == ()
        assert 0.9 < time.monotonic() - started < 2


async def test_offsets_limits_and_negative_offset(demo):
    for text in ("one", "two", "three", "four"):
        demo.world.send_message(demo.group, demo.carol, text)
    async with demo.bot() as bot:
        first = await bot.get_updates(limit=2)
        assert [u.message.text for u in first] == ["one", "two"]
        rest = await bot.get_updates(offset=first[-1].update_id + 1)
        assert [u.message.text for u in rest] == ["three", "four"]
        assert [u.message.text for u in await bot.get_updates(offset=-1)] == ["four"]
        assert [u.message.text for u in await bot.get_updates()] == ["four"]  # earlier ones are forgotten


async def test_bot_commands_and_mentions_carry_entities(demo):
    demo.world.send_message(demo.group, demo.bob, "/ban @spammer flooding the chat")
    async with demo.bot() as bot:
        message = (await bot.get_updates())[0].message
    entities = message.parse_entities()
    assert list(entities.values()) == ["/ban", "@spammer"]
    assert [e.type for e in entities] == ["bot_command", "mention"]


async def test_chat_member_updates_need_admin_and_allowed_updates_and_parse(demo):
    world = demo.world
    world.add_member(demo.group, world.create_user("Newbie", username="newbie"))
    async with demo.bot() as bot:
        default = await bot.get_updates()  # no chat_member without asking for it
        assert [u.message.new_chat_members[0].username for u in default] == ["newbie"]
        await bot.get_updates(offset=default[-1].update_id + 1, allowed_updates=["message", "chat_member"])
        world.promote(demo.group, demo.carol, rights={"can_delete_messages": True}, custom_title="Helper")
        world.restrict(demo.group, demo.dave, permissions={"can_send_messages": True},
                       until_date=world.now() + 3600)
        world.remove_member(demo.group, demo.spammer, by=demo.bob)
        raw = [dict(u) for u in world.bot().updates]
        updates = [telegram.Update.de_json(u, bot) for u in raw]
    changes = [u.chat_member for u in updates if u.chat_member]
    assert [type(c.new_chat_member) for c in changes] == [
        telegram.ChatMemberAdministrator, telegram.ChatMemberRestricted, telegram.ChatMemberLeft]
    promoted, restricted, removed = changes
    assert (promoted.from_user.username, promoted.new_chat_member.custom_title,
            promoted.new_chat_member.can_delete_messages, promoted.new_chat_member.can_restrict_members) == (
        "alice", "Helper", True, False)
    assert (restricted.new_chat_member.is_member, restricted.new_chat_member.can_send_messages,
            restricted.new_chat_member.can_send_photos) == (True, True, False)
    assert (removed.from_user.username, removed.old_chat_member.status) == ("bob_mod", ChatMemberStatus.MEMBER)
    left = [u.message for u in updates if u.message and u.message.left_chat_member]
    assert left[0].left_chat_member.username == "spammer"


async def test_my_chat_member_when_the_bot_is_demoted_and_re_added(demo):
    world = demo.world
    async with demo.bot() as bot:
        world.promote(demo.group, world.bot().user, rights={})
        world.remove_member(demo.group, world.bot().user, by=demo.alice)
        world.add_member(demo.group, world.bot().user, by=demo.alice)
        updates = await bot.get_updates()
    changes = [(u.my_chat_member.old_chat_member.status, u.my_chat_member.new_chat_member.status)
               for u in updates if u.my_chat_member]
    assert changes == [(ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.MEMBER),
                       (ChatMemberStatus.MEMBER, ChatMemberStatus.LEFT),
                       (ChatMemberStatus.LEFT, ChatMemberStatus.MEMBER)]
    joined = [u.message for u in updates if u.message and u.message.new_chat_members]
    assert joined[0].new_chat_members[0].id == demo.bot_id


async def test_privacy_mode_in_groups_where_the_bot_is_not_admin(demo):
    world = demo.world
    async with demo.bot() as bot:
        sent = await bot.send_message(demo.basic.id, "Say /help for help")
        world.send_message(demo.basic, demo.carol, "chatting among people")
        world.send_message(demo.basic, demo.carol, "/help")
        world.send_message(demo.basic, demo.carol, "/help@some_other_bot")
        world.send_message(demo.basic, demo.carol, "/rules@sandbox_mod_bot")
        world.send_message(demo.basic, demo.carol, "thanks!", reply_to=sent.message_id)
        world.add_member(demo.basic, demo.dave, by=demo.alice)
        seen = [u.message.text or "<join>" for u in await bot.get_updates()]
        assert seen == ["/help", "/rules@sandbox_mod_bot", "thanks!", "<join>"]
        world.set_privacy(world.bot(), can_read_all_group_messages=True)
        world.send_message(demo.basic, demo.carol, "now you hear everything")
        assert (await bot.get_updates(offset=-1))[0].message.text == "now you hear everything"


async def test_anonymous_admins_post_as_the_group(demo):
    world = demo.world
    world.promote(demo.group, demo.bob, rights={"can_restrict_members": True}, custom_title="Mod",
                  is_anonymous=True)
    world.send_message(demo.group, demo.bob, "/ban @spammer")
    world.send_anonymous(demo.group, demo.alice, "owner speaking")
    async with demo.bot() as bot:
        bob, alice = (u.message for u in await bot.get_updates())
    for message in (bob, alice):
        assert message.from_user.id == ANONYMOUS_ADMIN_ID and message.from_user.username == "GroupAnonymousBot"
        assert message.sender_chat.id == demo.group.id
    assert bob.author_signature == "Mod"
    with pytest.raises(SandboxError, match="only administrators"):
        world.send_anonymous(demo.group, demo.carol, "me too")


async def test_edits_and_callback_queries(demo):
    world = demo.world
    message = world.send_message(demo.group, demo.carol, "typo")
    keyboard = telegram.InlineKeyboardMarkup([[telegram.InlineKeyboardButton("Unmute", callback_data="unmute:1")]])
    async with demo.bot() as bot:
        prompt = await bot.send_message(demo.group.id, "Muted.", reply_markup=keyboard)
        world.edit_message(demo.group, message.message_id, "fixed", user=demo.carol)
        world.press_button(demo.group, prompt.message_id, demo.bob, "unmute:1")
        updates = await bot.get_updates()
        edited, pressed = updates[-2].edited_message, updates[-1].callback_query
        assert (edited.text, edited.message_id, edited.edit_date is not None) == ("fixed", message.message_id, True)
        assert (pressed.data, pressed.from_user.username, pressed.message.message_id) == (
            "unmute:1", "bob_mod", prompt.message_id)
        assert await pressed.answer("Done", show_alert=True) is True
        with telegram_error(BadRequest, "Query is too old and response timeout expired or query id is invalid"):
            await pressed.answer("again")


async def test_get_updates_conflicts(demo, receiver):
    async with demo.bot() as first, demo.bot() as second:
        waiting = asyncio.create_task(first.get_updates(timeout=5))
        await asyncio.sleep(0.2)
        assert await second.get_updates() == ()
        with telegram_error(Conflict, "Conflict: terminated by other getUpdates request; make sure that only one "
                                      "bot instance is running"):
            await waiting
        await first.set_webhook(receiver.url)
        with telegram_error(Conflict, "Conflict: can't use getUpdates method while webhook is active; use "
                                      "deleteWebhook to delete the webhook first"):
            await first.get_updates()
        await first.delete_webhook()
        assert await first.get_updates() == ()


async def test_concurrent_bot_calls_and_people_keep_the_world_consistent(demo):
    demo.world.set_rate_limits(enabled=False)

    def people_talk():
        for n in range(40):
            demo.world.send_message(demo.group, demo.carol, f"person {n}")

    talker = threading.Thread(target=people_talk)
    async with demo.bot() as bot:
        talker.start()
        sent = await asyncio.gather(*(bot.send_message(demo.group.id, f"bot {n}") for n in range(40)))
        talker.join()
        updates = await bot.get_updates()
    ids = [m.message_id for m in demo.world.messages(demo.group)]
    assert len(ids) == len(set(ids)) and {m.message_id for m in sent} <= set(ids)
    assert [u.message.text for u in updates] == [f"person {n}" for n in range(40)]
