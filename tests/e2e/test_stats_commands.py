"""/stats, /mystats and the weekly digest end to end: sandbox -> bot -> core -> sandbox, the figures compared with
the messages sent, names shown as plain text (escaped, never a mention), VIEW_STATS and MANAGE_SETTINGS refused to a
plain member, and the digest posted once to the log channel by the bot's log poster."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from .test_bot_trust import bot_messages, fresh_member
from .test_welcome_rules_log import channel_posts, fresh_user, make_log_channel, protect

pytestmark = pytest.mark.e2e

LINKS = {"mention", "text_mention", "text_link", "url"}


def _name(username: str) -> str:
    return f"{username.capitalize()} O'Hara & <Co>"  # named_member's names: HTML in them must stay text


def named_member(platform, chat) -> str:
    """A new member whose name holds HTML, once core knows them."""
    username = fresh_user(platform)
    platform.telegram.add_member(chat["id"], username)
    telegram_id = platform.telegram.member(chat["id"], username)["user"]["id"]
    platform.wait_for(lambda: platform.api.user_list(telegram_user_id=telegram_id)["items"], "core to know them")
    return username


def _core_user(platform, chat, username) -> dict:
    telegram_id = platform.telegram.member(chat["id"], username)["user"]["id"]
    return platform.api.user_list(telegram_user_id=telegram_id)["items"][0]


def _answer(platform, chat, user, text, **options) -> dict:
    """The bot's one reply to `text`, with its entities."""
    asked, replies = platform.say(chat["id"], user, text, **options)
    assert len(replies) == 1, replies
    [answer] = bot_messages(platform, chat["id"], asked["message_id"])
    return answer


def test_stats_summarise_the_group_with_top_members_as_plain_names(platform):
    chat = platform.new_group()
    talker = named_member(platform, chat)
    for number in range(3):
        platform.say(chat["id"], talker, f"hello {number}")
    platform.say(chat["id"], "dave", "hi")
    group = platform.api.group_by_chat(chat["id"])
    platform.wait_for(lambda: platform.api.group_analytics(group.id, period="today")["totals"]["messages"] == 4,
                      "core to count the four messages")

    answer = _answer(platform, chat, "alice", "/stats")
    lines = answer["text"].splitlines()
    assert lines[0].startswith(f"{chat['title']}: last 7 days (") and lines[0].endswith(", UTC)"), lines
    assert lines[1].startswith("Messages: 4, active members: "), lines
    assert lines[2].startswith("DAU ") and " MAU " in lines[2] and "stickiness" in lines[2], lines
    assert "Joins: " in lines[3] and "net growth: " in lines[3], lines
    assert any(line.startswith("Busiest hour: ") for line in lines), lines
    top = lines.index("Top members:")
    assert lines[top + 1] == f"1. {_name(talker)}: 3 (75.0%)", lines
    assert lines[top + 2].endswith(": 1 (25.0%)"), lines
    assert lines[-2:] == ["Moderation: none", "Reports by members: 0"], lines
    assert not LINKS & {entity["type"] for entity in answer.get("entities", [])}, answer["entities"]

    today = _answer(platform, chat, "alice", "/stats today")["text"].splitlines()
    assert today[0].startswith(f"{chat['title']}: today (") and today[1].startswith("Messages: 4,"), today
    _, replies = platform.say(chat["id"], "alice", "/stats 1y")
    assert replies == ["Use /stats (the last 7 days), /stats today, /stats 7d or /stats 30d."]


def test_stats_are_refused_without_view_stats(platform):
    chat = platform.new_group()
    member = fresh_member(platform, chat)
    _, replies = platform.say(chat["id"], member, "/stats 30d")
    assert replies == ["You need the VIEW_STATS permission to do that."]
    group = platform.api.group_by_chat(chat["id"])
    denials = platform.api.audit_events(action="permission.check", result="denied", group_id=group.id)["items"]
    assert [event["details"]["permission"] for event in denials] == ["VIEW_STATS"]


def test_mystats_shows_a_member_their_own_figures(platform):
    chat = platform.new_group()
    member = named_member(platform, chat)
    first, _ = platform.say(chat["id"], member, "one")
    platform.say(chat["id"], member, "two")
    _, replies = platform.say(chat["id"], "alice", "/warn be nice", reply_to=first["message_id"])
    assert replies and "has been warned" in replies[0], replies
    group, user = platform.api.group_by_chat(chat["id"]), _core_user(platform, chat, member)
    platform.wait_for(lambda: platform.api.member_analytics(group.id, user["id"])["lifetime"]["messages"] == 2,
                      "core to count their messages")
    platform.wait_for(lambda: platform.api.member_analytics(group.id, user["id"])["actions_received"],
                      "core to record the warning as executed")
    figures = platform.api.member_analytics(group.id, user["id"])

    answer = _answer(platform, chat, member, "/mystats")  # no permission needed: their own figures
    assert answer["text"].splitlines() == [
        f"{_name(member)} in this group",
        f"First seen: {figures['first_seen'][:10]}",  # the group's clock is UTC
        "Messages: 2 in the last 7 days, 2 in the last 30, 2 in all",
        "Warnings: 1 active (1 in all)",
        "Actions received: warn 1",
    ]
    assert not LINKS & {entity["type"] for entity in answer.get("entities", [])}


def test_mystats_as_a_members_first_message(platform):
    """Their /mystats is the first thing core hears of them: the bot delivers what it recorded, then asks."""
    chat = platform.new_group()
    username = f"m{uuid.uuid4().hex[:10]}"
    platform.telegram.create_user(username.capitalize(), username=username)
    platform.telegram.add_member(chat["id"], username)
    lines = _answer(platform, chat, username, "/mystats")["text"].splitlines()
    assert lines[0] == f"{username.capitalize()} in this group", lines
    assert lines[2:] == ["Messages: 0 in the last 7 days, 0 in the last 30, 0 in all", "Warnings: 0 active (0 in all)",
                         "Actions received: none"], lines


def _last_week_monday(now: datetime):
    today = now.date()
    return today - timedelta(days=today.weekday() + 7)


def _digests(platform, channel) -> list[str]:
    return [post["text"] for post in channel_posts(platform, channel) if "#DIGEST" in post["text"]]


def test_the_weekly_digest_is_switched_on_in_the_chat_and_posted_once_to_the_log_channel(platform):
    chat = platform.new_group()
    channel = make_log_channel(platform)
    protect(platform, chat, log_chat_id=channel["id"])
    group = platform.api.group_by_chat(chat["id"])
    monday = _last_week_monday(datetime.now(UTC))
    # Last week's messages, as the bot shipped them then (the group's clock is UTC).
    moment = datetime(monday.year, monday.month, monday.day, 12, tzinfo=UTC) + timedelta(days=2)
    senders = [(7_300_001, "Eve @everyone <3")] + [(7_300_002, "Zed")] * 3
    platform.api.events_batch([
        {"event_id": f"digest-{uuid.uuid4().hex}", "type": "message", "telegram_chat_id": chat["id"],
         "telegram_user_id": telegram_id, "display_name": name,
         "occurred_at": (moment + timedelta(minutes=number)).isoformat()}
        for number, (telegram_id, name) in enumerate(senders)])

    member = fresh_member(platform, chat)
    _, replies = platform.say(chat["id"], member, "/digest on")
    assert replies == ["You need the MANAGE_SETTINGS permission to do that."]
    assert platform.api.group_get(group.id)["weekly_digest"] is False

    _, replies = platform.say(chat["id"], "alice", "/digest on")
    assert replies == ["Weekly digest: on. Last week's figures are posted to the log channel every Monday (the "
                       "group's time zone)."]
    [digest] = platform.wait_for(lambda: _digests(platform, channel), "the digest in the log channel", timeout=15)
    lines = digest.splitlines()  # a post may carry other entries too (the settings change), a blank line apart
    start = lines.index("#DIGEST") - 1
    post = lines[start:lines.index("", start) if "" in lines[start:] else len(lines)]
    assert post[:4] == [f"{chat['title']} [{chat['id']}]", "#DIGEST",
                        f"Week: {monday:%a %d %b} to {monday + timedelta(days=6):%a %d %b %Y} (UTC)",
                        "Messages: 4 from 2 active members"], post
    assert "Top members:" in post
    assert post[post.index("Top members:") + 1:][:2] == ["1. Zed: 3 (75.0%)", "2. Eve @\u2060everyone <3: 1 (25.0%)"]
    assert post[-1] == "Moderation: none; reports by members: 0"
    assert platform.api.group_get(group.id)["digest_sent_week"] == monday.isoformat()

    _, replies = platform.say(chat["id"], "alice", "/digest")
    assert replies == ["The weekly digest is on here. Use /digest on or /digest off."]
    _, replies = platform.say(chat["id"], "alice", "/digest off")
    assert replies == ["Weekly digest: off."]
    assert platform.api.group_get(group.id)["weekly_digest"] is False
    # The switch-off is logged after the digest: by then the poster has claimed again, and the digest stays one.
    platform.wait_for(lambda: any("weekly_digest" in post["text"] and "on → off" in post["text"]
                                  for post in channel_posts(platform, channel)), "the switch-off in the log")
    assert len(_digests(platform, channel)) == 1
