"""The bot's memory of who owns a chat: kept across commands, dropped when ownership moves."""

from datetime import UTC, datetime

from telegram import (
    Chat,
    ChatMemberAdministrator,
    ChatMemberBanned,
    ChatMemberMember,
    ChatMemberOwner,
    ChatMemberUpdated,
    User,
)

from apps.botgateway.context import BotData
from apps.botgateway.flows import forget_owner_verdict

CHAT = Chat(-1001, "supergroup", title="Group")
ALICE, BOB = User(1, "Alice", False), User(2, "Bob", False)


def _admin(user):
    return ChatMemberAdministrator(user, can_be_edited=False, is_anonymous=False, can_manage_chat=True,
                                   can_delete_messages=True, can_manage_video_chats=False,
                                   can_restrict_members=True, can_promote_members=False, can_change_info=False,
                                   can_invite_users=True, can_post_stories=False, can_edit_stories=False,
                                   can_delete_stories=False)


def _change(old, new):
    return ChatMemberUpdated(CHAT, ALICE, datetime.now(UTC), old, new)


def test_only_a_change_of_ownership_drops_the_verdict():
    data = BotData()
    data.owners[(CHAT.id, BOB.id)] = False
    data.owners[(CHAT.id, ALICE.id)] = True
    banned = ChatMemberBanned(BOB, datetime.now(UTC))
    forget_owner_verdict(data, CHAT.id, _change(ChatMemberMember(BOB), banned))  # a ban: no change of owner
    forget_owner_verdict(data, CHAT.id, _change(ChatMemberMember(BOB), _admin(BOB)))  # a promotion: no change
    assert set(data.owners) == {(CHAT.id, BOB.id), (CHAT.id, ALICE.id)}

    # Alice hands the group to Bob: one update for each of them.
    forget_owner_verdict(data, CHAT.id, _change(_admin(BOB), ChatMemberOwner(BOB, False)))
    assert (CHAT.id, BOB.id) not in data.owners
    forget_owner_verdict(data, CHAT.id, _change(ChatMemberOwner(ALICE, False), _admin(ALICE)))
    assert data.owners == {}
