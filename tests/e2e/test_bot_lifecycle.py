"""Groups joining, changing and leaving; anonymous admins; events and the outbox through outages."""

import time

import httpx
import pytest

pytestmark = pytest.mark.e2e

ANONYMOUS_BOT = 1087968824


def allowed(platform, chat_id, telegram_user_id, permission):
    return platform.api.check_permission(permission=permission, telegram_user_id=telegram_user_id,
                                         telegram_chat_id=chat_id).allowed


def test_bot_added_registers_the_group_and_syncs_its_admins(platform):
    chat = platform.new_group()
    group = platform.api.group_by_chat(chat["id"])
    assert (group.title, group.is_active) == (chat["title"], True)
    platform.wait_for(lambda: allowed(platform, chat["id"], 2000001, "MANAGE_ADMINS"), "alice to own the group")
    assert allowed(platform, chat["id"], 2000002, "BAN_USERS")  # bob, a Telegram administrator
    assert not allowed(platform, chat["id"], 2000003, "BAN_USERS")  # carol, a member


def test_promotion_in_telegram_reaches_core_and_removal_deactivates(platform):
    chat = platform.new_group()
    platform.telegram.promote(chat["id"], "carol", rights={"can_delete_messages": True})
    platform.wait_for(lambda: allowed(platform, chat["id"], 2000003, "DELETE_MESSAGES"), "carol to become admin")
    platform.telegram.promote(chat["id"], "carol", rights={})
    platform.wait_for(lambda: not allowed(platform, chat["id"], 2000003, "DELETE_MESSAGES"), "carol's demotion")

    platform.telegram.remove(chat["id"], "@sandbox_mod_bot", by="alice")
    platform.wait_for(lambda: not platform.api.group_by_chat(chat["id"]).is_active, "the group to deactivate")


def test_a_group_upgraded_to_a_supergroup_moves_in_core(platform):
    chat = platform.new_group(type="group", admins=())
    group = platform.api.group_by_chat(chat["id"])
    upgraded = platform.telegram.upgrade_group(chat["id"])
    new_id = upgraded["id"]
    platform.wait_for(lambda: platform.api.group_get(group.id)["telegram_chat_id"] == new_id, "the migration")
    assert platform.api.group_by_chat(chat["id"]).id == group.id  # the old id still resolves


def test_anonymous_admins_act_through_the_groups_principal_only(platform):
    chat = platform.new_group()
    platform.say(chat["id"], "spammer", "spam")
    platform.telegram.promote(chat["id"], "dave", rights={"can_restrict_members": True}, is_anonymous=True)
    group = platform.api.group_by_chat(chat["id"])
    platform.wait_for(lambda: platform.api.group_anonymous_admin(group.id)["user_id"], "the principal")
    mark = platform.call_mark()
    _, replies = platform.say(chat["id"], "dave", "/ban @spammer", anonymous=True)
    assert replies == ["@spammer is banned."]
    assert platform.calls("banChatMember", since=mark)
    assert platform.api.user_list(telegram_user_id=ANONYMOUS_BOT)["total"] == 0
    # The principal holds admin here, not owner, and nothing elsewhere.
    _, replies = platform.say(chat["id"], "dave", "/promote @carol", anonymous=True)
    assert replies == ["You need the MANAGE_ADMINS permission to do that."]


def test_rate_limit_answers_are_honoured(platform):
    chat = platform.new_group()
    platform.say(chat["id"], "spammer", "spam")
    platform.telegram.fail_next("banChatMember", retry_after=1)
    started = time.monotonic()
    _, replies = platform.say(chat["id"], "alice", "/ban @spammer", wait=6)
    assert replies == ["@spammer is banned."]
    assert time.monotonic() - started >= 1.0
    bans = platform.calls("banChatMember")
    assert [call for call in bans if call.get("error_code") == 429 or "retry" in str(call.get("error", ""))]


def _messages_in_core(platform, chat_id) -> int:
    group = platform.api.group_by_chat(chat_id)
    return platform.api.group_stats(group.id, bucket="hour")["totals"]["messages"]


def _wait_until_the_bot_trusts_core(platform) -> None:
    """Leaves the shared platform as the test found it: the bot's circuit breaker, opened by the outage, closed
    again (a health call gets through), so the next test's updates are not refused without reaching core."""
    platform.wait_for(lambda: _bot_health(platform)["core_api"] == "connected", "the bot to call core again",
                      timeout=15)


def _bot_health(platform) -> dict:
    return httpx.get(f"http://127.0.0.1:{platform.bot_port}/api/health", timeout=5).json()


def _outbox_depth(platform) -> float:
    metrics = httpx.get(f"http://127.0.0.1:{platform.bot_port}/metrics", timeout=5).text
    return sum(float(line.rsplit(" ", 1)[1]) for line in metrics.splitlines() if line.startswith("bot_outbox_depth"))


def test_messages_reach_core_within_about_a_second(platform):
    chat = platform.new_group()
    for number in range(5):
        platform.telegram.send_message(chat["id"], "carol", f"message {number}")
    started = time.monotonic()
    platform.wait_for(lambda: _messages_in_core(platform, chat["id"]) >= 5, "the events to arrive", timeout=5)
    assert time.monotonic() - started < 3


def test_core_outage_keeps_events_and_answers_commands_quickly(platform):
    chat = platform.new_group()
    platform.core.stop()
    try:
        for number in range(7):
            platform.telegram.send_message(chat["id"], "carol", f"during the outage {number}")
        started = time.monotonic()
        _, replies = platform.say(chat["id"], "alice", "/ban @spammer", wait=4)
        assert replies == ["The moderation service is temporarily unavailable. Please try again in a minute."]
        assert time.monotonic() - started < 2.5
        platform.wait_for(lambda: _outbox_depth(platform) >= 7, "the outbox to hold them")
        health = _bot_health(platform)
        assert (health["status"], health["core_api"]) == ("unhealthy", "disconnected")
    finally:
        platform.core.start()
    platform.wait_for(lambda: _messages_in_core(platform, chat["id"]) >= 7, "the replay", timeout=15)
    platform.wait_for(lambda: _outbox_depth(platform) == 0, "the outbox to drain", timeout=10)
    _wait_until_the_bot_trusts_core(platform)


def test_the_outbox_survives_a_bot_restart(platform):
    chat = platform.new_group()
    platform.core.stop()
    try:
        for number in range(4):
            platform.telegram.send_message(chat["id"], "dave", f"before the restart {number}")
        platform.wait_for(lambda: _outbox_depth(platform) >= 4, "the outbox to hold them")
        platform.bot.stop()
        platform.bot.start()
    finally:
        platform.core.start()
    platform.wait_for(lambda: _messages_in_core(platform, chat["id"]) >= 4, "the replay after restart", timeout=15)
    _wait_until_the_bot_trusts_core(platform)


def test_a_group_first_met_during_an_outage_is_registered_and_keeps_its_events(platform):
    platform.core.stop()
    try:
        chat = platform.telegram.create_chat("Met during the outage", "alice", members=["carol"])
        platform.telegram.add_member(chat["id"], "@sandbox_mod_bot", by="alice", status="administrator",
                                     rights={"can_restrict_members": True, "can_delete_messages": True})
        for number in range(3):
            platform.telegram.send_message(chat["id"], "carol", f"before core knows this group {number}")
        platform.wait_for(lambda: _outbox_depth(platform) >= 3, "the outbox to hold them")
    finally:
        platform.core.start()
    # No new message in the chat: the replay itself registers the group, and no event is dropped.
    platform.wait_for(lambda: platform._core_group(chat["id"]) is not None, "the group to be registered", timeout=15)
    platform.wait_for(lambda: _messages_in_core(platform, chat["id"]) >= 3, "the replay", timeout=15)
    assert platform.api.group_by_chat(chat["id"]).title == "Met during the outage"
    _wait_until_the_bot_trusts_core(platform)


def test_an_admin_demoted_during_an_outage_loses_the_role_in_core_once_it_is_back(platform):
    chat = platform.new_group()
    platform.wait_for(lambda: allowed(platform, chat["id"], 2000002, "BAN_USERS"), "bob to be an admin in core")
    platform.core.stop()
    try:
        platform.telegram.promote(chat["id"], "bob_mod", rights={})  # demoted while core cannot hear of it
        platform.telegram.remove(chat["id"], "dave", by="alice", ban=True)
        time.sleep(1.0)  # the bot gets both updates and finds core away
    finally:
        platform.core.start()
    platform.wait_for(lambda: not allowed(platform, chat["id"], 2000002, "BAN_USERS"), "bob's demotion in core",
                      timeout=15)
    group = platform.api.group_by_chat(chat["id"])
    platform.wait_for(lambda: [m["status"] for m in platform.api.members(group.id)["items"]
                               if m["telegram_user_id"] == 2000004] == ["banned"], "dave's ban in core", timeout=15)
    _wait_until_the_bot_trusts_core(platform)
