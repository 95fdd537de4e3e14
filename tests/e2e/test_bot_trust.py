"""The bot's commands as a trial found them wanting, end to end (sandbox -> bot -> core -> sandbox): the rank rule
on members, durations never folded into a reason, core's own reason relayed, /help in private, and a member's
flood of denied commands throttled."""

import itertools
import time
import uuid

import pytest

from tgsandbox.errors import SandboxError

pytestmark = pytest.mark.e2e

BOT = "@sandbox_mod_bot"
_numbers = itertools.count(1)


def fresh_user(platform) -> str:
    """A Telegram account no other test has used (it never started the bot); returns its username."""
    username = f"m{next(_numbers)}_{uuid.uuid4().hex[:8]}"
    platform.telegram.create_user(username.capitalize(), username=username)
    return username


def fresh_member(platform, chat) -> str:
    username = fresh_user(platform)
    platform.telegram.add_member(chat["id"], username)
    telegram_id = platform.telegram.member(chat["id"], username)["user"]["id"]
    platform.wait_for(lambda: platform.api.user_list(telegram_user_id=telegram_id)["items"], "core to know them")
    return username


def core_user_id(platform, username, chat) -> str:
    telegram_id = platform.telegram.member(chat["id"], username)["user"]["id"]
    return platform.api.user_list(telegram_user_id=telegram_id)["items"][0]["id"]


def bot_messages(platform, chat, since_id, *, user=None, wait=4.0, count=1) -> list[dict]:
    return platform.telegram.messages(chat, since_id=since_id, sender=BOT, user=user, wait=wait, count=count)


def private_messages(platform, username, since_id=0, wait=4.0) -> list[dict]:
    return bot_messages(platform, BOT, since_id, user=username, wait=wait)


def start_bot(platform, username) -> None:
    """The user presses Start; returns once the bot's greeting arrived (so it is not taken for a later answer)."""
    try:
        started = last_private_id(platform, username)
    except SandboxError:  # no private chat until the first Start
        started = 0
    platform.telegram.start_bot(username)
    platform.wait_for(lambda: any(m.get("text", "").startswith("Hi!") and m["message_id"] > started
                                  for m in platform.telegram.messages(BOT, user=username, sender=BOT)),
                      "the greeting")


def last_private_id(platform, username) -> int:
    messages = platform.telegram.messages(BOT, user=username)
    return messages[-1]["message_id"] if messages else 0


def recorded(platform, chat) -> list[dict]:
    group = platform.api.group_by_chat(chat["id"])
    return platform.api.moderation_list(group_id=group.id, limit=100)["items"]


# -- 1. rank


def test_an_admin_cannot_act_on_another_admin_and_a_moderator_not_on_an_admin(platform):
    peer = fresh_user(platform)
    chat = platform.new_group(admins=("bob_mod", peer))
    platform.wait_for(lambda: len(platform.api.assignments(
        group_id=platform.api.group_by_chat(chat["id"]).id, active=True)["items"]) >= 3, "the admin sync")
    mark = platform.call_mark()
    _, replies = platform.say(chat["id"], "bob_mod", f"/ban @{peer} rival")
    assert replies == ["You can't ban this member: their rank here (admin, 80) is not below yours (80). "
                       "Only someone who outranks them can."]
    assert platform.calls("banChatMember", since=mark) == []
    assert recorded(platform, chat) == []  # refused before anything was recorded
    refusal = platform.api.audit_events(action="moderation.request", result="denied", limit=5)["items"][0]
    assert refusal["reason"] == "rank_violation"

    platform.say(chat["id"], "carol", "hi")
    _, granted = platform.say(chat["id"], "alice", "/grant moderator @carol")
    assert granted == ["@carol is now moderator here."]
    _, replies = platform.say(chat["id"], "carol", "/mute @bob_mod")
    assert replies and replies[0].startswith("You can't mute this member: their rank here (admin, 80)")
    platform.say(chat["id"], "dave", "hello")
    _, replies = platform.say(chat["id"], "carol", "/mute @dave")
    assert replies == ["@dave is muted."]


def test_the_owner_is_named_as_such_when_both_core_and_the_bot_refuse(platform):
    chat = platform.new_group()
    said, _ = platform.say(chat["id"], "alice", "welcome")
    _, replies = platform.say(chat["id"], "bob_mod", "/ban", reply_to=said["message_id"])
    assert replies == ["That's the group's owner: nobody can do that to them."]
    assert recorded(platform, chat) == []


# -- 2. durations


def test_a_leading_duration_on_mute_and_ban_is_applied_and_said(platform):
    chat = platform.new_group()
    platform.say(chat["id"], "dave", "noise")
    mark = platform.call_mark()
    _, replies = platform.say(chat["id"], "bob_mod", "/mute @dave 10m calm down")
    assert replies == ["@dave is muted for 10 minutes."]
    restrict = platform.calls("restrictChatMember", since=mark)[0]["params"]
    assert 590 <= int(restrict["until_date"]) - time.time() <= 610
    [mute] = [action for action in recorded(platform, chat) if action["type"] == "mute"]
    assert (mute["reason"], mute["until"] is not None) == ("calm down", True)

    mark = platform.call_mark()
    _, replies = platform.say(chat["id"], "bob_mod", "/ban @dave 2h flooding")
    assert replies == ["@dave is banned for 2 hours."]
    ban = platform.calls("banChatMember", since=mark)[0]["params"]
    assert 7190 <= int(ban["until_date"]) - time.time() <= 7210


def test_the_shortest_and_longest_durations_telegram_allows_are_accepted(platform):
    chat = platform.new_group()
    platform.say(chat["id"], "dave", "noise")
    mark = platform.call_mark()
    sent = time.time()
    _, replies = platform.say(chat["id"], "bob_mod", "/tmute @dave 30s")
    answered = time.time()
    assert replies == ["@dave is muted for 30 seconds."]  # not refused as 29.99 s by the time core reads it
    restrict = platform.calls("restrictChatMember", since=mark)[0]["params"]
    # At least 30 s from when the command was sent, at most 31 s from when it was answered (a second's margin).
    assert sent + 30 <= int(restrict["until_date"]) <= answered + 31
    _, replies = platform.say(chat["id"], "bob_mod", "/tban @dave 366d")
    assert replies == ["@dave is banned for 366 days."]


def test_without_a_duration_mute_is_permanent_and_the_line_is_the_reason(platform):
    chat = platform.new_group()
    platform.say(chat["id"], "dave", "noise")
    mark = platform.call_mark()
    _, replies = platform.say(chat["id"], "bob_mod", "/mute @dave spamming 10m ago")
    assert replies == ["@dave is muted."]
    assert not platform.calls("restrictChatMember", since=mark)[0]["params"].get("until_date")
    [mute] = recorded(platform, chat)
    assert (mute["reason"], mute["until"]) == ("spamming 10m ago", None)


@pytest.mark.parametrize(("command", "reply"), [
    ("/warn @dave 10m links", "/warn takes no duration (10m reads as one): warnings stay until removed; to silence "
                              "someone for a while, /tmute (user) 10m [reason]."),
    ("/kick @dave 1d", "/kick takes no duration (1d reads as one): a kicked member may rejoin at once; to keep "
                       "someone out for a while, /tban (user) 10m [reason]."),
    ("/mute @dave 1y", "1y is not a duration I can read. Give a duration such as 30s, 10m, 3h, 2d or 1w."),
])
def test_an_ambiguous_duration_is_refused_and_nothing_happens(platform, command, reply):
    chat = platform.new_group()
    platform.say(chat["id"], "dave", "noise")
    mark = platform.call_mark()
    _, replies = platform.say(chat["id"], "alice", command)
    assert replies == [reply]
    assert recorded(platform, chat) == []
    acted = [call["method"] for call in platform.telegram.calls(since=mark, exclude=["getUpdates"])["calls"]]
    assert set(acted) <= {"sendMessage"}


# -- 3. core's reason reaches the user


def test_cores_own_refusals_reach_the_user(platform):
    chat = platform.new_group()
    platform.say(chat["id"], "dave", "noise")
    _, replies = platform.say(chat["id"], "alice", "/tmute @dave 10s")
    assert replies == ["A temporary action must last between 30 seconds and 366 days; Telegram treats anything "
                       "else as forever"]
    _, replies = platform.say(chat["id"], "alice", "/warn 2999999")  # nobody in this chat
    assert replies == ["Only members of this group can be warned: the target is not in it"]

    group = platform.api.group_by_chat(chat["id"])
    platform.api.group_update(group.id, is_active=False)
    mark = platform.call_mark()
    _, replies = platform.say(chat["id"], "alice", "/ban @dave")
    assert replies == ["This group is switched off in the moderation service, so moderation commands do nothing "
                       "here until a platform admin turns it back on."]
    _, replies = platform.say(chat["id"], "alice", "/del", reply_to=platform.say(chat["id"], "dave", "x")[0][
        "message_id"])
    assert replies and replies[0].startswith("This group is switched off")
    assert platform.calls("banChatMember", since=mark) == []


# -- 4. /help


def test_help_in_a_group_goes_to_private_chat_with_only_what_the_asker_can_run(platform):
    chat = platform.new_group()
    member = fresh_member(platform, chat)

    # Never started the bot: Telegram will not let it write first, so the group hears how to start it.
    asked, _ = platform.say(chat["id"], member, "/help", wait=0)
    [answer] = bot_messages(platform, chat["id"], asked["message_id"])
    assert "I can't write to you first" in answer["text"] and "/report" not in answer["text"]
    [[button]] = answer["reply_markup"]["inline_keyboard"]
    assert button["url"] == f"https://t.me/sandbox_mod_bot?start=help_{chat['id']}"

    # The deep link's /start brings the list for that group.
    platform.telegram.send_message(BOT, member, f"/start help_{chat['id']}")
    [listing] = private_messages(platform, member)
    assert listing["text"].startswith(f"What you can do in {chat['title']}:")
    assert "/report" in listing["text"] and "/warns" in listing["text"]
    assert "/ban" not in listing["text"] and "/grant" not in listing["text"] and "/admin_dashboard" not in \
        listing["text"]

    # Started now: the list goes straight to private chat, the group gets a short notice.
    seen = last_private_id(platform, member)
    asked, _ = platform.say(chat["id"], member, "/help", wait=0)
    [notice] = bot_messages(platform, chat["id"], asked["message_id"])
    assert "sent you what you can do here in a private message" in notice["text"]
    [again] = private_messages(platform, member, seen)
    assert "/report" in again["text"] and "/ban" not in again["text"]


def test_help_for_the_owner_lists_moderation_and_in_private_only_what_works_there(platform):
    chat = platform.new_group()
    start_bot(platform, "alice")
    seen = last_private_id(platform, "alice")
    platform.say(chat["id"], "alice", "/help", wait=2)
    listing = [m["text"] for m in private_messages(platform, "alice", seen) if "What you can do in" in m["text"]]
    assert listing, "the list reached alice privately"
    assert "/ban (reply, @username or id) [duration] [reason]" in listing[0]
    assert "/tmute (reply, @username or id) <duration> [reason]" in listing[0] and "/grant" in listing[0]
    assert "/admin_dashboard" not in listing[0]  # a group owner holds no platform-wide grant

    seen = last_private_id(platform, "alice")
    platform.telegram.send_message(BOT, "alice", "/help")
    [private] = private_messages(platform, "alice", seen)
    assert "/id" in private["text"] and "/ban" not in private["text"] and "/report" not in private["text"]
    assert "send /help in a group" in private["text"]


def test_help_in_private_lists_platform_commands_only_to_a_global_grant(platform):
    chat = platform.new_group()
    operator = fresh_member(platform, chat)
    start_bot(platform, operator)
    seen = last_private_id(platform, operator)
    platform.telegram.send_message(BOT, operator, "/help")
    [before] = private_messages(platform, operator, seen)
    assert "/admin_dashboard" not in before["text"]
    platform.api.assign_role(user_id=core_user_id(platform, operator, chat), role="admin")  # platform-wide
    seen = last_private_id(platform, operator)
    platform.telegram.send_message(BOT, operator, "/help")
    [after] = private_messages(platform, operator, seen)
    assert "/admin_dashboard: platform-wide figures" in after["text"]
    seen = last_private_id(platform, operator)
    platform.telegram.send_message(BOT, operator, "/admin_dashboard")
    [figures] = private_messages(platform, operator, seen)
    assert figures["text"].startswith("Platform")  # it runs where /help said it does


def test_anonymous_admins_get_the_list_in_the_group(platform):
    chat = platform.new_group()
    platform.telegram.promote(chat["id"], "dave", rights={"can_restrict_members": True}, is_anonymous=True)
    group = platform.api.group_by_chat(chat["id"])
    platform.wait_for(lambda: platform.api.group_anonymous_admin(group.id)["user_id"], "the principal")
    _, replies = platform.say(chat["id"], "dave", "/help", anonymous=True)
    assert replies and replies[0].startswith(f"What you can do in {chat['title']}:")
    assert "/ban" in replies[0] and "/promote" not in replies[0]  # the group's admin role, not the owner's


# -- 5. denials are throttled per member


def test_a_member_flooding_denied_commands_is_answered_three_times_then_ignored(platform):
    chat = platform.new_group()
    platform.say(chat["id"], "spammer", "hi")
    flooder = fresh_member(platform, chat)
    first, _ = platform.say(chat["id"], flooder, "/ban @spammer", wait=0)
    for _ in range(7):
        platform.say(chat["id"], flooder, "/ban @spammer", wait=0)
    started = time.monotonic()
    ban, _ = platform.say(chat["id"], "alice", "/ban @spammer", wait=0)
    platform.wait_for(lambda: any(m.get("text") == "@spammer is banned."
                                  for m in bot_messages(platform, chat["id"], ban["message_id"], wait=0.5)),
                      "the owner's ban", timeout=8)
    assert time.monotonic() - started < 5
    answers = [m.get("text", "") for m in bot_messages(platform, chat["id"], first["message_id"] - 1, wait=0, count=0)]
    denials = [text for text in answers if text.startswith("You need the BAN_USERS permission to do that.")]
    assert len(denials) == 3
    assert denials[-1].endswith("(Too many refused commands: I'll ignore yours here for 2 minutes.)")
    # Core was asked three times, not eight.
    checks = platform.api.audit_events(action="permission.check", result="denied",
                                       actor_user_id=core_user_id(platform, flooder, chat), limit=50)["items"]
    assert len(checks) == 3
    # Other members are still answered.
    _, replies = platform.say(chat["id"], "carol", "/kick @spammer")
    assert replies == ["You need the KICK_USERS permission to do that."]
