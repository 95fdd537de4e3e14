"""In-chat protection settings and approvals end to end: sandbox -> bot -> core (MANAGE_SETTINGS checked there, the
change versioned and audited) -> the bot's answer; an approval exempts the member from automated actions in core."""

import time

import pytest

from apps.coreclient import CoreError

from .conftest import BOT

pytestmark = pytest.mark.e2e


def say_html(platform, chat_id, user, text, *, wait=4.0) -> tuple[dict, list[str]]:
    """Platform.say for a message the user formatted (sent with parse_mode HTML, so it carries entities)."""
    message = platform.telegram.send_message(chat_id, user, text, parse_mode="HTML")
    deadline = time.monotonic() + wait
    while True:
        found = platform.telegram.messages(chat_id, since_id=message["message_id"], sender=BOT, wait=0.2, count=1)
        texts = [reply["text"] for reply in found if "text" in reply]
        if texts or time.monotonic() > deadline:
            return message, texts


def settings_of(platform, chat):
    return platform.api.protection_get(platform.api.group_by_chat(chat["id"]).id)


def test_setwelcome_keeps_telegrams_formatting_and_welcome_on(platform):
    chat = platform.new_group()
    _, replies = say_html(platform, chat["id"], "alice", "/setwelcome Hello <b>{first}</b>, read the <i>rules</i>!")
    assert replies == ["Welcome message saved."], replies
    _, replies = platform.say(chat["id"], "alice", "/welcome on")
    assert replies == ["The welcome: on."]
    settings = settings_of(platform, chat)
    assert (settings.welcome_text, settings.welcome_enabled, settings.version) == (
        "Hello <b>{first}</b>, read the <i>rules</i>!", True, 3)
    changes = platform.api.audit_events(action="protection.update", limit=5)["items"]
    assert any(event["details"]["changed"].get("welcome_enabled") == [False, True] for event in changes)
    # The replied-to message's text, formatting and all, for /setrules.
    rules, _ = say_html(platform, chat["id"], "alice", "1. <b>Be kind</b>\n2. No spam", wait=0.5)
    _, replies = platform.say(chat["id"], "alice", "/setrules", reply_to=rules["message_id"])
    assert replies == ["Rules saved."]
    assert settings_of(platform, chat).rules_text == "1. <b>Be kind</b>\n2. No spam"


def test_a_member_without_manage_settings_is_refused_naming_it_and_nothing_changes(any_platform):
    platform = any_platform
    chat = platform.new_group()
    _, replies = platform.say(chat["id"], "carol", "/setflood 5")
    assert replies == ["You need the MANAGE_SETTINGS permission to do that."]
    settings = settings_of(platform, chat)
    assert (settings.flood_limit, settings.version) == (0, 1)
    denials = platform.api.audit_events(action="permission.check", result="denied", limit=5)["items"]
    assert any(event["details"]["permission"] == "MANAGE_SETTINGS" for event in denials)


def test_antiflood_settings_and_the_summary(platform):
    chat = platform.new_group()
    _, replies = platform.say(chat["id"], "alice", "/setflood 2")
    assert replies == ["The number of messages must be 3 to 100."]
    _, replies = platform.say(chat["id"], "alice", "/setfloodmode tmute")
    assert replies[0].startswith("Use /setfloodmode")
    assert settings_of(platform, chat).version == 1  # bad input wrote nothing
    _, replies = platform.say(chat["id"], "alice", "/setflood 5 10s")
    assert replies == ["Antiflood: 5 messages within 10 seconds from one member and they are dealt with (mute)."]
    _, replies = platform.say(chat["id"], "bob_mod", "/setfloodmode tmute 1h")
    assert replies == ["Flooders will get: tmute for 1 hour."]
    settings = settings_of(platform, chat)
    assert (settings.flood_limit, settings.flood_window_seconds, settings.flood_action,
            settings.flood_action_duration_seconds) == (5, 10, "tmute", 3600)
    _, replies = platform.say(chat["id"], "alice", "/protection")
    assert "Antiflood: 5 messages within 10 seconds, then tmute for 1 hour" in replies[0]
    _, replies = platform.say(chat["id"], "alice", "/antiraid 30m")
    assert replies[0].startswith("Raid mode on until ")
    assert settings_of(platform, chat).raid_active
    _, replies = platform.say(chat["id"], "alice", "/antiraid")  # switches it off again
    assert replies == ["Raid mode off."]


def test_approve_exempts_a_member_from_automated_actions_in_core(any_platform):
    platform = any_platform
    chat = platform.new_group()
    message, _ = platform.say(chat["id"], "carol", "hello")
    carol = message["from"]["id"]
    automated = {"telegram_chat_id": chat["id"], "rule": "antiflood", "type": "mute",
                 "target_telegram_user_id": carol}
    _, replies = platform.say(chat["id"], "dave", "/approve", reply_to=message["message_id"])
    assert replies == ["You need the MANAGE_ROLES permission to do that."]
    _, replies = platform.say(chat["id"], "bob_mod", "/approve", reply_to=message["message_id"])
    assert "is approved" in replies[0], replies
    with pytest.raises(CoreError) as exempt:
        platform.api.protection_action(**automated)
    assert (exempt.value.code, exempt.value.details) == ("exempt_member", {"reason": "approved"})
    _, replies = platform.say(chat["id"], "alice", "/approved")
    assert replies[0].startswith("Approved members (1):") and str(carol) in replies[0]
    _, replies = platform.say(chat["id"], "bob_mod", f"/unapprove {carol}")
    assert "no longer approved" in replies[0], replies
    record = platform.api.protection_action(**automated)  # automated protection applies again
    assert (record.rule, record.actor_user_id) == ("antiflood", None)
    platform.api.moderation_complete(record.id, status="failed", error="not acted on in this test")


def test_a_change_made_elsewhere_reaches_the_bots_cache_by_version(platform):
    chat = platform.new_group()
    _, replies = platform.say(chat["id"], "alice", "/welcome")
    assert replies[0].startswith("The welcome is off here."), replies  # loaded into the bot's cache
    group = platform.api.group_by_chat(chat["id"])
    platform.api.protection_update(group.id, welcome_enabled=True)  # as the dashboard would

    def bot_says_on():
        _, replies = platform.say(chat["id"], "alice", "/welcome")
        return replies and replies[0].startswith("The welcome is on here.")

    platform.wait_for(bot_says_on, "the bot's poller to reload the changed settings", timeout=10)
