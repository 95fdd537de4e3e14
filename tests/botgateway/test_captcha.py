"""The bot's pure parts of join verification: the buttons' callback data, the keyboard, telling a join from a leave,
and recognising the second telling of one join (a chat_member update and a service message)."""

import inspect
from datetime import UTC, datetime, timedelta

import pytest
from telegram import Chat as TelegramChat
from telegram import ChatMemberBanned, ChatMemberLeft, ChatMemberMember, ChatMemberRestricted, ChatMemberUpdated, User

from apps.botgateway.context import BotData
from apps.botgateway.protection import captcha, joins

USER = User(7_000_001, "Eve <script>", is_bot=False)
NOW = datetime.now(UTC)


def challenge(options, *, id="6b0fbcb1da6c6a2cfe69cf31", round=4_294_967_295, mode="emoji"):
    return {"id": id, "round": round, "options": options, "mode": mode, "question": "Press the <cat>.",
            "max_attempts": 3, "failure_action": "kick",
            "expires_at": (datetime.now(UTC) + timedelta(seconds=125)).isoformat()}


def test_callback_data_fits_telegrams_64_bytes_and_reads_back():
    longest = challenge([str(index) for index in range(6)])
    for index in range(6):
        data = captcha.callback_data(longest, index)
        assert len(data.encode()) <= 64
        assert captcha.parse_callback(data) == (longest["id"], longest["round"], str(index))


@pytest.mark.parametrize("data", [None, "", "cap:1:2", "cap:1:x:0", "cap:1:1:-1", "ban:1:1:0", "cap:1:1:0:9"])
def test_other_callback_data_is_not_a_challenge_press(data):
    assert captcha.parse_callback(data) is None


@pytest.mark.parametrize(("count", "rows"), [(1, [1]), (4, [4]), (6, [3, 3])])
def test_the_keyboard_has_one_button_per_option(count, rows):
    options = [f"option {index}" for index in range(count)]
    markup = captcha.keyboard(challenge(options, round=2))
    assert [len(row) for row in markup.inline_keyboard] == rows
    buttons = [button for row in markup.inline_keyboard for button in row]
    assert [button.text for button in buttons] == options
    assert [button.callback_data.rsplit(":", 1)[1] for button in buttons] == [str(i) for i in range(count)]


def test_the_question_names_the_member_escaped_and_the_time_left():
    text = captcha.question_text(challenge(["🐶", "🐱"]), USER)
    assert "Eve &lt;script&gt;" in text and "<script>" not in text
    assert "Press the &lt;cat&gt;." in text
    assert "3 tries" in text and "2 minutes" in text and "removed" in text


def change(old, new) -> ChatMemberUpdated:
    chat = TelegramChat(-100123, TelegramChat.SUPERGROUP)
    return ChatMemberUpdated(chat, USER, NOW, old, new)


def restricted(is_member: bool) -> ChatMemberRestricted:
    """Every permission off (whatever this python-telegram-bot version lists)."""
    names = [name for name in inspect.signature(ChatMemberRestricted).parameters if name.startswith("can_")]
    return ChatMemberRestricted(USER, is_member=is_member, until_date=None, **dict.fromkeys(names, False))


@pytest.mark.parametrize(("old", "new", "kind"), [
    (ChatMemberLeft(USER), ChatMemberMember(USER), joins.JOIN),
    (ChatMemberBanned(USER, until_date=None), ChatMemberMember(USER), joins.JOIN),
    (ChatMemberLeft(USER), restricted(True), joins.JOIN),  # a restriction outlives leaving: back, still restricted
    (restricted(False), restricted(True), joins.JOIN),
    (ChatMemberMember(USER), restricted(True), None),  # restricted in place (captcha's own restriction)
    (restricted(True), ChatMemberMember(USER), None),  # lifted
    (ChatMemberMember(USER), ChatMemberLeft(USER), joins.LEAVE),
    (restricted(True), ChatMemberBanned(USER, until_date=None), joins.LEAVE),
    (restricted(True), restricted(False), joins.LEAVE),
    (ChatMemberBanned(USER, until_date=None), ChatMemberLeft(USER), None),  # the unban after a kick
])
def test_a_chat_member_update_is_a_join_a_leave_or_neither(old, new, kind):
    assert joins.member_change(change(old, new)) == kind


def test_the_second_telling_of_a_join_or_leave_is_recognised():
    data = BotData()
    told = [joins.first_sight(data, -100123, USER.id, kind)
            for kind in (joins.JOIN, joins.JOIN, joins.LEAVE, joins.LEAVE, joins.JOIN)]
    assert told == [True, False, True, False, True]
    assert joins.first_sight(data, -100999, USER.id, joins.JOIN) is True  # another chat: its own event
