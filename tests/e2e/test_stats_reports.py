"""The bot's /stats end to end (sandbox -> bot -> core -> sandbox): a member's /report is shown as a report, not
among the moderation actions."""

import pytest

pytestmark = pytest.mark.e2e


def test_stats_show_reports_apart_from_moderation(platform):
    chat = platform.new_group()
    spam, _ = platform.say(chat["id"], "spammer", "cheap followers")
    _, replies = platform.say(chat["id"], "carol", "/report scam", reply_to=spam["message_id"])
    assert len(replies) == 1 and replies[0].startswith("Reported to the admins"), replies
    group = platform.api.group_by_chat(chat["id"])
    platform.wait_for(lambda: platform.api.moderation_list(group_id=group.id, type="report",
                                                           status="executed")["items"], "core to record the report")
    _, replies = platform.say(chat["id"], "alice", "/stats")
    assert len(replies) == 1, replies
    lines = replies[0].splitlines()
    assert "Moderation: none" in lines and "Reports by members: 1" in lines, lines
