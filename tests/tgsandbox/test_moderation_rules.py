"""Telegram's moderation rules as a bot meets them: rights, owners and admins, basic groups vs
supergroups, until_date, the 48-hour deletion window, kicked bots, upgraded groups."""

import time

import pytest
import telegram
from telegram.constants import ChatMemberStatus
from telegram.error import BadRequest, ChatMigrated, Forbidden

from tests.tgsandbox.conftest import telegram_error
from tgsandbox.errors import SandboxError
from tgsandbox.world.model import ALL_RIGHTS

pytestmark = pytest.mark.anyio
NO_RESTRICT = "Not enough rights to restrict/unrestrict chat member"


def strip_bot_rights(demo, **rights):
    """The owner changes the bot's admin rights (default: none but can_manage_chat)."""
    demo.world.promote(demo.group, demo.world.bot().user, rights={"can_manage_chat": True, **rights})


async def test_ban_a_member_removes_them_and_tells_admin_bots(demo):
    async with demo.bot() as bot:
        await bot.get_updates(allowed_updates=["message", "chat_member"])
        assert await bot.ban_chat_member(demo.group.id, demo.spammer.id) is True
        member = await bot.get_chat_member(demo.group.id, demo.spammer.id)
        updates = await bot.get_updates()
    assert isinstance(member, telegram.ChatMemberBanned)
    change = updates[0].chat_member
    assert (change.from_user.id, change.old_chat_member.status, change.new_chat_member.status) == (
        demo.bot_id, ChatMemberStatus.MEMBER, ChatMemberStatus.BANNED)
    with pytest.raises(SandboxError, match="not a member"):
        demo.world.send_message(demo.group, demo.spammer, "let me back in")
    with pytest.raises(SandboxError, match="banned"):
        demo.world.add_member(demo.group, demo.spammer)
    service = demo.world.messages(demo.group)[-1]
    assert (service.from_id, service.service) == (demo.bot_id, {"left_chat_member": demo.spammer.id})


async def test_owner_and_foreign_admins_are_protected(demo):
    async with demo.bot() as bot:
        with telegram_error(BadRequest, "Can't remove chat owner"):
            await bot.ban_chat_member(demo.group.id, demo.alice.id)
        with telegram_error(BadRequest, "Can't remove chat owner"):
            await bot.restrict_chat_member(demo.group.id, demo.alice.id, telegram.ChatPermissions.no_permissions())
        with telegram_error(BadRequest, "User is an administrator of the chat"):
            await bot.ban_chat_member(demo.group.id, demo.bob.id)  # bob was promoted by alice
        with telegram_error(BadRequest, "Can't restrict self"):
            await bot.restrict_chat_member(demo.group.id, demo.bot_id, telegram.ChatPermissions.no_permissions())
        with telegram_error(BadRequest, "Chat_admin_required"):
            await bot.promote_chat_member(demo.group.id, demo.bob.id, can_delete_messages=True)
        # an admin the bot promoted itself can be edited, restricted and banned by it
        await bot.promote_chat_member(demo.group.id, demo.carol.id, can_delete_messages=True)
        carol = await bot.get_chat_member(demo.group.id, demo.carol.id)
        assert isinstance(carol, telegram.ChatMemberAdministrator)
        assert (carol.can_be_edited, carol.can_manage_chat, carol.can_restrict_members) == (True, True, False)
        assert await bot.set_chat_administrator_custom_title(demo.group.id, demo.carol.id, "Janitor") is True
        with telegram_error(BadRequest, "Not enough rights to change custom title of the user"):
            await bot.set_chat_administrator_custom_title(demo.group.id, demo.bob.id, "Boss")
        assert await bot.ban_chat_member(demo.group.id, demo.carol.id) is True


async def test_without_rights_the_bot_is_refused(demo):
    strip_bot_rights(demo, can_delete_messages=True)
    message = demo.world.send_message(demo.group, demo.spammer, "spam")
    async with demo.bot() as bot:
        with telegram_error(BadRequest, NO_RESTRICT):
            await bot.ban_chat_member(demo.group.id, demo.spammer.id)
        with telegram_error(BadRequest, NO_RESTRICT):
            await bot.restrict_chat_member(demo.group.id, demo.spammer.id, telegram.ChatPermissions.no_permissions())
        with telegram_error(BadRequest, NO_RESTRICT):
            await bot.unban_chat_member(demo.group.id, demo.spammer.id)
        with telegram_error(BadRequest, "Not enough rights"):
            await bot.promote_chat_member(demo.group.id, demo.carol.id, can_pin_messages=True)
        with telegram_error(BadRequest, "Not enough rights to manage pinned messages in the chat"):
            await bot.pin_chat_message(demo.group.id, message.message_id)
        assert await bot.delete_message(demo.group.id, message.message_id) is True
        strip_bot_rights(demo)
        other = demo.world.send_message(demo.group, demo.spammer, "more spam")
        with telegram_error(BadRequest, "Message can't be deleted"):
            await bot.delete_message(demo.group.id, other.message_id)
        with telegram_error(BadRequest, "Message can't be deleted"):
            await bot.delete_messages(demo.group.id, [other.message_id])
        own = await bot.send_message(demo.group.id, "mine")
        assert await bot.delete_message(demo.group.id, own.message_id) is True  # own messages always
        strip_bot_rights(demo, can_promote_members=True)
        with telegram_error(BadRequest, "Right_forbidden"):
            await bot.promote_chat_member(demo.group.id, demo.carol.id, can_restrict_members=True)


async def test_restrict_until_date_rules_and_expiry(demo):
    world, now = demo.world, demo.world.now()
    async with demo.bot() as bot:
        muted = telegram.ChatPermissions.no_permissions()
        await bot.restrict_chat_member(demo.group.id, demo.spammer.id, muted, until_date=now + 10)
        forever = await bot.get_chat_member(demo.group.id, demo.spammer.id)
        await bot.restrict_chat_member(demo.group.id, demo.dave.id, muted, until_date=now + 400 * 86400)
        also_forever = await bot.get_chat_member(demo.group.id, demo.dave.id)
        await bot.restrict_chat_member(demo.group.id, demo.carol.id, muted, until_date=now + 3600)
        for_an_hour = await bot.get_chat_member(demo.group.id, demo.carol.id)
        assert isinstance(for_an_hour, telegram.ChatMemberRestricted)
        assert (for_an_hour.is_member, for_an_hour.can_send_messages, for_an_hour.can_send_photos) == (
            True, False, False)
        assert int(for_an_hour.until_date.timestamp()) == now + 3600
        assert int(forever.until_date.timestamp()) == int(also_forever.until_date.timestamp()) == 0
        with pytest.raises(SandboxError, match="restricted"):
            world.send_message(demo.group, demo.carol, "can I talk?")
        world.advance_time(3601)
        assert isinstance(await bot.get_chat_member(demo.group.id, demo.carol.id), telegram.ChatMemberMember)
        assert isinstance(await bot.get_chat_member(demo.group.id, demo.spammer.id), telegram.ChatMemberRestricted)
        world.send_message(demo.group, demo.carol, "free again")
        # all permissions lift the restriction; legacy permissions imply can_send_messages
        await bot.restrict_chat_member(demo.group.id, demo.spammer.id, telegram.ChatPermissions.all_permissions())
        assert isinstance(await bot.get_chat_member(demo.group.id, demo.spammer.id), telegram.ChatMemberMember)
        await bot.restrict_chat_member(demo.group.id, demo.dave.id, telegram.ChatPermissions(can_send_polls=True))
        dave = await bot.get_chat_member(demo.group.id, demo.dave.id)
        assert (dave.can_send_messages, dave.can_send_polls, dave.can_send_photos) == (True, True, False)
        await bot.restrict_chat_member(demo.group.id, demo.dave.id, telegram.ChatPermissions(can_send_polls=True),
                                       use_independent_chat_permissions=True)
        dave = await bot.get_chat_member(demo.group.id, demo.dave.id)
        assert (dave.can_send_messages, dave.can_send_polls) == (False, True)


async def test_ban_with_until_date_expires(demo):
    async with demo.bot() as bot:
        until = demo.world.now() + 120
        await bot.ban_chat_member(demo.group.id, demo.spammer.id, until_date=until)
        banned = await bot.get_chat_member(demo.group.id, demo.spammer.id)
        assert int(banned.until_date.timestamp()) == until
        demo.world.advance_time(121)
        assert isinstance(await bot.get_chat_member(demo.group.id, demo.spammer.id), telegram.ChatMemberLeft)
    demo.world.add_member(demo.group, demo.spammer)  # may rejoin


async def test_unban_kicks_members_unless_only_if_banned(demo):
    async with demo.bot() as bot:
        assert await bot.unban_chat_member(demo.group.id, demo.dave.id, only_if_banned=True) is True
        assert isinstance(await bot.get_chat_member(demo.group.id, demo.dave.id), telegram.ChatMemberMember)
        assert await bot.unban_chat_member(demo.group.id, demo.dave.id) is True  # Telegram's trap: a kick
        assert isinstance(await bot.get_chat_member(demo.group.id, demo.dave.id), telegram.ChatMemberLeft)
        await bot.ban_chat_member(demo.group.id, demo.spammer.id)
        assert await bot.unban_chat_member(demo.group.id, demo.spammer.id, only_if_banned=True) is True
        assert isinstance(await bot.get_chat_member(demo.group.id, demo.spammer.id), telegram.ChatMemberLeft)
    demo.world.add_member(demo.group, demo.spammer)


async def test_basic_groups_differ_from_supergroups(demo):
    demo.world.add_member(demo.basic, demo.spammer, by=demo.carol)
    async with demo.bot() as bot:
        with telegram_error(BadRequest, "Method is available only for supergroups"):
            await bot.restrict_chat_member(demo.basic.id, demo.spammer.id, telegram.ChatPermissions.no_permissions())
        with telegram_error(BadRequest, "Method is available for supergroup and channel chats only"):
            await bot.unban_chat_member(demo.basic.id, demo.spammer.id)
        with telegram_error(BadRequest, "Method is available for supergroup and channel chats only"):
            await bot.promote_chat_member(demo.basic.id, demo.spammer.id, can_pin_messages=True)
        with telegram_error(BadRequest, "Need to be inviter of a user to kick it from a basic group"):
            await bot.ban_chat_member(demo.basic.id, demo.spammer.id)
        message = demo.world.send_message(demo.basic, demo.spammer, "/start spam")
        with telegram_error(BadRequest, "Message can't be deleted for everyone"):
            await bot.delete_message(demo.basic.id, message.message_id)
        with telegram_error(BadRequest, "Not enough rights to manage pinned messages in the chat"):
            await bot.pin_chat_message(demo.basic.id, message.message_id)
        demo.world.promote(demo.basic, demo.world.bot().user)  # any admin of a basic group can do it all
        assert await bot.delete_message(demo.basic.id, message.message_id) is True
        with telegram_error(BadRequest, "Only the creator of a basic group can kick group administrators"):
            await bot.ban_chat_member(demo.basic.id, demo.alice.id)
        assert await bot.ban_chat_member(demo.basic.id, demo.spammer.id) is True
        assert isinstance(await bot.get_chat_member(demo.basic.id, demo.spammer.id), telegram.ChatMemberLeft)


async def test_48_hour_deletion_window(demo):
    old = demo.world.send_message(demo.group, demo.spammer, "old spam")
    demo.world.advance_time(48 * 3600 + 1)
    fresh = demo.world.send_message(demo.group, demo.spammer, "new spam")
    async with demo.bot() as bot:
        with telegram_error(BadRequest, "Message can't be deleted"):
            await bot.delete_message(demo.group.id, old.message_id)
        assert await bot.delete_messages(demo.group.id, [fresh.message_id, 99999]) is True  # missing ids skipped
    assert [m.message_id for m in demo.world.messages(demo.group, sender=demo.spammer)] == [old.message_id]


async def test_kicked_and_departed_bots_are_forbidden(demo):
    world = demo.world
    async with demo.bot() as bot:
        world.remove_member(demo.group, world.bot().user, by=demo.alice, ban=True)
        with telegram_error(Forbidden, "Forbidden: bot was kicked from the supergroup chat"):
            await bot.send_message(demo.group.id, "hello?")
        with telegram_error(Forbidden, "Forbidden: bot was kicked from the supergroup chat"):
            await bot.get_chat(demo.group.id)
        assert await bot.leave_chat(demo.basic.id) is True
        with telegram_error(Forbidden, "Forbidden: bot is not a member of the group chat"):
            await bot.send_message(demo.basic.id, "hello?")
        with telegram_error(Forbidden, "Forbidden: bot is not a member of the group chat"):
            await bot.get_chat_member_count(demo.basic.id)
        updates = await bot.get_updates()
    changes = [u.my_chat_member for u in updates if u.my_chat_member]
    assert [(c.chat.id, c.new_chat_member.status) for c in changes] == [
        (demo.group.id, ChatMemberStatus.BANNED), (demo.basic.id, ChatMemberStatus.LEFT)]


async def test_upgrade_to_supergroup_migrates_the_chat_id(demo):
    world = demo.world
    async with demo.bot() as bot:
        new = world.upgrade_group(demo.basic)
        assert str(new.id).startswith("-100") and new.type == "supergroup"
        with pytest.raises(ChatMigrated) as migrated:
            await bot.send_message(demo.basic.id, "hello")
        assert migrated.value.new_chat_id == new.id
        sent = await bot.send_message(new.id, "hello supergroup")
        assert sent.chat.type == "supergroup"
        updates = await bot.get_updates()
        info = await bot.get_chat(demo.basic.id)  # reading the old chat still works
    moves = [(u.message.chat.id, u.message.migrate_to_chat_id, u.message.migrate_from_chat_id)
             for u in updates if u.message]
    assert moves == [(demo.basic.id, new.id, None), (new.id, None, demo.basic.id)]
    assert info.type == "group"
    assert world.member(new, demo.alice.id).status == "creator"
    assert world.member(new, demo.carol.id).status == "member"


async def test_a_bot_promoted_with_all_rights_can_do_everything(demo):
    world = demo.world
    world.promote(demo.group, world.bot().user, rights=dict(ALL_RIGHTS))
    message = world.send_message(demo.group, demo.spammer, "pin me")
    async with demo.bot() as bot:
        started = time.monotonic()
        assert await bot.pin_chat_message(demo.group.id, message.message_id) is True
        assert (await bot.get_chat(demo.group.id)).pinned_message.message_id == message.message_id
        assert await bot.unpin_chat_message(demo.group.id) is True
        assert await bot.unpin_all_chat_messages(demo.group.id) is True
        assert await bot.set_chat_permissions(demo.group.id, telegram.ChatPermissions(can_send_messages=False))
        with pytest.raises(SandboxError, match="restricted"):
            world.send_message(demo.group, demo.carol, "hello?")
        world.send_message(demo.group, demo.bob, "admins still talk")
    assert time.monotonic() - started < 2
