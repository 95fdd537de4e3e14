"""Antiflood and anti-raid through the real platform (core, the Telegram sandbox and the bot as processes), in both of
the bot's modes: a member flooding is restricted once, with the automated action on core's record (rule antiflood,
executed); an admin or an approved member flooding is not touched (core refuses: exempt); K joins within W seconds
switch raid mode on in core, and the next joiner is removed."""

import time
from datetime import datetime

import pytest

from .conftest import BOT

pytestmark = pytest.mark.e2e

FLOOD_LIMIT = 5


def protect(platform, chat_id, **fields):
    """Sets the group's protection through core's PATCH, as the dashboard does; returns once the bot acts on it."""
    group = platform.api.group_by_chat(chat_id)
    platform.reload_settings(lambda: platform.api.protection_update(group.id, **fields))
    return group


def flood(platform, chat_id, user, count):
    sent = []
    for number in range(count):
        sent.append(platform.telegram.send_message(chat_id, user, f"flood {number}"))
    return sent


def automated(platform, group_id, rule, **filters):
    return platform.api.moderation_list(group_id=group_id, rule=rule, **filters)["items"]


def test_a_flooding_member_is_muted_once_and_core_records_it(any_platform):
    platform = any_platform
    chat = platform.new_group()
    group = protect(platform, chat["id"], flood_limit=FLOOD_LIMIT, flood_window_seconds=None, flood_action="mute")
    mark = platform.call_mark()
    sent = []
    for number in range(FLOOD_LIMIT + 3):  # the messages after the limit are refused once the mute is in place
        try:
            sent.append(platform.telegram.send_message(chat["id"], "spammer", f"flood {number}"))
        except Exception:  # the sandbox refuses a muted member's message, as Telegram does
            break
    platform.wait_for(lambda: platform.telegram.member(chat["id"], "spammer")["status"] == "restricted",
                      "the flooder to be muted")
    restricts = [call for call in platform.calls("restrictChatMember", since=mark)
                 if str(call["params"]["user_id"]) == "2000005"]
    assert len(restricts) == 1, restricts
    assert len(sent) >= FLOOD_LIMIT
    records = platform.wait_for(lambda: automated(platform, group.id, "antiflood", status="executed"),
                                "core to record the automated mute")
    assert [(record["type"], record["rule"], record["actor_user_id"]) for record in records] == [
        ("mute", "antiflood", None)]
    assert records[0]["telegram_message_id"] == sent[FLOOD_LIMIT - 1]["message_id"]
    notices = platform.telegram.messages(chat["id"], since_id=sent[0]["message_id"], sender=BOT, wait=3)
    assert any("muted for flooding" in notice.get("text", "") for notice in notices), notices


def test_a_timed_window_flood_bans_for_the_set_time_and_deletes_the_flood(any_platform):
    platform = any_platform
    chat = platform.new_group()
    group = protect(platform, chat["id"], flood_limit=FLOOD_LIMIT, flood_window_seconds=30, flood_action="tban",
                    flood_action_duration_seconds=3600, flood_delete_messages=True)
    mark = platform.call_mark()
    sent = flood(platform, chat["id"], "dave", FLOOD_LIMIT)
    platform.wait_for(lambda: platform.telegram.member(chat["id"], "dave")["status"] == "kicked",
                      "the flooder to be banned")
    [ban] = [call for call in platform.calls("banChatMember", since=mark)]
    until = int(ban["params"]["until_date"])
    assert 3590 <= until - ban["date"] <= 3610, ban
    deleted = platform.wait_for(lambda: platform.calls("deleteMessages", since=mark), "the flood's deletion")
    ids = {int(mid) for call in deleted for mid in call["params"]["message_ids"]}
    assert {message["message_id"] for message in sent} <= ids
    records = platform.wait_for(lambda: automated(platform, group.id, "antiflood", status="executed"),
                                "core to record the automated ban")
    assert [(record["type"], record["until"] is not None) for record in records] == [("ban", True)]


def test_admins_and_approved_members_are_not_punished_for_flooding(any_platform):
    platform = any_platform
    chat = platform.new_group()
    group = protect(platform, chat["id"], flood_limit=FLOOD_LIMIT, flood_action="kick")
    platform.api.approval_grant(telegram_chat_id=chat["id"], actor_telegram_user_id=_user_id(platform, chat, "alice"),
                                target_telegram_user_id=_user_id(platform, chat, "dave"))
    mark = platform.call_mark()
    flood(platform, chat["id"], "bob_mod", FLOOD_LIMIT + 2)
    flood(platform, chat["id"], "dave", FLOOD_LIMIT + 2)
    platform.wait_for(platform.settled, "the bot to take the messages")
    time.sleep(1)  # the flood tasks (and core's refusals) run after the messages are taken
    assert platform.calls("banChatMember", since=mark) == []
    assert platform.calls("restrictChatMember", since=mark) == []
    assert automated(platform, group.id, "antiflood") == []
    assert platform.telegram.member(chat["id"], "dave")["status"] == "member"
    # A plain member flooding right after is still kicked: the exemption is the member's, not the chat's.
    flood(platform, chat["id"], "spammer", FLOOD_LIMIT)
    platform.wait_for(lambda: automated(platform, group.id, "antiflood", status="executed"), "the kick")


def test_a_raid_switches_raid_mode_on_and_the_next_joiner_is_kicked(any_platform):
    """The join that makes the raid is removed too (it is one of the raiders); the ones before it stay. A raid's kick
    keeps the joiner out until raid mode ends: one ban with that end (not a ban and an unban), recorded as such."""
    platform = any_platform
    chat = platform.new_group()
    group = protect(platform, chat["id"], raid_detection=True, raid_join_limit=3, raid_window_seconds=60,
                    raid_duration_minutes=30, raid_action="kick")
    mark = platform.call_mark()
    raiders = platform.telegram.join_flood(chat["id"], 3, 0.5, prefix=f"raider{chat['id'] % 10000}")
    settings = platform.wait_for(lambda: _raid_on(platform, group.id), "core to switch raid mode on")
    assert settings.raid_active and settings.raid_action == "kick"
    notices = platform.telegram.messages(chat["id"], sender=BOT, wait=3, count=1)
    assert any("raid mode is on" in notice.get("text", "") for notice in notices), notices
    [late] = platform.telegram.join_flood(chat["id"], 1, prefix=f"late{chat['id'] % 10000}")
    late_id = late["user"]["id"]
    platform.wait_for(lambda: platform.telegram.member(chat["id"], late_id)["status"] == "kicked",
                      "the late joiner to be kept out", timeout=15)
    removed = sorted(str(user) for user in (raiders[2]["user"]["id"], late_id))
    platform.wait_for(lambda: _user_ids(platform.calls("banChatMember", since=mark)) == removed, "both removals",
                      timeout=15)
    raid_end = settings.raid_until.timestamp()
    for call in platform.calls("banChatMember", since=mark):
        assert abs(int(call["params"]["until_date"]) - raid_end) <= 2, call  # out until raid mode ends
    assert platform.calls("unbanChatMember", since=mark) == []
    for raider in raiders[:2]:
        assert platform.telegram.member(chat["id"], raider["user"]["id"])["status"] == "member"
    records = platform.wait_for(
        lambda: (found := automated(platform, group.id, "antiraid", status="executed")) and len(found) == 2 and found,
        "core to record the removals")
    assert {(record["type"], record["rule"], record["actor_user_id"]) for record in records} == {
        ("ban", "antiraid", None)}
    assert all(abs(datetime.fromisoformat(record["until"]).timestamp() - raid_end) <= 2 for record in records)


def _user_ids(calls):
    return sorted(str(call["params"]["user_id"]) for call in calls)


def _raid_on(platform, group_id):
    settings = platform.api.protection_get(group_id)
    return settings if settings.raid_until else None


def _user_id(platform, chat, username):
    return platform.telegram.member(chat["id"], username)["user"]["id"]


def test_a_warn_flood_counts_towards_the_warn_limit_like_warn(any_platform):
    """warn: each flood is a warning on core's record (rule antiflood); the flood that reaches the group's warn limit
    brings the limit's action (the default: a ban), recorded as automated too, and the warnings are reset."""
    platform = any_platform
    chat = platform.new_group()
    group = protect(platform, chat["id"], flood_limit=3, flood_action="warn")
    platform.api.group_update(group.id, warn_limit=2, warn_action="kick")
    for round_number in range(2):
        flood(platform, chat["id"], "dave", 3)
        platform.wait_for(lambda n=round_number: len(automated(platform, group.id, "antiflood", type="warn",
                                                               status="executed")) == n + 1,
                          f"warning {round_number + 1} on core's record", timeout=15)
        platform.say(chat["id"], "carol", "someone else speaks", wait=1)  # a new streak for the next flood
    platform.wait_for(lambda: platform.telegram.member(chat["id"], "dave")["status"] == "left",
                      "the warn limit's kick", timeout=15)
    kicks = platform.wait_for(lambda: automated(platform, group.id, "antiflood", type="kick", status="executed"),
                              "the kick on core's record")
    assert kicks[0]["reason"] == "warn limit reached (2)"
    notices = [m.get("text", "") for m in platform.telegram.messages(chat["id"], sender=BOT, count=50)]
    assert any("has been warned for flooding (1/2)" in text for text in notices), notices
    assert any("reached 2 warnings by flooding and is kicked" in text for text in notices), notices
