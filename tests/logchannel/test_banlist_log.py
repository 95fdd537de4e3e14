"""A ban list's posts in its own log chat: log entries without a group, claimed and reported like a group's (a failure
recorded with no group to tell), and carried by the bot's log poster to the chat through the Telegram sandbox."""

import pytest

from apps.audit.models import AuditEvent
from apps.banlists.bans import ban_list_ban
from apps.logchannel.models import LogEntry, LogFailureReport
from tests.banlists.ban_world import make_list
from tests.botgateway.test_log_poster import run_poster, sandbox, world  # noqa: F401 (fixtures)

CLAIM = "/api/protection/log/claim"
LOG_CHAT = -1009999000099


@pytest.mark.django_db
def test_a_lists_entry_is_claimed_without_a_group_and_its_failure_is_only_recorded(api):
    ban_list = make_list(name="Spam watch", log_chat_id=LOG_CHAT)
    ban_list_ban(ban_list=ban_list, telegram_user_id=123, reason="spam")
    (item,) = api.post(CLAIM, {"limit": 10}).json()["data"]["items"]
    assert (item["telegram_chat_id"], item["log_chat_id"]) == (None, LOG_CHAT)
    assert "#FBAN" in item["text"] and "Spam watch" in item["text"]
    answer = api.post(f"/api/protection/log/{item['id']}/result", {"status": "failed",
                                                                   "error": "Forbidden: bot is not a member"})
    assert answer.json()["data"] == {"report_in_group": False}
    assert LogEntry.objects.get().status == "failed" and not LogFailureReport.objects.exists()
    audit = AuditEvent.objects.get(action="logchannel.post_failed")
    assert (audit.target_type, audit.target_id, audit.group_id) == ("log_chat", str(LOG_CHAT), "")


@pytest.mark.django_db(transaction=True)
def test_the_bots_log_poster_posts_a_lists_entries_to_its_log_chat(world, sandbox, live_server):  # noqa: F811
    channel = world.create_chat("Fed Log", "alice", type="channel")
    world.add_member(channel, "sandbox_mod_bot", by="alice", status="administrator", rights={"can_post_messages": True})
    ban_list = make_list(name="Spam watch", log_chat_id=channel.id)
    ban_list_ban(ban_list=ban_list, telegram_user_id=123, reason="spam")
    ban_list_ban(ban_list=ban_list, telegram_user_id=124, reason="scam")
    run_poster(sandbox, live_server)
    posts = [message for message in world.messages(channel) if "#FBAN" in (message.text or "")]
    assert len(posts) == 1 and posts[0].text.count("#FBAN") == 2
    assert "Reason: spam" in posts[0].text
    assert list(LogEntry.objects.values_list("status", flat=True)) == ["sent", "sent"]


@pytest.mark.django_db(transaction=True)
def test_a_lists_log_chat_the_bot_cannot_post_to_fails_without_telling_a_group(world, sandbox, live_server):  # noqa: F811
    ban_list = make_list(name="Spam watch", log_chat_id=-1001999999999)  # no such chat
    ban_list_ban(ban_list=ban_list, telegram_user_id=123, reason="spam")
    run_poster(sandbox, live_server)
    entry = LogEntry.objects.get()
    assert entry.status == "failed" and entry.error
    assert not LogFailureReport.objects.exists()
