"""Locks through the real platform (core, the Telegram sandbox, the bot as processes): every lock type, each with a
realistic message in Telegram's JSON (the sandbox's), is deleted by the bot and recorded in core as an automated
action of rule "locks"; admins and approved members are left alone (core refuses: exempt); an edit that breaks a lock
is caught like a new message; the modes (warn, mute, tmute, kick, ban, tban) act on the member as they say.

Several groups share one platform: the lock types are spread over a few groups so that in each group, each type's
message breaks only its own lock (a photo breaks "media" and "photo": they are tested in different groups)."""

from __future__ import annotations

import contextlib
import time

import pytest

from apps.common.contentrules import LOCK_TYPES
from apps.common.contentrules.locks import lock_kinds
from tgsandbox.errors import SandboxError

from .conftest import BOT
from .content_rules import (
    as_owner,
    exists,
    fresh_members,
    locked,
    record_for,
    records,
    rules_group,
    target_telegram_id,
    untouched,
    wait_deleted,
)

pytestmark = pytest.mark.e2e

GAME_BOT = "e2e_games_bot"
KEYBOARD = {"inline_keyboard": [[{"text": "Buy now", "url": "https://shop.example/deal"}]]}

# A realistic message for each lock type: what a member would post (send_message's arguments).
SAMPLES: dict[str, dict] = {
    "all": {"text": "good morning everyone"},
    "text": {"text": "just chatting about the weather"},
    "media": {"photo": True, "caption": "look at this"},
    "photo": {"photo": {"width": 1600, "height": 1200}, "caption": "holiday"},
    "video": {"video": True},
    "gif": {"animation": True},
    "sticker": {"sticker": True},
    "audio": {"audio": {"title": "Summer", "performer": "Band"}},
    "voice": {"voice": True},
    "videonote": {"video_note": True},
    "document": {"document": {"file_name": "invoice.pdf"}},
    "poll": {"poll": {"question": "Pizza tonight?", "options": ["yes", "no"]}},
    "contact": {"contact": {"phone_number": "+15550100777", "first_name": "Sam"}},
    "location": {"location": {"latitude": 52.52, "longitude": 13.405}},
    "game": {"game": {"title": "Lumberjack"}, "via_bot": GAME_BOT},
    "dice": {"dice": {"emoji": "🎲"}},
    "url": {"text": "cheap watches at https://watches.example/sale"},
    "forward": {"text": "read this", "forward_origin": {"type": "hidden_user", "name": "Anonymous Writer"}},
    "forwarduser": {"text": "what dave said", "forward_origin": {"type": "user", "user": "dave"}},
    "forwardchannel": "a post forwarded from a channel",  # forward_message of the channel's post (below)
    "forwardbot": {"text": "results", "forward_origin": {"type": "user", "user": GAME_BOT}},
    "inline": {"text": "a result from a bot", "via_bot": GAME_BOT},
    "button": {"text": "great deal", "via_bot": GAME_BOT, "reply_markup": KEYBOARD},
    "bot": "a member adds a bot",  # add_member (below)
    "command": {"text": "/roll@dice_bot 2d6"},
    "email": {"text": "write to sales@shop.example"},
    "phone": {"text": "call me on +44 20 7946 0958"},
    "invitelink": {"text": "join us t.me/+AbCdEf123456"},
    "rtl": {"text": "مرحبا بالجميع"},
    "emojionly": {"text": "😂😂😂"},
    "anonchannel": {"text": "news from my channel", "sender_chat": "channel"},  # carol posts as her channel
}


@pytest.fixture(scope="module")
def world(platform):
    """What the samples need in the sandbox: an inline bot, carol's channel with a post, a scratch group without the
    bot where each sample's JSON is read first."""
    stamp = int(time.time()) % 100000
    with contextlib.suppress(SandboxError):  # the module ran before in this sandbox
        platform.telegram.create_user("Games", username=GAME_BOT, is_bot=True)
    channel = platform.telegram.create_chat(f"Carol channel {stamp}", "carol", type="channel",
                                            username=f"carol_ch_{stamp}")
    post = platform.telegram.send_message(channel["id"], "carol", "Our big announcement")
    scratch = platform.telegram.create_chat(f"Scratch {stamp}", "alice", type="supergroup",
                                            members=["carol", "dave"])
    return {"channel": channel, "post": post, "scratch": scratch}


def post_sample(platform, world, chat_id: int, kind: str, user: str) -> dict:
    """The member posts the sample message of lock type `kind`; returns it as the bot receives it."""
    telegram = platform.telegram
    if kind == "forwardchannel":
        return telegram.forward_message(chat_id, user, world["channel"]["id"], world["post"]["message_id"])
    if kind == "bot":
        name = fresh_members(platform, 1, "addedbot")[0]
        bot = f"{name}_bot"
        telegram.create_user("Helper", username=bot, is_bot=True)
        # The join's service message, as posted: the bot may delete it before the chat's messages could be listed.
        return telegram.add_member(chat_id, bot, by=user)["message"]
    sample = dict(SAMPLES[kind])
    if sample.get("sender_chat") == "channel":
        sample["sender_chat"] = world["channel"]["id"]
        user = "carol"  # the channel's owner posts as it
    return telegram.send_message(chat_id, user, **sample)


def spread(kinds_of: dict[str, set[str]]) -> list[list[str]]:
    """Lock types in groups where each type's sample breaks no other lock of its group (greedy colouring)."""
    groups: list[list[str]] = []
    for kind in LOCK_TYPES:
        for group in groups:
            if not any(other in kinds_of[kind] or kind in kinds_of[other] for other in group):
                group.append(kind)
                break
        else:
            groups.append([kind])
    return groups


@pytest.fixture(scope="module")
def kinds_of(platform, world) -> dict[str, set[str]]:
    """The lock types each sample breaks, read by the engine from the sample as the sandbox shapes it (in a group
    without the bot). Every sample breaks its own type."""
    found = {}
    for kind in LOCK_TYPES:
        message = post_sample(platform, world, world["scratch"]["id"], kind, "dave")
        found[kind] = set(lock_kinds(message))
        assert kind in found[kind], (kind, message, found[kind])
    return found


def bot_lock_record(platform, group_id: str) -> dict:
    return platform.wait_for(lambda: next((r for r in records(platform, group_id, "locks") if r["status"] == "executed"
                                           and r.get("reason") == "bot is locked"), None), "the bot lock's record")


def test_every_lock_type_deletes_its_message_and_core_records_it(platform, world, kinds_of):
    groups = spread(kinds_of)
    assert sorted(kind for group in groups for kind in group) == sorted(LOCK_TYPES)
    sent: dict[str, tuple[dict, object, dict]] = {}
    for kinds in groups:
        senders = fresh_members(platform, len(kinds), "sender")  # one each: a member's acts do not merge
        chat, group = rules_group(platform, locks={kind: locked() for kind in kinds}, members=tuple(senders))
        for kind, sender in zip(kinds, senders, strict=True):
            sent[kind] = (chat, group, post_sample(platform, world, chat["id"], kind, sender))
    for kind, (chat, group, message) in sent.items():
        wait_deleted(platform, chat["id"], message["message_id"], f"the {kind} message")
        if kind == "bot":  # the join may reach the bot first as a chat_member update, which names no message
            record = bot_lock_record(platform, group.id)
        else:
            record = record_for(platform, group.id, "locks", message["message_id"], what=kind)
        assert (record["type"], record["rule"], record["status"], record["actor_user_id"]) == (
            "delete", "locks", "executed", None), (kind, record)
        assert kind in (record.get("reason") or ""), (kind, record)
    # A bot added by a member is removed; the adder (not the bot) is the record's target.
    chat, group, message = sent["bot"]
    added = message["new_chat_members"][0]
    platform.wait_for(lambda: platform.telegram.member(chat["id"], added["id"])["status"] in ("left", "kicked"),
                      "the added bot to be removed")
    assert target_telegram_id(platform, bot_lock_record(platform, group.id)) == message["from"]["id"]
    # The notices: a delete-mode lock says in the group what was locked (lock warnings are on by default).
    chat, _, message = sent["sticker"]
    notices = [m.get("text", "") for m in platform.telegram.messages(chat["id"], sender=BOT, count=1, wait=3)]
    assert any("sticker" in text for text in notices), notices


def test_admins_approved_members_and_the_group_itself_are_not_touched(platform, world):
    chat, group = rules_group(platform, locks={kind: locked() for kind in ("sticker", "url", "forward", "rtl")})
    as_owner(platform, platform.api.approval_grant, telegram_chat_id=chat["id"],
             target_telegram_user_id=platform.telegram.member(chat["id"], "carol")["user"]["id"])
    kept = [
        platform.telegram.send_message(chat["id"], "bob_mod", sticker=True),
        platform.telegram.send_message(chat["id"], "bob_mod", "rules: https://example.com/rules"),
        platform.telegram.send_message(chat["id"], "alice", "see https://example.com", anonymous=True),
        platform.telegram.send_message(chat["id"], "carol", sticker=True),
        platform.telegram.send_message(chat["id"], "carol", "an approved link https://example.org"),
        platform.telegram.send_message(chat["id"], "carol", "fwd", forward_origin={"type": "user", "user": "dave"}),
    ]
    # The linked channel's automatic forward is the group's own, not a forward by a member.
    kept.append(platform.telegram.send_message(chat["id"], "carol", "channel post", sender_chat=world["channel"]["id"],
                                               is_automatic_forward=True))
    untouched(platform, chat["id"], [m["message_id"] for m in kept], group.id, "locks")
    # A plain member's same message right after is deleted: the exemption is the member's.
    caught = platform.telegram.send_message(chat["id"], "dave", sticker=True)
    wait_deleted(platform, chat["id"], caught["message_id"], "the member's sticker")
    for message in kept:
        assert exists(platform, chat["id"], message["message_id"])


def test_edits_that_break_a_lock_are_caught(platform, world):
    chat, group = rules_group(platform, locks={"url": locked(), "invitelink": locked(), "rtl": locked()})
    text = platform.telegram.send_message(chat["id"], "dave", "hello there")
    photo = platform.telegram.send_message(chat["id"], "spammer", photo=True, caption="my cat")
    plain = platform.telegram.send_message(chat["id"], "carol", "nothing to see")
    untouched(platform, chat["id"], [text["message_id"], photo["message_id"], plain["message_id"]], group.id, "locks")
    platform.telegram.edit_message(chat["id"], text["message_id"], "hello there, buy at https://spam.example",
                                   user="dave")
    platform.telegram.edit_message(chat["id"], photo["message_id"], "my cat, join t.me/joinchat/AAAAbbbb",
                                   user="spammer")
    platform.telegram.edit_message(chat["id"], plain["message_id"], "still nothing to see", user="carol")
    wait_deleted(platform, chat["id"], text["message_id"], "the edited text")
    wait_deleted(platform, chat["id"], photo["message_id"], "the edited caption")
    assert "url" in record_for(platform, group.id, "locks", text["message_id"])["reason"]
    assert "url" in record_for(platform, group.id, "locks", photo["message_id"])["reason"]  # url comes before invite
    untouched(platform, chat["id"], [plain["message_id"]], group.id, "locks")


def test_each_mode_acts_on_the_member(platform, world):
    warned, muted, tmuted, kicked, banned, tbanned = people = fresh_members(platform, 6, "locker")
    chat, group = rules_group(platform, members=tuple(people), locks={
        "sticker": locked("warn"), "gif": locked("mute", reason="no gifs here"), "voice": locked("tmute", 3600),
        "document": locked("kick"), "contact": locked("ban"), "location": locked("tban", 86400)})
    telegram = platform.telegram
    sent = {
        "warn": telegram.send_message(chat["id"], warned, sticker=True),
        "mute": telegram.send_message(chat["id"], muted, animation=True),
        "tmute": telegram.send_message(chat["id"], tmuted, voice=True),
        "kick": telegram.send_message(chat["id"], kicked, document=True),
        "ban": telegram.send_message(chat["id"], banned, contact={"phone_number": "+15550100111", "first_name": "X"}),
        "tban": telegram.send_message(chat["id"], tbanned, location={"latitude": 1.0, "longitude": 2.0}),
    }
    for mode, message in sent.items():
        wait_deleted(platform, chat["id"], message["message_id"], f"the {mode} lock's message")
    got = {mode: record_for(platform, group.id, "locks", message["message_id"]) for mode, message in sent.items()}
    assert {mode: (r["type"], r["status"]) for mode, r in got.items()} == {
        "warn": ("warn", "executed"), "mute": ("mute", "executed"), "tmute": ("mute", "executed"),
        "kick": ("kick", "executed"), "ban": ("ban", "executed"), "tban": ("ban", "executed")}
    assert got["mute"]["until"] is None and got["ban"]["until"] is None
    assert got["tmute"]["until"] is not None and got["tban"]["until"] is not None
    assert got["mute"]["reason"] == "no gifs here"

    def status(user):
        return telegram.member(chat["id"], user)

    platform.wait_for(lambda: status(muted)["status"] == "restricted", "the mute")
    assert status(muted)["can_send_messages"] is False and status(muted)["until_date"] == 0
    platform.wait_for(lambda: status(tmuted)["status"] == "restricted", "the timed mute")
    assert 3500 < status(tmuted)["until_date"] - time.time() < 3700
    platform.wait_for(lambda: status(kicked)["status"] == "left", "the kick")
    platform.wait_for(lambda: status(banned)["status"] == "kicked", "the ban")
    assert status(banned)["until_date"] == 0
    platform.wait_for(lambda: status(tbanned)["status"] == "kicked", "the timed ban")
    assert 86000 < status(tbanned)["until_date"] - time.time() < 86800
    assert status(warned)["status"] == "member"
    warnings = platform.api.warnings(group.id, got["warn"]["target_user_id"])
    assert warnings["active_warnings"] == 1, warnings
    notices = [m.get("text", "") for m in telegram.messages(chat["id"], sender=BOT, count=6, wait=5)]
    assert any("has been warned" in text and "1/" in text for text in notices), notices
    assert any("has been muted" in text and "no gifs here" in text for text in notices), notices


def test_a_channel_posting_in_a_ban_mode_group_is_banned_as_a_channel(platform, world):
    """anonchannel in ban mode: the message is deleted and the channel banned (banChatSenderChat); the member behind
    it keeps writing as themselves."""
    chat, group = rules_group(platform, locks={"anonchannel": locked("ban")})
    mark = platform.call_mark()
    message = platform.telegram.send_message(chat["id"], "carol", "follow my channel",
                                             sender_chat=world["channel"]["id"])
    wait_deleted(platform, chat["id"], message["message_id"], "the channel's message")
    bans = platform.wait_for(lambda: platform.calls("banChatSenderChat", since=mark), "the channel's ban")
    assert int(bans[0]["params"]["sender_chat_id"]) == world["channel"]["id"]
    record = record_for(platform, group.id, "locks", message["message_id"])
    assert (record["type"], record["status"]) == ("ban", "executed")
    with pytest.raises(SandboxError, match="CHAT_SEND_AS_FORBIDDEN"):
        platform.telegram.send_message(chat["id"], "carol", "again", sender_chat=world["channel"]["id"])
    assert platform.telegram.member(chat["id"], "carol")["status"] == "member"
    assert records(platform, group.id, "locks", type="ban")


def test_the_chat_commands_lock_and_unlock(platform, world):
    """/lock and /unlock from the group's owner (Rose's commands), /locks lists what is locked."""
    chat, group = rules_group(platform)
    _, replies = platform.say(chat["id"], "alice", "/lock sticker gif", wait=6)
    assert replies, "the bot answered /lock"
    platform.wait_for(lambda: set(platform.api.locks_get(group.id)["locks"]) == {"sticker", "gif"},
                      "core to hold the locks")
    _, listed = platform.say(chat["id"], "alice", "/locks", wait=6)
    assert any("sticker" in text and "gif" in text for text in listed), listed
    sticker = platform.telegram.send_message(chat["id"], "dave", sticker=True)
    wait_deleted(platform, chat["id"], sticker["message_id"], "the sticker", timeout=10)
    assert record_for(platform, group.id, "locks", sticker["message_id"])["type"] == "delete"
    platform.say(chat["id"], "alice", "/unlock sticker", wait=6)
    platform.wait_for(lambda: set(platform.api.locks_get(group.id)["locks"]) == {"gif"}, "core to unlock")
    time.sleep(0.3)  # the bot's cache takes the change from the command's own answer
    again = platform.telegram.send_message(chat["id"], "dave", sticker=True)
    untouched(platform, chat["id"], [again["message_id"]], group.id, "locks")
    # A member may not lock.
    platform.say(chat["id"], "dave", "/lock text", wait=6)
    assert set(platform.api.locks_get(group.id)["locks"]) == {"gif"}


def test_a_bot_added_right_after_another_violation_is_still_removed(platform, world):
    """A member's sticker (deleted, one act) and, while that act runs, a bot they add: the bot must go too (their
    later messages may join the act in flight, but a bot brought in is not a message to delete)."""
    [member] = fresh_members(platform, 1, "twice")
    chat, _ = rules_group(platform, locks={"sticker": locked(), "bot": locked()}, members=(member,))
    sticker = platform.telegram.send_message(chat["id"], member, sticker=True)
    added = post_sample(platform, world, chat["id"], "bot", member)
    wait_deleted(platform, chat["id"], sticker["message_id"], "the sticker")
    bot_id = added["new_chat_members"][0]["id"]
    platform.wait_for(lambda: platform.telegram.member(chat["id"], bot_id)["status"] in ("left", "kicked"),
                      "the added bot to be removed", timeout=10)


def test_the_polling_bot_enforces_locks_on_messages_and_edits(polling_platform):
    """The bot on long polling takes every message through its application (no webhook shortcut): the same locks."""
    platform = polling_platform
    chat, group = rules_group(platform, locks={"url": locked(), "sticker": locked("warn")})
    link = platform.telegram.send_message(chat["id"], "dave", "deals at https://spam.example")
    sticker = platform.telegram.send_message(chat["id"], "spammer", sticker=True)
    text = platform.telegram.send_message(chat["id"], "carol", "hello")
    wait_deleted(platform, chat["id"], link["message_id"], "the link")
    wait_deleted(platform, chat["id"], sticker["message_id"], "the sticker")
    assert record_for(platform, group.id, "locks", sticker["message_id"])["type"] == "warn"
    platform.telegram.edit_message(chat["id"], text["message_id"], "hello, see www.spam-deals.com", user="carol")
    wait_deleted(platform, chat["id"], text["message_id"], "the edited message")
    assert record_for(platform, group.id, "locks", text["message_id"])["type"] == "delete"


def test_lockwarns_off_deletes_silently(platform, world):
    """/lockwarns off from the owner: a delete-mode lock still deletes, and says nothing in the group."""
    chat, group = rules_group(platform, locks={"gif": locked()})
    platform.say(chat["id"], "alice", "/lockwarns off", wait=6)
    platform.wait_for(lambda: platform.api.protection_get(group.id).lock_warns is False, "core to hold lock_warns off")
    time.sleep(0.3)  # the bot's cache takes the change from the command's own answer
    gif = platform.telegram.send_message(chat["id"], "dave", animation=True)
    wait_deleted(platform, chat["id"], gif["message_id"], "the gif")
    assert record_for(platform, group.id, "locks", gif["message_id"])["status"] == "executed"
    platform.wait_for(platform.settled, "the bot to be done")
    time.sleep(0.5)  # a notice would follow the deletion
    assert platform.telegram.messages(chat["id"], since_id=gif["message_id"], sender=BOT) == []
