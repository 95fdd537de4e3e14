"""Welcome, goodbye, service-message cleanup, /rules and the log channel, end to end: sandbox -> bot -> core ->
sandbox, with the group's settings changed in core as the dashboard changes them."""

import itertools
import uuid

import pytest

pytestmark = pytest.mark.e2e

BOT = "@sandbox_mod_bot"
_numbers = itertools.count(1)


def fresh_user(platform) -> str:
    username = f"w{next(_numbers)}_{uuid.uuid4().hex[:8]}"
    platform.telegram.create_user(username.capitalize(), username=username, last_name="O'Hara & <Co>")
    return username


def protect(platform, chat, **fields):
    """Changes the group's settings in core, as the dashboard does; returns once the bot acts on them."""
    group = platform.api.group_by_chat(chat["id"])
    return platform.reload_settings(lambda: platform.api.protection_update(group.id, **fields))


def bot_texts(platform, chat_id, since_id=0) -> list[dict]:
    return platform.telegram.messages(chat_id, since_id=since_id, sender=BOT)


def wait_bot_message(platform, chat_id, since_id, predicate, what, timeout=10.0) -> dict:
    def found():
        return next((m for m in bot_texts(platform, chat_id, since_id) if predicate(m)), None)
    return platform.wait_for(found, what, timeout=timeout)


def last_id(platform, chat_id) -> int:
    messages = platform.telegram.messages(chat_id)
    return messages[-1]["message_id"] if messages else 0


def test_welcome_fills_placeholders_and_clean_welcome_deletes_the_previous_one(any_platform):
    platform = any_platform
    chat = platform.new_group()
    protect(platform, chat, welcome_enabled=True, clean_welcome=True, rules_text="Be <b>kind</b>.",
            welcome_text="Hi <b>{first}</b> {last}! {username}, member {count} of {chatname} {{x}} {nope}\n{rules}")
    since, mark = last_id(platform, chat["id"]), platform.call_mark()
    first = fresh_user(platform)
    platform.telegram.add_member(chat["id"], first)
    welcome = wait_bot_message(platform, chat["id"], since, lambda m: m.get("text", "").startswith("Hi "),
                               "the welcome")
    [counted] = platform.calls("getChatMemberCount", since=mark)
    assert welcome["text"] == (f"Hi {first.capitalize()} O'Hara & <Co>! @{first}, member {counted['result']} of "
                               f"{chat['title']} {{x}} {{nope}}")
    assert {"type": "bold", "offset": 3, "length": len(first)} in welcome["entities"]
    [[button]] = welcome["reply_markup"]["inline_keyboard"]
    assert (button["text"], button["url"]) == ("Rules", f"https://t.me/sandbox_mod_bot?start=rules_{chat['id']}")

    second = fresh_user(platform)
    platform.telegram.add_member(chat["id"], second)
    wait_bot_message(platform, chat["id"], welcome["message_id"], lambda m: second.capitalize() in m.get("text", ""),
                     "the second welcome")
    platform.wait_for(lambda: all(m["message_id"] != welcome["message_id"]
                                  for m in platform.telegram.messages(chat["id"])), "the first welcome deleted")


def test_clean_welcome_survives_a_bot_restart(platform):
    chat = platform.new_group()
    protect(platform, chat, welcome_enabled=True, clean_welcome=True, welcome_text="Welcome {first}")
    since = last_id(platform, chat["id"])
    first = fresh_user(platform)
    platform.telegram.add_member(chat["id"], first)
    welcome = wait_bot_message(platform, chat["id"], since, lambda m: m.get("text") == f"Welcome {first.capitalize()}",
                               "the welcome")
    platform.restart_bot()
    second = fresh_user(platform)
    platform.telegram.add_member(chat["id"], second)
    wait_bot_message(platform, chat["id"], welcome["message_id"],
                     lambda m: m.get("text") == f"Welcome {second.capitalize()}", "the second welcome")
    platform.wait_for(lambda: all(m["message_id"] != welcome["message_id"]
                                  for m in platform.telegram.messages(chat["id"])), "the first welcome deleted")


def test_default_welcome_goodbye_and_service_messages_cleaned(any_platform):
    platform = any_platform
    chat = platform.new_group()
    protect(platform, chat, welcome_enabled=True, goodbye_enabled=True, clean_service=True)
    since = last_id(platform, chat["id"])
    member = fresh_user(platform)
    platform.telegram.add_member(chat["id"], member)
    wait_bot_message(platform, chat["id"], since,
                     lambda m: m.get("text") == f"Hey {member.capitalize()}, how are you?", "Rose's default welcome")
    platform.telegram.leave(chat["id"], member)
    wait_bot_message(platform, chat["id"], since, lambda m: m.get("text") == "Nice knowing ya!", "the goodbye")

    def service_left() -> list[dict]:
        return [m for m in platform.telegram.messages(chat["id"], since_id=since)
                if m.get("new_chat_members") or m.get("left_chat_member")]
    platform.wait_for(lambda: service_left() == [], "the join and leave notices deleted")


def test_nothing_is_sent_when_welcome_and_goodbye_are_off(platform):
    chat = platform.new_group()
    since = last_id(platform, chat["id"])
    member = fresh_user(platform)
    platform.telegram.add_member(chat["id"], member)
    platform.telegram.leave(chat["id"], member)
    platform.wait_for(platform.settled, "the bot to be done")
    assert bot_texts(platform, chat["id"], since) == []
    kinds = [m for m in platform.telegram.messages(chat["id"], since_id=since) if m.get("new_chat_members")]
    assert len(kinds) == 1  # service messages stay when clean_service is off


def test_rules_by_button_and_deep_link_or_in_the_group(any_platform):
    platform = any_platform
    chat = platform.new_group()
    member = fresh_user(platform)
    platform.telegram.add_member(chat["id"], member)
    _, replies = platform.say(chat["id"], member, "/rules")
    assert replies == [f"The admins of {chat['title']} haven't set any rules yet."]

    protect(platform, chat, rules_text="1. Be <b>kind</b>\n2. No spam")
    asked, replies = platform.say(chat["id"], member, "/rules")
    assert replies == ["Press the button to read this group's rules in a private chat with me."]
    [answer] = bot_texts(platform, chat["id"], asked["message_id"])
    [[button]] = answer["reply_markup"]["inline_keyboard"]
    assert button["url"] == f"https://t.me/sandbox_mod_bot?start=rules_{chat['id']}"

    platform.telegram.start_bot(member)
    platform.telegram.send_message(BOT, member, f"/start rules_{chat['id']}")
    private = platform.wait_for(
        lambda: next((m for m in platform.telegram.messages(BOT, user=member, sender=BOT)
                      if m.get("text", "").startswith("The rules of")), None), "the rules in private")
    assert private["text"] == f"The rules of {chat['title']}:\n\n1. Be kind\n2. No spam"
    assert any(e["type"] == "bold" and e["length"] == 4 for e in private["entities"])  # the rules' own <b>

    protect(platform, chat, rules_private=False)
    _, replies = platform.say(chat["id"], member, "/rules")
    assert replies == [f"The rules of {chat['title']}:\n\n1. Be kind\n2. No spam"]


def make_log_channel(platform, *, bot_posts=True) -> dict:
    number = next(_numbers)
    channel = platform.telegram.create_chat(f"Log {number}", "alice", type="channel",
                                            username=f"log_{number}_{uuid.uuid4().hex[:6]}")
    if bot_posts:
        platform.telegram.add_member(channel["id"], BOT, by="alice", status="administrator",
                                     rights={"can_post_messages": True})
    return channel


def channel_posts(platform, channel) -> list[dict]:
    return platform.telegram.messages(channel["id"], sender=BOT)


def test_setlog_by_forward_then_a_ban_and_a_settings_change_are_posted(any_platform):
    platform = any_platform
    chat = platform.new_group()
    channel = make_log_channel(platform)
    post = platform.telegram.send_message(channel["id"], "alice", "/setlog")

    # Someone without MANAGE_SETTINGS is refused, naming it; nothing is set.
    forwarded = platform.telegram.forward_message(chat["id"], "carol", channel["id"], post["message_id"])
    refused = wait_bot_message(platform, chat["id"], forwarded["message_id"], lambda m: "MANAGE_SETTINGS" in m["text"],
                               "the refusal")
    assert "permission" in refused["text"]

    forwarded = platform.telegram.forward_message(chat["id"], "alice", channel["id"], post["message_id"])
    wait_bot_message(platform, chat["id"], forwarded["message_id"],
                     lambda m: m["text"].startswith("Log channel set"), "the log channel set")
    group = platform.api.group_by_chat(chat["id"])
    assert platform.api.protection_get(group.id)["log_chat_id"] == channel["id"]

    spam, _ = platform.say(chat["id"], "spammer", "buy now")
    platform.say(chat["id"], "alice", "/ban scam", reply_to=spam["message_id"])
    banned = platform.wait_for(lambda: next((p for p in channel_posts(platform, channel) if "#BANNED" in p["text"]),
                                            None), "the ban in the log channel", timeout=10)
    assert chat["title"] in banned["text"] and "Reason: scam" in banned["text"]
    assert "Outcome: done" in banned["text"]
    link = next(e for e in banned["entities"] if e["type"] == "text_link")
    assert link["url"] == f"https://t.me/c/{str(chat['id'])[4:]}/{spam['message_id']}"

    protect(platform, chat, welcome_enabled=True)
    settings_post = platform.wait_for(
        lambda: next((p for p in channel_posts(platform, channel) if "welcome_enabled" in p["text"]), None),
        "the settings change in the log channel", timeout=10)
    assert "welcome_enabled: off → on" in settings_post["text"]

    _, replies = platform.say(chat["id"], "alice", "/unsetlog")
    assert replies == ["Log channel turned off: nothing is posted to it any more."]
    assert platform.api.protection_get(group.id)["log_chat_id"] is None


def test_setlog_refuses_a_channel_the_bot_cannot_post_in(platform):
    chat = platform.new_group()
    channel = make_log_channel(platform, bot_posts=False)
    post = platform.telegram.send_message(channel["id"], "alice", "/setlog")
    forwarded = platform.telegram.forward_message(chat["id"], "alice", channel["id"], post["message_id"])
    answer = wait_bot_message(platform, chat["id"], forwarded["message_id"], lambda m: True, "the answer")
    assert answer["text"].startswith("I can't") and "with the right to post messages" in answer["text"]
    group = platform.api.group_by_chat(chat["id"])
    assert platform.api.protection_get(group.id)["log_chat_id"] is None

    _, replies = platform.say(chat["id"], "alice", "/setlog")
    assert replies and replies[0].startswith("To set a log channel")


def test_setlog_as_a_reply_to_a_message_forwarded_from_the_channel(platform):
    chat = platform.new_group()
    channel = make_log_channel(platform)
    post = platform.telegram.send_message(channel["id"], "alice", "our news")
    forwarded = platform.telegram.forward_message(chat["id"], "carol", channel["id"], post["message_id"])
    _, replies = platform.say(chat["id"], "alice", "/setlog", reply_to=forwarded["message_id"])
    assert replies == [f"Log channel set: {channel['title']}. Every moderation action and settings change here is "
                       "posted there."]
    group = platform.api.group_by_chat(chat["id"])
    assert platform.api.protection_get(group.id)["log_chat_id"] == channel["id"]


def test_a_failing_log_channel_is_said_once_in_the_group(platform):
    chat = platform.new_group()
    channel = make_log_channel(platform, bot_posts=False)  # set by the dashboard: nobody checked the bot is there
    since = last_id(platform, chat["id"])
    protect(platform, chat, log_chat_id=channel["id"])
    for _ in range(2):
        spam, _ = platform.say(chat["id"], "spammer", "spam")
        platform.say(chat["id"], "alice", "/warn spam", reply_to=spam["message_id"])

    def reports():
        return [m for m in bot_texts(platform, chat["id"], since)
                if m["text"].startswith("I can't post to this group's log channel")]
    group = platform.api.group_by_chat(chat["id"])
    platform.wait_for(lambda: len(platform.api.audit_events(action="logchannel.post_failed",
                                                            group_id=group.id)["items"]) == 3,
                      "every failed post recorded (the log chat set, two warns)", timeout=15)
    platform.wait_for(reports, "the group told")
    platform.wait_for(platform.settled, "the bot to be done")
    [report] = reports()
    assert "Forbidden: bot is not a member of the channel chat" in report["text"]
    assert channel_posts(platform, channel) == []
