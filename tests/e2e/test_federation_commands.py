"""The /fed... commands through the real platform (core, the Telegram sandbox and the bot as processes, the bot on its
webhook): a federation created in private, joined by two groups' owner, an fban by a promoted admin answered at once
with how far it reaches (and carried to both chats by the bot's propagation worker), its unfban likewise, /fbanlist
as a file uploaded over multipart (read back from the sandbox), refusals naming the permission, and /delfed confirmed
with the owner's press on a button."""

from __future__ import annotations

import csv
import io
import itertools
import uuid

import pytest

from apps.coreclient import CoreError

from .conftest import BOT

pytestmark = pytest.mark.e2e
_numbers = itertools.count(1)


def fresh_user(platform) -> str:
    username = f"f{next(_numbers)}_{uuid.uuid4().hex[:8]}"
    platform.telegram.create_user(username.capitalize(), username=username)
    return username


def in_private(platform, username: str, text: str, *, wait: float = 6.0) -> list[dict]:
    """`username` writes `text` to the bot in private; the bot's answers to it."""
    before = platform.telegram.messages(BOT, user=username)
    since = before[-1]["message_id"] if before else 0
    platform.telegram.send_message(BOT, username, text)

    def answers():
        found = platform.telegram.messages(BOT, since_id=since, sender=BOT, user=username, wait=0.3, count=1)
        return [message for message in found if not message.get("text", "").startswith("Hi!")]  # /start's greeting
    return platform.wait_for(answers, f"the bot's answer to {text}", timeout=wait)


def in_group(platform, chat, username: str, text: str, *, reply_to=None) -> str:
    _, replies = platform.say(chat["id"], username, text, reply_to=reply_to, wait=6.0)
    return "\n".join(replies)


def telegram_id(platform, chat, username: str) -> int:
    return platform.telegram.member(chat["id"], username)["user"]["id"]


def test_a_federation_through_the_platform(platform):
    admin = fresh_user(platform)
    chat = platform.new_group(members=("carol", "dave", "spammer", admin))
    # The group's creator is alice; she joins it to a federation she creates.
    platform.telegram.start_bot("alice")
    created = in_private(platform, "alice", "/newfed E2E <Watch>")
    assert created and "Created new federation E2E <Watch>" in created[0]["text"], created
    fed = created[0]["text"].split("FedID: ", 1)[1].split()[0]

    assert "BAN_LIST_SUBSCRIBE" in in_group(platform, chat, "dave", f"/joinfed {fed}")
    assert "Successfully joined the federation E2E <Watch>" in in_group(platform, chat, "alice", f"/joinfed {fed}")

    spammer = telegram_id(platform, chat, "spammer")
    refused = in_group(platform, chat, admin, f"/fban {spammer} spam")
    assert "BAN_LIST_BAN" in refused
    said, _ = platform.say(chat["id"], admin, "hi")
    assert "now an admin of E2E <Watch>" in in_group(platform, chat, "alice", "/fedpromote",
                                                    reply_to=said["message_id"])

    other = platform.new_group(members=("carol", "spammer"))
    assert "Successfully joined" in in_group(platform, other, "alice", f"/joinfed {fed}")
    banned = in_group(platform, chat, admin, f"/fban {spammer} sells <fake> & spams")
    assert banned.startswith("New FedBan"), banned
    assert "Reason: sells <fake> & spams" in banned and "Banning them in 2 chats" in banned
    assert platform.api.user_ban_lists(telegram_user_id=spammer)["bans"][0]["ban_list"]["id"] == fed
    # The answer came at once; the propagation worker bans them in both chats.
    for group in (chat, other):
        platform.wait_for(lambda group=group: platform.telegram.member(group["id"], "spammer")["status"] == "kicked",
                          "the fban to reach every chat of the federation", timeout=15)

    mark = platform.call_mark()
    platform.telegram.send_message(chat["id"], "alice", "/fbanlist csv")
    sent = platform.wait_for(lambda: [call for call in platform.calls("sendDocument", since=mark) if call["ok"]],
                             "the ban list's file", timeout=10)
    document = sent[0]["result"]
    assert document["document"]["file_name"] == f"fbanlist-{fed}.csv"
    rows = list(csv.DictReader(io.StringIO(platform.telegram.document_text(document))))
    assert [(row["telegram_user_id"], row["reason"]) for row in rows] == [(str(spammer), "sells <fake> & spams")]
    assert "BAN_LIST_VIEW" in in_group(platform, chat, "carol", "/fbanlist")

    stat = in_group(platform, chat, "carol", f"/fedstat {spammer}")
    assert "is banned in 1 federation" in stat and "sells <fake> & spams" in stat
    unbanned = in_group(platform, chat, admin, f"/unfban {spammer} appeal accepted")
    assert unbanned.startswith("New un-FedBan"), unbanned
    assert "Unbanning them in 2 chats" in unbanned
    assert platform.api.user_ban_lists(telegram_user_id=spammer)["bans"] == []
    for group in (chat, other):
        platform.wait_for(lambda group=group: platform.telegram.member(group["id"], "spammer")["status"] != "kicked",
                          "the unfban to reach every chat of the federation", timeout=15)

    asked = in_private(platform, "alice", f"/delfed {fed}")
    assert "Are you sure" in asked[0]["text"]
    buttons = [button for row in asked[0]["reply_markup"]["inline_keyboard"] for button in row]
    confirm = next(button["callback_data"] for button in buttons if button["text"].startswith("Delete"))
    press = platform.telegram.press_button(BOT, asked[0]["message_id"], "alice", confirm)
    answered = platform.telegram.callback_answer(press["id"], wait=6)
    assert answered["answered"], answered
    with pytest.raises(CoreError) as gone:
        platform.api.ban_list_get(fed)
    assert gone.value.code == "not_found"
    assert "I don't know a federation" in in_private(platform, "alice", f"/fedinfo {fed}")[0]["text"]
