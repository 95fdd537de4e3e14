"""Quiet moderation and disabled commands end to end (sandbox -> bot -> core -> sandbox): Rose's silent and delete
variants, /disable for members while admins still can, /disabledel, /cleancommands, denials in private, /report to
the log channel and /reports, warn expiry, /pin loud, /purge <n>, /purgefrom + /purgeto, /spurge."""

import time
import uuid

import httpx
import pytest

from .processes import TEST_KEY
from .test_bot_trust import fresh_member, start_bot
from .test_welcome_rules_log import channel_posts, make_log_channel, protect

pytestmark = pytest.mark.e2e

BOT = "@sandbox_mod_bot"


def present(platform, chat, message_id) -> bool:
    return any(m["message_id"] == message_id for m in platform.telegram.messages(chat["id"]))


def records(platform, chat, **filters) -> list[dict]:
    group = platform.api.group_by_chat(chat["id"])
    return platform.api.moderation_list(group_id=group.id, limit=100, **filters)["items"]


def flag(value) -> bool:
    return str(value).lower() in ("true", "1")


def test_silent_variants_act_delete_the_command_and_say_nothing(platform):
    chat = platform.new_group()
    for name in ("spammer", "dave", "carol"):
        platform.say(chat["id"], name, "hello")
    cases = [("/sban @spammer flooding", "banChatMember", "ban", "spammer", "kicked"),
             ("/smute @dave", "restrictChatMember", "mute", "dave", "restricted"),
             ("/skick @carol", "unbanChatMember", "kick", "carol", None)]
    for command, method, action, username, status in cases:
        mark = platform.call_mark()
        sent, replies = platform.say(chat["id"], "alice", command)
        assert replies == [], (command, replies)
        assert platform.calls(method, since=mark), command
        platform.wait_for(lambda sent=sent: not present(platform, chat, sent["message_id"]),
                          f"{command} deleted")
        assert platform.telegram.member(chat["id"], username)["status"] == (status or "left")
        platform.wait_for(lambda action=action: records(platform, chat, type=action, status="executed"),
                          f"core to record the {action}")
    [ban] = records(platform, chat, type="ban")
    assert ban["reason"] == "flooding"


def test_delete_variants_act_by_reply_and_delete_the_replied_message(platform):
    chat = platform.new_group()
    cases = [("/dban", "is banned."), ("/dmute", "is muted."), ("/dkick", "was kicked.")]
    for (command, done), username in zip(cases, ("spammer", "dave", "carol"), strict=True):
        offending, _ = platform.say(chat["id"], username, "buy followers now")
        sent, replies = platform.say(chat["id"], "alice", f"{command} spam", reply_to=offending["message_id"])
        assert len(replies) == 1 and replies[0].endswith(done), (command, replies)
        platform.wait_for(lambda m=offending: not present(platform, chat, m["message_id"]),
                          f"{command}'s replied-to message deleted")
        assert present(platform, chat, sent["message_id"])  # the command itself stays (only s variants remove it)
    _, replies = platform.say(chat["id"], "alice", "/dban @spammer")
    assert replies == ["Reply to the message with /dban: I act on its sender and delete it."]
    # A member without the permissions: refused, and the message stays.
    offender, member = fresh_member(platform, chat), fresh_member(platform, chat)
    offending, _ = platform.say(chat["id"], offender, "more")
    _, replies = platform.say(chat["id"], member, "/dban", reply_to=offending["message_id"])
    assert replies == ["You need the BAN_USERS permission to do that."]
    assert present(platform, chat, offending["message_id"])


def test_dwarn_and_swarn(platform):
    chat = platform.new_group()
    offending, _ = platform.say(chat["id"], "spammer", "spam link")
    _, replies = platform.say(chat["id"], "alice", "/dwarn links", reply_to=offending["message_id"])
    assert len(replies) == 1 and replies[0].endswith("has been warned (1/3).")
    platform.wait_for(lambda: not present(platform, chat, offending["message_id"]), "the warned message deleted")
    sent, replies = platform.say(chat["id"], "alice", "/swarn @spammer again")
    assert replies == []
    platform.wait_for(lambda: not present(platform, chat, sent["message_id"]), "the /swarn deleted")
    _, warns = platform.say(chat["id"], "alice", "/warns @spammer")
    assert warns[0].startswith("@spammer: 2/3 warnings.")


def test_disabled_commands_are_for_members_and_admins_still_can(platform):
    chat = platform.new_group()
    _, replies = platform.say(chat["id"], "alice", "/disable id /Warns@sandbox_mod_bot")
    assert replies == ["Disabled for members: /id, /warns. Admins can still use them."]
    group = platform.api.group_by_chat(chat["id"])
    assert platform.api.protection_get(group.id)["disabled_commands"] == ["id", "warns"]
    _, replies = platform.say(chat["id"], "alice", "/disabled")
    assert replies == ["Disabled for members:\n• /id\n• /warns"]

    mark = platform.call_mark()
    attempt, replies = platform.say(chat["id"], "carol", "/id")
    assert replies == [] and present(platform, chat, attempt["message_id"])  # ignored, left in place
    assert platform.calls("deleteMessage", since=mark) == []
    _, replies = platform.say(chat["id"], "alice", "/id")  # the owner still can
    assert replies and "This chat" in replies[0]
    _, replies = platform.say(chat["id"], "bob_mod", "/warns")  # a Telegram admin still can
    assert replies and "warnings" in replies[0]

    _, replies = platform.say(chat["id"], "alice", "/disabledel on")
    assert replies == ["Members' disabled commands will be deleted."]
    attempt, replies = platform.say(chat["id"], "carol", "/warns")
    assert replies == []
    platform.wait_for(lambda: not present(platform, chat, attempt["message_id"]), "the attempt deleted")

    _, replies = platform.say(chat["id"], "carol", "/disable rules")
    assert replies == ["You need the MANAGE_SETTINGS permission to do that."]
    _, replies = platform.say(chat["id"], "alice", "/disable ban")
    assert replies == ["/ban can't be disabled. /disableable lists those that can be."]
    _, replies = platform.say(chat["id"], "alice", "/disableable")
    assert replies[0].startswith("Commands that can be disabled:") and "• /warns" in replies[0]

    _, replies = platform.say(chat["id"], "alice", "/enable id")
    assert replies == ["Enabled again: /id."]
    _, replies = platform.say(chat["id"], "carol", "/id")
    assert replies and "This chat" in replies[0]


def test_clean_commands_deletes_commands_once_answered(platform):
    chat = platform.new_group()
    _, replies = platform.say(chat["id"], "alice", "/cleancommands on")
    assert replies == ["Command messages will be deleted once handled."]
    asked, replies = platform.say(chat["id"], "carol", "/warns")
    assert replies and "warnings" in replies[0]
    platform.wait_for(lambda: not present(platform, chat, asked["message_id"]), "the command deleted")
    refused, replies = platform.say(chat["id"], "carol", "/ban @dave")  # refused commands go too
    assert replies == ["You need the BAN_USERS permission to do that."]
    platform.wait_for(lambda: not present(platform, chat, refused["message_id"]), "the refused command deleted")
    platform.say(chat["id"], "alice", "/cleancommands off")
    kept, _ = platform.say(chat["id"], "carol", "/warns")
    platform.wait_for(platform.settled, "the bot to be done")
    assert present(platform, chat, kept["message_id"])


def test_denials_in_private_fall_back_to_the_group_for_who_never_started_the_bot(platform):
    chat = platform.new_group()
    member = fresh_member(platform, chat)
    _, replies = platform.say(chat["id"], "alice", "/privatedenials on")
    assert replies[0].startswith("Refused commands are answered in private")
    _, replies = platform.say(chat["id"], member, "/ban @dave")
    assert replies == ["You need the BAN_USERS permission to do that."]  # Telegram refused the private message

    start_bot(platform, member)
    seen = platform.telegram.messages(BOT, user=member)[-1]["message_id"]
    _, replies = platform.say(chat["id"], member, "/kick @dave")
    assert replies == []
    private = platform.wait_for(lambda: [m for m in platform.telegram.messages(BOT, user=member, since_id=seen)
                                         if m.get("text", "").startswith("In ")], "the private denial")
    assert private[0]["text"] == f"In {chat['title']}: You need the KICK_USERS permission to do that."


def test_reports_reach_the_log_channel_and_can_be_turned_off(platform):
    chat = platform.new_group()
    channel = make_log_channel(platform)
    protect(platform, chat, log_chat_id=channel["id"])
    spam, _ = platform.say(chat["id"], "spammer", "cheap followers")
    _, replies = platform.say(chat["id"], "carol", "/report scam", reply_to=spam["message_id"])
    assert len(replies) == 1 and replies[0].startswith("Reported to the admins: scam")
    posted = platform.wait_for(lambda: next((p for p in channel_posts(platform, channel) if "#REPORTED" in p["text"]),
                                            None), "the report in the log channel", timeout=10)
    assert "Reason: scam" in posted["text"] and chat["title"] in posted["text"]
    [report] = records(platform, chat, type="report")
    assert (report["status"], report["telegram_message_id"]) == ("executed", spam["message_id"])

    admin_message, _ = platform.say(chat["id"], "bob_mod", "be nice")
    _, replies = platform.say(chat["id"], "carol", "/report", reply_to=admin_message["message_id"])
    assert replies == ["That's an admin's message: reports are for members' messages."]

    _, replies = platform.say(chat["id"], "carol", "/reports off")
    assert replies == ["You need the MANAGE_SETTINGS permission to do that."]
    _, replies = platform.say(chat["id"], "alice", "/reports off")
    assert replies == ["Reports: off. /report does nothing here."]
    _, replies = platform.say(chat["id"], "carol", "/report again", reply_to=spam["message_id"])
    assert replies == []
    assert len(records(platform, chat, type="report")) == 1


def test_warnings_older_than_the_warn_time_no_longer_count(platform):
    chat = platform.new_group()
    platform.say(chat["id"], "dave", "hi")
    _, replies = platform.say(chat["id"], "alice", "/warn @dave rude")
    assert replies == ["@dave has been warned (1/3)."]
    warned_at = time.monotonic()
    _, replies = platform.say(chat["id"], "carol", "/warntime 30s")
    assert replies == ["You need the MANAGE_SETTINGS permission to do that."]
    _, replies = platform.say(chat["id"], "alice", "/warntime 10")
    assert "Use /warntime <time>" in replies[0]
    _, replies = platform.say(chat["id"], "alice", "/warntime 30s")
    assert replies == ["Warnings expire after 30 seconds: older ones no longer count."]
    group = platform.api.group_by_chat(chat["id"])
    assert platform.api.group_get(group.id)["warn_expiry_seconds"] == 30
    _, replies = platform.say(chat["id"], "alice", "/warntime")
    assert replies[0].startswith("Warnings expire: after 30 seconds.")

    time.sleep(max(0.0, 31 - (time.monotonic() - warned_at)))
    _, warns = platform.say(chat["id"], "alice", "/warns @dave")
    assert warns[0].startswith("@dave: 0/3 warnings.") and warns[0].endswith("Warnings expire after 30 seconds.")
    _, replies = platform.say(chat["id"], "alice", "/warn @dave again")
    assert replies == ["@dave has been warned (1/3)."]
    _, replies = platform.say(chat["id"], "alice", "/warntime off")
    assert replies == ["Warnings never expire now."]
    _, warns = platform.say(chat["id"], "alice", "/warns @dave")
    assert warns[0].startswith("@dave: 2/3 warnings.")  # the expired one counts again: it was never removed


def test_pin_is_silent_unless_loud(platform):
    chat = platform.new_group()
    first, _ = platform.say(chat["id"], "carol", "meeting at 5")
    mark = platform.call_mark()
    platform.say(chat["id"], "alice", "/pin", reply_to=first["message_id"])
    second, _ = platform.say(chat["id"], "carol", "meeting moved to 6")
    platform.say(chat["id"], "alice", "/pin loud", reply_to=second["message_id"])
    platform.wait_for(lambda: len(platform.calls("pinChatMessage", since=mark)) == 2, "both pins")
    quiet, loud = platform.calls("pinChatMessage", since=mark)
    assert flag(quiet["params"]["disable_notification"]) is True
    assert flag(loud["params"].get("disable_notification", False)) is False
    loud_record = records(platform, chat, type="pin")[0]  # newest first
    assert loud_record["reason"] == ""  # "loud" is an option, not a reason


def test_purge_from_to_count_and_silent(platform):
    chat = platform.new_group()
    posted = [platform.say(chat["id"], "carol", f"line {number}")[0] for number in range(1, 6)]
    _, replies = platform.say(chat["id"], "alice", "/purgeto", reply_to=posted[3]["message_id"])
    assert replies == ["Mark the first message with /purgefrom (as a reply) first."]
    _, replies = platform.say(chat["id"], "alice", "/purgefrom", reply_to=posted[1]["message_id"])
    assert replies == ["Marked. Reply with /purgeto to the last message to delete."]
    to, replies = platform.say(chat["id"], "alice", "/purgeto", reply_to=posted[3]["message_id"])
    assert replies == ["Purged 4 messages."]
    assert [present(platform, chat, m["message_id"]) for m in posted] == [True, False, False, False, True]
    assert not present(platform, chat, to["message_id"])

    more = [platform.say(chat["id"], "carol", f"more {number}")[0] for number in range(1, 4)]
    _, replies = platform.say(chat["id"], "alice", "/purge 2", reply_to=more[0]["message_id"])
    assert replies == ["Purged 3 messages."]
    assert [present(platform, chat, m["message_id"]) for m in more] == [False, False, True]

    last = [platform.say(chat["id"], "carol", f"last {number}")[0] for number in range(1, 3)]
    spurge, replies = platform.say(chat["id"], "alice", "/spurge", reply_to=last[0]["message_id"])
    assert replies == []
    platform.wait_for(lambda: not present(platform, chat, spurge["message_id"]), "the spurge")
    assert not any(present(platform, chat, m["message_id"]) for m in last)
    _, replies = platform.say(chat["id"], "carol", "/purge 3")
    assert replies == ["You need the DELETE_MESSAGES permission to do that."]
    purges = records(platform, chat, type="purge", status="executed")
    assert len(purges) == 3


def test_a_delete_variant_needs_delete_messages_too(platform):
    """A role with BAN_USERS but not DELETE_MESSAGES may /ban but not /dban: the ban's request is completed as
    failed with the reason, and neither the member nor the message is touched."""
    role = f"banner{uuid.uuid4().hex[:6]}"
    created = httpx.post(f"http://127.0.0.1:{platform.core_port}/api/rbac/roles", headers={"X-API-Key": TEST_KEY},
                         json={"name": role, "rank": 40, "permissions": ["VIEW_GROUPS", "BAN_USERS"]}, timeout=5)
    assert created.status_code == 201, created.text
    chat = platform.new_group()
    banner, offender = fresh_member(platform, chat), fresh_member(platform, chat)
    group = platform.api.group_by_chat(chat["id"])
    banner_id = platform.api.user_list(telegram_user_id=platform.telegram.member(chat["id"], banner)["user"]["id"])
    platform.api.assign_role(user_id=banner_id["items"][0]["id"], role=role, group_id=group.id)
    offending, _ = platform.say(chat["id"], offender, "spam")
    mark = platform.call_mark()
    _, replies = platform.say(chat["id"], banner, "/dban spam", reply_to=offending["message_id"])
    assert replies == ["You need the DELETE_MESSAGES permission to do that."]
    assert platform.calls("banChatMember", since=mark) == [] and present(platform, chat, offending["message_id"])
    [refused] = records(platform, chat, type="ban")
    assert (refused["status"], refused["error"]) == ("failed", "You need the DELETE_MESSAGES permission to do that.")
    _, replies = platform.say(chat["id"], banner, "/ban spam", reply_to=offending["message_id"])
    assert len(replies) == 1 and replies[0].endswith("is banned.")


def test_anonymous_admins_still_use_a_disabled_command(platform):
    chat = platform.new_group()
    platform.telegram.promote(chat["id"], "dave", rights={"can_restrict_members": True}, is_anonymous=True)
    group = platform.api.group_by_chat(chat["id"])
    platform.wait_for(lambda: platform.api.group_anonymous_admin(group.id)["user_id"], "the principal")
    _, replies = platform.say(chat["id"], "alice", "/disable adminlist")
    assert replies == ["Disabled for members: /adminlist. Admins can still use them."]
    _, replies = platform.say(chat["id"], "carol", "/adminlist")
    assert replies == []
    _, replies = platform.say(chat["id"], "dave", "/adminlist", anonymous=True)
    assert replies and replies[0].startswith("Admins:")
