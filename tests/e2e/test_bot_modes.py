"""The e2e platform in both of the bot's modes (webhook under uvicorn, long polling with `manage.py runbot`): the same
flow answered the same way, and `settled()` telling when the bot is done in each."""

import pytest

from .conftest import BOT

pytestmark = pytest.mark.e2e


def test_ban_by_reply_in_either_mode(any_platform):
    platform = any_platform
    chat = platform.new_group()
    spam, _ = platform.say(chat["id"], "spammer", "buy cheap followers")
    mark = platform.call_mark()
    _, replies = platform.say(chat["id"], "alice", "/ban flooding", reply_to=spam["message_id"])
    assert any("banned" in text for text in replies), replies
    # This chat's calls only: the platform is shared, and an earlier test's background work (a ban list's
    # propagation, a raid's kicks) may still ban the same sandbox user elsewhere meanwhile.
    bans = [call for call in platform.calls("banChatMember", since=mark)
            if str(call["params"]["chat_id"]) == str(chat["id"])]
    assert [str(ban["params"]["user_id"]) for ban in bans] == ["2000005"]
    assert platform.telegram.member(chat["id"], "spammer")["status"] == "kicked"
    group = platform.api.group_by_chat(chat["id"])
    platform.wait_for(lambda: platform.api.moderation_list(group_id=group.id, type="ban", status="executed")["total"],
                      "core to record the ban")


def test_the_mode_is_the_one_asked_for(any_platform):
    state = any_platform.telegram.pending_updates(BOT)
    if any_platform.mode == "webhook":
        assert state["webhook_url"].endswith("/telegram/webhook")
        assert any_platform.calls("getUpdates") == []
    else:
        assert state["webhook_url"] == ""
        assert state["polling"] >= 1  # a getUpdates of the bot's is waiting
        assert any_platform.calls("getUpdates") != []


def test_settled_waits_for_the_bot_and_then_holds(any_platform):
    """A message the bot does not answer: settled() turns true once the bot has taken it (never while the update
    waits in the sandbox), and say() returns without a reply and without its whole wait."""
    platform = any_platform
    chat = platform.new_group()
    platform.wait_for(platform.settled, "the bot to settle after the group was made", timeout=10)
    platform.telegram.send_message(chat["id"], "carol", "just chatting")
    assert not platform.settled()  # the update is in the sandbox (or just taken): not done yet
    platform.wait_for(platform.settled, "the bot to settle", timeout=10)
    assert platform.telegram.pending_updates(BOT)["pending"] == []
    assert platform.settled()
