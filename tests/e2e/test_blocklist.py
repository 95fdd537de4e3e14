"""The blocklist through the real platform (core, the Telegram sandbox, the bot as processes): every mode acts on the
member and is on core's record (rule "blocklist", automated); patterns match whole words with Rose's `*`, case,
accents, Unicode look-alikes and invisible characters folded; captions and polls are read; edits are caught; joiners'
names are checked when the group asks for it; with /blocklistdelete off the message stays (a delete-mode entry then
does nothing); admins are left alone; the chat commands set entries the bot then enforces."""

from __future__ import annotations

import time

import pytest

from .conftest import BOT
from .content_rules import (
    apply_rules,
    as_owner,
    exists,
    fresh_members,
    record_for,
    records,
    rules_group,
    target_telegram_id,
    untouched,
    wait_deleted,
)

pytestmark = pytest.mark.e2e


def entry(pattern: str, mode: str | None = None, seconds: int | None = None, reason: str | None = None) -> dict:
    found: dict = {"pattern": pattern}
    if mode is not None:
        found["mode"] = mode
    if seconds is not None:
        found["duration_seconds"] = seconds
    if reason is not None:
        found["reason"] = reason
    return found


def test_each_mode_acts_on_the_member_and_core_records_it(platform):
    deleted, warned, muted, tmuted, kicked, banned, tbanned = people = fresh_members(platform, 7, "blocked")
    chat, group = rules_group(platform, members=tuple(people), blocklist=[
        entry("spamword", "delete"), entry("badword", "warn", reason="be polite"), entry("mutethis", "mute"),
        entry("hush", "tmute", 3600), entry("kickme", "kick"), entry("banhammer", "ban"),
        entry("goaway", "tban", 86400)])
    telegram = platform.telegram
    sent = {
        "delete": telegram.send_message(chat["id"], deleted, "buy my spamword today"),
        "warn": telegram.send_message(chat["id"], warned, "you BADWORD"),
        "mute": telegram.send_message(chat["id"], muted, "mutethis please"),
        "tmute": telegram.send_message(chat["id"], tmuted, "hush."),
        "kick": telegram.send_message(chat["id"], kicked, "kickme!"),
        "ban": telegram.send_message(chat["id"], banned, "the banhammer"),
        "tban": telegram.send_message(chat["id"], tbanned, "please goaway"),
    }
    for mode, message in sent.items():
        wait_deleted(platform, chat["id"], message["message_id"], f"the {mode} entry's message")
    got = {mode: record_for(platform, group.id, "blocklist", message["message_id"]) for mode, message in sent.items()}
    assert {mode: (r["type"], r["status"], r["rule"], r["actor_user_id"]) for mode, r in got.items()} == {
        mode: (kind, "executed", "blocklist", None) for mode, kind in (
            ("delete", "delete"), ("warn", "warn"), ("mute", "mute"), ("tmute", "mute"), ("kick", "kick"),
            ("ban", "ban"), ("tban", "ban"))}
    assert got["warn"]["reason"] == "be polite"
    assert got["tmute"]["until"] is not None and got["tban"]["until"] is not None and got["ban"]["until"] is None

    def status(user):
        return telegram.member(chat["id"], user)

    platform.wait_for(lambda: status(muted)["status"] == "restricted", "the mute")
    assert status(muted)["until_date"] == 0
    platform.wait_for(lambda: status(tmuted)["status"] == "restricted", "the timed mute")
    assert 3500 < status(tmuted)["until_date"] - time.time() < 3700
    platform.wait_for(lambda: status(kicked)["status"] == "left", "the kick")
    platform.wait_for(lambda: status(banned)["status"] == "kicked", "the ban")
    platform.wait_for(lambda: status(tbanned)["status"] == "kicked", "the timed ban")
    assert 86000 < status(tbanned)["until_date"] - time.time() < 86800
    assert status(deleted)["status"] == status(warned)["status"] == "member"
    assert platform.api.warnings(group.id, got["warn"]["target_user_id"])["active_warnings"] == 1
    found = telegram.messages(chat["id"], sender=BOT, count=6, wait=5)
    notices = [m.get("text", "") for m in found]
    assert any("has been warned" in text and "be polite" in text for text in notices), notices
    # A delete-mode entry deletes silently (as Rose): no notice names the first member.
    named = {mentioned(entity) for m in found for entity in m.get("entities", [])}
    assert status(warned)["user"]["id"] in named and status(deleted)["user"]["id"] not in named, notices


def mentioned(entity: dict) -> int | None:
    """The user a notice's entity names (a text_mention, or a tg://user?id= link)."""
    if entity.get("type") == "text_mention":
        return entity["user"]["id"]
    url = entity.get("url") or ""
    return int(url.rsplit("=", 1)[1]) if url.startswith("tg://user?id=") else None


def test_wildcards_whole_words_look_alikes_captions_and_polls(platform):
    names = fresh_members(platform, 12, "spam")  # one each: a member's violations during an act join it
    chat, group = rules_group(platform, members=tuple(names), blocklist=[
        entry("buy*now"), entry("casino"), entry("free money"), entry("*coin"), entry("scam*")])
    senders = iter(names)
    telegram = platform.telegram

    def say(text=None, user=None, **content):
        return telegram.send_message(chat["id"], user or next(senders), text, **content)

    caught = {
        "wildcard inside a word": say("BUY-IT-NOW at half price"),
        "wildcard as nothing": say("buynow!"),
        "case and punctuation": say("Best CASINO in town."),
        "a phrase": say("get FREE  MONEY here"),
        "leading wildcard": say("invest in bitcoin"),
        "trailing wildcard": say("what a scammer"),
        "Cyrillic look-alikes": say("\u0441asin\u043e night"),  # Cyrillic es and o
        "accents": say("cásíno"),
        "an invisible character": say("ca\u200bsino"),
        "a photo's caption": say(photo=True, caption="join the casino"),
        "a video's caption": say(video=True, caption="free money inside"),
        "a poll's question": say(poll={"question": "Casino tonight?", "options": ["yes", "no"]}),
    }
    kept = {
        "a longer word": say("the casinos are closed", "dave"),
        "words apart": say("buy it now", "dave"),
        "a word inside": say("coins and coinage", "dave"),
        "half a phrase": say("free stuff, no money", "dave"),
        "a prefix only": say("sca", "dave"),
        "another member's photo": say(photo=True, caption="my holiday", user="dave"),
    }
    for what, message in caught.items():
        wait_deleted(platform, chat["id"], message["message_id"], what)
        record = record_for(platform, group.id, "blocklist", message["message_id"], what=what)
        assert record["type"] == "delete", (what, record)
    untouched(platform, chat["id"], [m["message_id"] for m in kept.values()], group.id, "blocklist")


def test_edits_are_caught(platform):
    chat, group = rules_group(platform, blocklist=[entry("casino", "warn")])
    message = platform.telegram.send_message(chat["id"], "spammer", "hello all")
    photo = platform.telegram.send_message(chat["id"], "dave", photo=True, caption="my dog")
    untouched(platform, chat["id"], [message["message_id"], photo["message_id"]], group.id, "blocklist")
    platform.telegram.edit_message(chat["id"], message["message_id"], "hello all, visit my casino", user="spammer")
    platform.telegram.edit_message(chat["id"], photo["message_id"], "my dog at the casino", user="dave")
    wait_deleted(platform, chat["id"], message["message_id"], "the edited message")
    wait_deleted(platform, chat["id"], photo["message_id"], "the edited caption")
    assert record_for(platform, group.id, "blocklist", message["message_id"])["type"] == "warn"
    assert record_for(platform, group.id, "blocklist", photo["message_id"])["type"] == "warn"


def test_the_groups_mode_applies_to_entries_without_their_own(platform):
    member, other = fresh_members(platform, 2, "grpmode")
    chat, group = rules_group(platform, members=(member, other), blocklist=[entry("lottery"), entry("raffle", "kick")],
                              blocklist_action="tmute", blocklist_action_duration_seconds=600)
    first = platform.telegram.send_message(chat["id"], member, "win the lottery")
    second = platform.telegram.send_message(chat["id"], other, "a raffle!")
    wait_deleted(platform, chat["id"], first["message_id"], "the group-mode message")
    platform.wait_for(lambda: platform.telegram.member(chat["id"], member)["status"] == "restricted", "the tmute")
    assert 500 < platform.telegram.member(chat["id"], member)["until_date"] - time.time() < 700
    platform.wait_for(lambda: platform.telegram.member(chat["id"], other)["status"] == "left", "the entry's kick")
    assert record_for(platform, group.id, "blocklist", second["message_id"])["type"] == "kick"


def test_with_blocklistdelete_off_the_message_stays(platform):
    chat, group = rules_group(platform, blocklist=[entry("darn"), entry("heck", "warn")], blocklist_delete=False)
    quiet = platform.telegram.send_message(chat["id"], "dave", "darn it")
    warned = platform.telegram.send_message(chat["id"], "spammer", "what the heck")
    record = record_for(platform, group.id, "blocklist", warned["message_id"])
    assert (record["type"], record["status"]) == ("warn", "executed")
    untouched(platform, chat["id"], [quiet["message_id"]], group.id, "blocklist")
    assert exists(platform, chat["id"], warned["message_id"])


def test_admins_and_approved_members_are_not_touched(platform):
    chat, group = rules_group(platform, blocklist=[entry("casino", "ban")])
    as_owner(platform, platform.api.approval_grant, telegram_chat_id=chat["id"],
             target_telegram_user_id=platform.telegram.member(chat["id"], "carol")["user"]["id"])
    kept = [platform.telegram.send_message(chat["id"], "bob_mod", "no casino talk here"),
            platform.telegram.send_message(chat["id"], "carol", "the casino is closed today"),
            platform.telegram.send_message(chat["id"], "alice", "casino", anonymous=True)]
    untouched(platform, chat["id"], [m["message_id"] for m in kept], group.id, "blocklist")
    assert platform.telegram.member(chat["id"], "carol")["status"] == "member"


def test_joiners_names_are_checked_when_the_group_asks(platform):
    chat, group = rules_group(platform, blocklist=[entry("crypto*", "ban")])
    stamp = int(time.time() * 1000) % 100000
    telegram = platform.telegram
    early = telegram.create_user("CryptoKing", username=f"early_{stamp}")
    telegram.add_member(chat["id"], early["id"])
    platform.wait_for(platform.settled, "the bot to take the join")
    time.sleep(0.5)
    assert telegram.member(chat["id"], early["id"])["status"] == "member"  # joiner names are off by default

    apply_rules(platform, chat, group, blocklist_joiner_names=True)
    by_name = telegram.create_user("Crypto", last_name="Deals", username=f"plain_{stamp}")
    by_username = telegram.create_user("Anna", username=f"crypto_anna_{stamp}")
    fine = telegram.create_user("Cryptic", username=f"puzzles_{stamp}")  # "crypt" is not "crypto"
    for user in (by_name, by_username, fine):
        telegram.add_member(chat["id"], user["id"])
    for user in (by_name, by_username):
        platform.wait_for(lambda u=user: telegram.member(chat["id"], u["id"])["status"] == "kicked",
                          f"{user['username']} to be banned")
    def targets():
        return {target_telegram_id(platform, record) for record in records(platform, group.id, "blocklist", type="ban")
                if record["status"] == "executed"}

    platform.wait_for(lambda: {by_name["id"], by_username["id"]} <= targets(), "core's records of both joiners")
    assert telegram.member(chat["id"], fine["id"])["status"] == "member"


def test_the_chat_commands_set_entries_the_bot_enforces(platform):
    """/addblocklist, /blocklist and /rmblocklist from the group's owner (Rose's commands), then a member's message."""
    chat, group = rules_group(platform)
    telegram = platform.telegram

    def entries():  # the group's entries but rules_group's probe
        return [item for item in platform.api.blocklist_get(group.id)["items"]
                if not item["pattern"].startswith("zzprobe")]

    _, replies = platform.say(chat["id"], "alice", '/addblocklist "cheap pills" warn no spam please', wait=6)
    assert replies, "the bot answered /addblocklist"
    platform.wait_for(lambda: entries(), "core to hold the entry")
    [item] = entries()
    assert (item["pattern"], item["mode"]) == ("cheap pills", "warn")
    _, listed = platform.say(chat["id"], "alice", "/blocklist", wait=6)
    assert any("cheap pills" in text for text in listed), listed
    message = telegram.send_message(chat["id"], "dave", "CHEAP pills, cheap!")
    wait_deleted(platform, chat["id"], message["message_id"], "the member's message", timeout=10)
    assert record_for(platform, group.id, "blocklist", message["message_id"])["type"] == "warn"
    platform.say(chat["id"], "alice", '/rmblocklist "cheap pills"', wait=6)
    platform.wait_for(lambda: not entries(), "core to drop the entry")
    # A member may not change the blocklist.
    _, denied = platform.say(chat["id"], "dave", "/addblocklist hello", wait=6)
    assert not entries(), denied


def test_the_chat_commands_set_the_groups_mode_and_keep_messages(platform):
    """/blocklistmode tmute 1h and /blocklistdelete off from the owner: an entry without its own mode then mutes for an
    hour and the message stays."""
    [member] = fresh_members(platform, 1, "cmdmode")
    chat, group = rules_group(platform, blocklist=[entry("jackpot")], members=(member,))
    platform.say(chat["id"], "alice", "/blocklistmode tmute 1h", wait=6)
    platform.say(chat["id"], "alice", "/blocklistdelete off", wait=6)

    def changed():
        settings = platform.api.protection_get(group.id)
        return (settings.blocklist_action, settings.blocklist_action_duration_seconds,
                settings.blocklist_delete) == ("tmute", 3600, False)

    platform.wait_for(changed, "core to hold the group's blocklist mode and deletion")
    time.sleep(0.3)  # the bot's cache takes the change from the command's own answer
    message = platform.telegram.send_message(chat["id"], member, "JACKPOT!")
    platform.wait_for(lambda: platform.telegram.member(chat["id"], member)["status"] == "restricted", "the tmute")
    assert 3500 < platform.telegram.member(chat["id"], member)["until_date"] - time.time() < 3700
    assert record_for(platform, group.id, "blocklist", message["message_id"])["type"] == "mute"
    assert exists(platform, chat["id"], message["message_id"])
