"""The bot end to end: Telegram sandbox -> bot (webhook, uvicorn) -> core (gunicorn) -> Telegram."""

import time

import httpx
import pytest

from .test_bot_trust import fresh_member

pytestmark = pytest.mark.e2e


def core_member(platform, chat_id, telegram_user_id):
    group = platform.api.group_by_chat(chat_id)
    user = platform.api.user_list(telegram_user_id=telegram_user_id)["items"][0]
    members = platform.api.members(group.id, limit=200)["items"]
    return next(member for member in members if member["user_id"] == user["id"])


def test_owner_bans_by_reply_and_everything_is_recorded(platform):
    chat = platform.new_group()
    spam, _ = platform.say(chat["id"], "spammer", "buy cheap followers")
    mark = platform.call_mark()
    _, replies = platform.say(chat["id"], "alice", "/ban flooding", reply_to=spam["message_id"])
    assert any("banned" in text for text in replies), replies
    bans = platform.calls("banChatMember", since=mark)
    assert bans and bans[0]["params"]["user_id"] in (2000005, "2000005")
    assert platform.telegram.member(chat["id"], "spammer")["status"] == "kicked"
    # The bot answers as soon as Telegram has acted; its record of the outcome reaches core right after.
    platform.wait_for(lambda: core_member(platform, chat["id"], 2000005)["status"] == "banned",
                      "core to record the ban")
    actions = platform.api.moderation_list(type="ban", status="executed")["items"]
    assert any(action["reason"] == "flooding" for action in actions)


def test_a_member_is_denied_and_told_which_permission_is_missing(platform):
    chat = platform.new_group()
    platform.say(chat["id"], "spammer", "hi")
    mark = platform.call_mark()
    _, replies = platform.say(chat["id"], "carol", "/ban @spammer")
    assert replies == ["You need the BAN_USERS permission to do that."]
    assert platform.calls("banChatMember", since=mark) == []
    denials = platform.api.audit_events(action="permission.check", result="denied", limit=5)["items"]
    assert any(event["details"]["permission"] == "BAN_USERS" for event in denials)
    group = platform.api.group_by_chat(chat["id"])
    assert platform.api.moderation_list(group_id=group.id)["total"] == 0  # core refused before recording


def test_the_bot_names_the_telegram_right_it_lacks(platform):
    chat = platform.new_group(bot_rights={"can_delete_messages": True})
    platform.say(chat["id"], "spammer", "hi")
    _, replies = platform.say(chat["id"], "alice", "/kick @spammer")
    assert replies == ["I need the 'Ban users' admin right (can_restrict_members) in this group to do that."]


def test_never_acts_on_the_owner_or_itself(platform):
    chat = platform.new_group()
    mark = platform.call_mark()
    # Core refuses first: the owner outranks an admin (the rank rule on members).
    _, replies = platform.say(chat["id"], "bob_mod", "/ban @alice")
    assert replies == ["You can't ban this member: their rank here (owner, 100) is not below yours (80). "
                       "Only someone who outranks them can."]
    assert platform.calls("banChatMember", since=mark) == []
    group = platform.api.group_by_chat(chat["id"])
    assert platform.api.moderation_list(group_id=group.id)["total"] == 0
    # Core's view may lag Telegram's (here its admin list says bob created the group, so alice has no rank in
    # core): core records the request, and the bot's own look at Telegram still refuses it (completed as failed).
    platform.api.group_admins_sync(group.id, admins=[{"telegram_user_id": 2000002, "status": "creator"}])
    _, replies = platform.say(chat["id"], "bob_mod", "/ban @alice")
    assert replies == ["That's the group's owner: nobody can do that to them."]
    assert platform.calls("banChatMember", since=mark) == []
    [action] = platform.api.moderation_list(group_id=group.id)["items"]
    assert (action["type"], action["status"]) == ("ban", "failed")
    assert action["error"] == "That's the group's owner: nobody can do that to them."
    _, replies = platform.say(chat["id"], "alice", "/mute 123456")
    assert replies == ["I won't do that to myself."]


def test_temporary_mute_with_a_duration(platform):
    chat = platform.new_group()
    platform.say(chat["id"], "dave", "noise")
    mark = platform.call_mark()
    _, replies = platform.say(chat["id"], "bob_mod", "/tmute @dave 10m calm down")
    assert replies == ["@dave is muted for 10 minutes."]
    restrict = platform.calls("restrictChatMember", since=mark)[0]["params"]
    assert 590 <= int(restrict["until_date"]) - time.time() <= 610
    _, replies = platform.say(chat["id"], "bob_mod", "/tmute @dave")
    assert replies == ["Give a duration such as 30s, 10m, 3h, 2d or 1w."]


def test_warnings_up_to_the_groups_limit_apply_its_action(platform):
    chat = platform.new_group()
    platform.say(chat["id"], "spammer", "spam")
    group = platform.api.group_by_chat(chat["id"])
    platform.api.group_update(group.id, warn_limit=2, warn_action="kick")
    _, first = platform.say(chat["id"], "alice", "/warn @spammer links")
    assert first == ["@spammer has been warned (1/2)."]
    mark = platform.call_mark()
    _, second = platform.say(chat["id"], "alice", "/warn @spammer more links")
    assert second == ["@spammer reached 2 warnings and is kicked."]
    assert platform.calls("banChatMember", since=mark) and platform.calls("unbanChatMember", since=mark)
    _, warns = platform.say(chat["id"], "alice", "/warns @spammer")
    assert warns[0].startswith("@spammer: 0/2 warnings.")


def test_usage_errors_explain_and_unknown_targets_are_named(platform):
    chat = platform.new_group()
    _, replies = platform.say(chat["id"], "alice", "/ban")
    assert replies == ["Reply to the user's message, or name them: @username or their numeric id."]
    _, replies = platform.say(chat["id"], "alice", "/ban @nobody_here")
    assert replies == ["I haven't seen @nobody_here write yet, so I can't tell who that is. Reply to one of their "
                       "messages with the command, or name them by their numeric Telegram id."]
    _, replies = platform.say(chat["id"], "alice", "/ban @Sandbox_Mod_Bot flooding")  # itself, by any spelling
    assert replies == ["I won't do that to myself."]
    _, replies = platform.say(chat["id"], "alice", "/warns @sandbox_mod_bot")
    assert replies == ["I won't do that to myself."]
    _, replies = platform.say(chat["id"], "carol", "/mute @nobody_here")  # who may not act learns only that
    assert replies == ["You need the MUTE_USERS permission to do that."]
    group = platform.api.group_by_chat(chat["id"])
    assert platform.api.moderation_list(group_id=group.id)["total"] == 0


def test_delete_and_purge(platform):
    chat = platform.new_group()
    first, _ = platform.say(chat["id"], "spammer", "one", wait=0)
    platform.say(chat["id"], "spammer", "two", wait=0)
    mark = platform.call_mark()
    _, replies = platform.say(chat["id"], "alice", "/purge", reply_to=first["message_id"])
    assert replies == ["Purged 3 messages."]
    deleted = platform.calls("deleteMessages", since=mark)
    assert deleted


def test_grant_follows_cores_rank_rule(platform):
    chat = platform.new_group()
    platform.say(chat["id"], "carol", "hi")
    _, replies = platform.say(chat["id"], "bob_mod", "/grant owner @carol")
    assert replies and "rank" in replies[0].lower()
    _, replies = platform.say(chat["id"], "alice", "/grant moderator @carol trusted")
    assert replies == ["@carol is now moderator here."]
    _, replies = platform.say(chat["id"], "carol", "/roles @carol")
    assert "moderator" in replies[0]


def test_webhook_refuses_requests_without_the_secret(platform):
    url = f"http://127.0.0.1:{platform.bot_port}/telegram/webhook"
    assert httpx.post(url, json={"update_id": 1}).status_code == 403
    wrong = httpx.post(url, json={"update_id": 1}, headers={"X-Telegram-Bot-Api-Secret-Token": "nope"})
    assert wrong.status_code == 403


def test_malformed_updates_are_acknowledged_not_retried_forever(platform):
    from .processes import WEBHOOK_SECRET

    url = f"http://127.0.0.1:{platform.bot_port}/telegram/webhook"
    headers = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}
    assert httpx.post(url, content=b"{not json", headers=headers).status_code == 200
    # An id far past the sandbox's: the bot keeps every stored update id to drop Telegram's redeliveries.
    assert httpx.post(url, json={"update_id": 10**12, "mystery": {"x": 1}}, headers=headers).status_code == 200
    health = httpx.get(f"http://127.0.0.1:{platform.bot_port}/api/health").json()
    assert health == {"status": "healthy", "service": "bot", "version": health["version"], "core_api": "connected",
                      "redis": "not_configured"}


@pytest.fixture(scope="module")
def shared_group(platform):
    chat = platform.new_group()
    victim, _ = platform.say(chat["id"], "spammer", "a message to point at")
    return chat, victim


@pytest.mark.parametrize(
    ("command", "permission"),
    [
        ("/ban @spammer", "BAN_USERS"), ("/tban @spammer 1h", "BAN_USERS"), ("/unban @spammer", "BAN_USERS"),
        ("/kick @spammer", "KICK_USERS"), ("/mute @spammer", "MUTE_USERS"), ("/tmute @spammer 5m", "MUTE_USERS"),
        ("/unmute @spammer", "MUTE_USERS"), ("/warn @spammer", "WARN_USERS"), ("/unwarn @spammer", "WARN_USERS"),
        ("/resetwarns @spammer", "WARN_USERS"), ("/promote @spammer", "MANAGE_ADMINS"),
        ("/demote @spammer", "MANAGE_ADMINS"), ("/grant helper @spammer", "MANAGE_ROLES"),
        ("/revoke helper @spammer", "MANAGE_ROLES"), ("/sync", "MANAGE_ROLES"), ("/stats", "VIEW_STATS"),
        ("/admin_dashboard", "ADMIN_DASHBOARD"), ("/pin", "PIN_MESSAGES"), ("/unpin", "PIN_MESSAGES"),
        ("/del", "DELETE_MESSAGES"), ("/purge", "DELETE_MESSAGES"), ("/warns @spammer", "WARN_USERS"),
    ],
)
def test_every_command_is_denied_to_a_plain_member(platform, shared_group, command, permission):
    chat, victim = shared_group
    member = fresh_member(platform, chat)  # a member's denials are throttled after a few: one member per command
    mark = platform.call_mark()
    reply_to = None if "@" in command else victim["message_id"]  # message commands point by reply
    _, replies = platform.say(chat["id"], member, command, reply_to=reply_to, wait=10)  # a reply is due: no rush
    assert replies == [f"You need the {permission} permission to do that."]
    acted = [call for call in platform.telegram.calls(since=mark, exclude=["getUpdates"])["calls"]
             if call["method"] not in ("sendMessage", "getChatMember", "getChatAdministrators")
             and str(call["params"].get("chat_id")) == str(chat["id"])]  # what earlier tests' groups still see
    assert acted == []


@pytest.mark.parametrize(
    ("command", "telegram_method", "reply"),
    [
        ("/pin", "pinChatMessage", None),
        ("/unpin", "unpinChatMessage", None),
        ("/mute", "restrictChatMember", "is muted."),
        ("/unmute", "restrictChatMember", "may speak again."),
        ("/promote", "promoteChatMember", "is now an admin."),
        ("/demote", "promoteChatMember", "is no longer an admin."),
        ("/kick", "banChatMember", "was kicked."),
        ("/unban", "unbanChatMember", "may come back."),
        ("/del", "deleteMessages", None),
    ],
)
def test_commands_by_the_owner_act_on_telegram(platform, command, telegram_method, reply):
    chat = platform.new_group()
    target, _ = platform.say(chat["id"], "dave", "look at me")
    mark = platform.call_mark()
    _, replies = platform.say(chat["id"], "alice", command, reply_to=target["message_id"], wait=2 if reply else 1)
    assert platform.calls(telegram_method, since=mark), (command, replies)
    if reply:
        assert replies and replies[0].endswith(reply)
    action = command.removeprefix("/").replace("del", "delete")
    group = platform.api.group_by_chat(chat["id"])
    # The bot replies first and completes the record right after.
    platform.wait_for(lambda: platform.api.moderation_list(type=action, group_id=group.id, limit=1)["items"][0][
        "status"] == "executed", f"core to record the {action} as executed")


def test_the_owner_check_is_reused_until_the_member_changes(platform):
    chat = platform.new_group()
    platform.say(chat["id"], "dave", "hello")
    mark = platform.call_mark()
    for command in ("/mute @dave", "/unmute @dave", "/mute @dave"):
        _, replies = platform.say(chat["id"], "bob_mod", command)
        assert replies and "dave" in replies[0], replies
    dave = platform.telegram.member(chat["id"], "dave")["user"]["id"]
    looked_up = [call for call in platform.calls("getChatMember", since=mark)
                 if int(call["params"]["user_id"]) == dave]
    assert len(looked_up) == 1  # Telegram's answer about dave, asked once
    # Restricting dave sent chat_member updates about him; none was about ownership, so none dropped the answer.
