"""The log channel in core: entries written with each completed action and settings change, claimed with a lease,
reported once; the last welcome message for clean-welcome."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.groups.models import Group
from apps.logchannel.models import LogEntry
from apps.moderation.services import moderation_action_complete, moderation_action_record
from apps.protection.signals import raid_changed, settings_changed
from tests.factories import make_group, make_member, make_user

ACTIONS = "/api/moderation/actions"
CLAIM = "/api/protection/log/claim"
LOG_CHAT = -1009999000001


@pytest.fixture
def scene(db):
    group = make_group(title="Cats <&> Dogs")
    Group.objects.filter(pk=group.pk).update(log_chat_id=LOG_CHAT)
    group.refresh_from_db()
    moderator, target = make_user(display_name="Mod <b>"), make_user(display_name="Spammer")
    make_member(moderator, group)
    make_member(target, group)
    return group, moderator, target


def ban(api, group, moderator, target, status="executed", **extra):
    body = {"type": "ban", "group_id": str(group.pk), "actor_user_id": str(moderator.pk), "target_user_id":
            str(target.pk), "reason": "spam & scam", "telegram_message_id": 77, **extra}
    action = api.post(ACTIONS, body).json()["data"]["action"]
    api.post(f"{ACTIONS}/{action['id']}/complete", {"status": status, "error": "Bad Request: not enough rights"
                                                    if status == "failed" else ""})
    return action


def result(api, entry_id, status, error=""):
    return api.post(f"/api/protection/log/{entry_id}/result", {"status": status, "error": error})


def test_a_completed_manual_ban_is_logged_with_who_whom_why_and_the_link(api, scene):
    group, moderator, target = scene
    action = ban(api, group, moderator, target)
    entry = LogEntry.objects.get()
    assert (entry.log_chat_id, entry.kind, str(entry.action_id), entry.status) == (
        LOG_CHAT, "action", action["id"], "pending")
    chat = str(group.telegram_chat_id)[4:]
    assert entry.text.splitlines() == [
        f"<b>Cats &lt;&amp;&gt; Dogs</b> [<code>{group.telegram_chat_id}</code>]",
        "#BANNED",
        f'<b>By:</b> <a href="tg://user?id={moderator.telegram_user_id}">Mod &lt;b&gt;</a> '
        f"[<code>{moderator.telegram_user_id}</code>]",
        f'<b>User:</b> <a href="tg://user?id={target.telegram_user_id}">Spammer</a> '
        f"[<code>{target.telegram_user_id}</code>]",
        "<b>Reason:</b> spam &amp; scam",
        "<b>Outcome:</b> done",
        f'<a href="https://t.me/c/{chat}/77">Go to the message</a>',
    ]


def test_a_failed_action_is_logged_with_telegrams_error(api, scene):
    ban(api, *scene, status="failed")
    assert "<b>Outcome:</b> failed: Bad Request: not enough rights" in LogEntry.objects.get().text


def test_an_automated_action_names_its_rule(scene):
    group, _, target = scene
    action, _ = moderation_action_record(type="mute", group=group, actor=None, target=target, rule="antiflood")
    moderation_action_complete(action=action, status="executed")
    text = LogEntry.objects.get().text
    assert "#MUTED" in text and "<b>By:</b> <code>system:antiflood</code>" in text


def test_nothing_is_logged_without_a_log_chat_or_before_completion(api, scene):
    group, moderator, target = scene
    Group.objects.filter(pk=group.pk).update(log_chat_id=None)
    ban(api, group, moderator, target)
    api.post(ACTIONS, {"type": "kick", "group_id": str(group.pk), "actor_user_id": str(moderator.pk),
                       "target_user_id": str(target.pk)})
    assert not LogEntry.objects.exists()


def test_the_entry_commits_or_rolls_back_with_the_completion(scene, monkeypatch):
    group, moderator, target = scene
    action, _ = moderation_action_record(type="kick", group=group, actor=moderator, target=target)
    from apps.logchannel import services

    def broken(*args, **kwargs):
        raise RuntimeError("rendering failed")

    monkeypatch.setattr(services, "render_action", broken)
    with pytest.raises(RuntimeError):
        moderation_action_complete(action=action, status="executed")
    action.refresh_from_db()
    assert (action.status, LogEntry.objects.count()) == ("requested", 0)


def test_settings_changes_and_raid_switches_are_logged(scene):
    group, moderator, _ = scene
    settings_changed.send(sender=None, group=group, actor=moderator,
                          changed={"welcome_enabled": [False, True], "welcome_text": ["", "Hi <b>{first}</b>"]})
    raid_changed.send(sender=None, group=group, actor=None, active=True,
                      until=timezone.now() + timedelta(minutes=30))
    settings_entry, raid_entry = LogEntry.objects.order_by("created_at", "id")
    assert settings_entry.kind == "settings" and "#SETTINGS" in settings_entry.text
    assert "• <code>welcome_enabled</code>: off → on" in settings_entry.text
    assert "• <code>welcome_text</code>: none → Hi &lt;b&gt;{first}&lt;/b&gt;" in settings_entry.text
    assert raid_entry.kind == "raid" and "#RAID_ON" in raid_entry.text
    assert "<code>system:antiraid</code>" in raid_entry.text


def test_claim_leases_entries_for_a_minute(api, scene):
    group, moderator, target = scene
    ban(api, group, moderator, target)
    ban(api, group, moderator, target)
    first = api.post(CLAIM, {"limit": 1}).json()["data"]["items"]
    assert [(item["telegram_chat_id"], item["log_chat_id"]) for item in first] == [(group.telegram_chat_id, LOG_CHAT)]
    second = api.post(CLAIM, {}).json()["data"]["items"]
    assert len(second) == 1 and second[0]["id"] != first[0]["id"]
    assert api.post(CLAIM, {}).json()["data"]["items"] == []  # both leased
    # A bot that died holding the first: once its lease ran out, the entry is claimed again.
    LogEntry.objects.filter(pk=first[0]["id"]).update(claimed_until=timezone.now() - timedelta(seconds=1))
    again = api.post(CLAIM, {}).json()["data"]["items"]
    assert [item["id"] for item in again] == [first[0]["id"]]
    assert result(api, first[0]["id"], "sent").json()["data"] == {"report_in_group": False}
    LogEntry.objects.update(claimed_until=timezone.now() - timedelta(seconds=1))
    assert [item["id"] for item in api.post(CLAIM, {}).json()["data"]["items"]] == [second[0]["id"]]


def test_a_failing_log_chat_is_reported_in_the_group_once_until_set_again(api, scene):
    group, moderator, target = scene
    for _ in range(3):
        ban(api, group, moderator, target)
    ids = [item["id"] for item in api.post(CLAIM, {}).json()["data"]["items"]]
    error = "Forbidden: bot is not a member of the channel chat"
    reports = [result(api, entry_id, "failed", error).json()["data"]["report_in_group"] for entry_id in ids[:2]]
    assert reports == [True, False]
    assert LogEntry.objects.get(pk=ids[0]).error == error
    assert AuditEvent.objects.filter(action="logchannel.post_failed", result="failure").count() == 2
    settings_changed.send(sender=None, group=group, actor=moderator, changed={"log_chat_id": [LOG_CHAT, LOG_CHAT]})
    assert result(api, ids[2], "failed", error).json()["data"]["report_in_group"] is True


def test_result_refusals(api, scene):
    group, moderator, target = scene
    ban(api, group, moderator, target)
    entry_id = api.post(CLAIM, {}).json()["data"]["items"][0]["id"]
    assert result(api, entry_id, "sent").status_code == 200
    again = result(api, entry_id, "failed", "late")
    assert (again.status_code, again.json()["error"]) == (409, "conflict")
    assert result(api, "nope", "sent").status_code == 404
    bad = result(api, entry_id, "posted")
    assert (bad.status_code, bad.json()["error"]) == (400, "validation_error")
    assert api.post(CLAIM, {"limit": 0}).status_code == 400
    assert api.post(CLAIM, {"limit": "5"}).status_code == 400
    assert LogEntry.objects.get(pk=entry_id).status == "sent"


def test_the_last_welcome_message_is_remembered_for_clean_welcome(api, scene):
    group, _, _ = scene
    path = "/api/protection/welcome-message"
    body = {"telegram_chat_id": group.telegram_chat_id, "telegram_message_id": 10}
    assert api.post(path, body).json()["data"] == {"previous_message_id": None}
    assert api.post(path, {**body, "telegram_message_id": 11}).json()["data"] == {"previous_message_id": 10}
    assert api.post(path, {**body, "telegram_message_id": 12}).json()["data"] == {"previous_message_id": 11}
    unknown = api.post(path, {**body, "telegram_chat_id": -100777})
    assert (unknown.status_code, unknown.json()["error"]) == (404, "not_found")
    assert api.post(path, {**body, "telegram_message_id": 0}).status_code == 400


def test_a_settings_change_through_core_is_logged_once_committed(api, scene, django_capture_on_commit_callbacks):
    group, _, _ = scene
    with django_capture_on_commit_callbacks(execute=True):
        changed = api.patch(f"/api/groups/{group.pk}/protection", {"welcome_enabled": True, "flood_limit": 5})
    assert changed.status_code == 200
    entry = LogEntry.objects.get()
    assert entry.kind == "settings" and entry.log_chat_id == LOG_CHAT
    assert "• <code>flood_limit</code>: 0 → 5" in entry.text and "<code>system</code>" in entry.text


def test_a_change_through_the_groups_endpoint_is_logged_in_its_transaction(api, scene):
    group, moderator, _ = scene
    changed = api.patch(f"/api/groups/{group.pk}", {"warn_limit": 5, "title": "Renamed", "actor_user_id":
                                                     str(moderator.pk)})
    assert changed.status_code == 200, changed.json()
    entry = LogEntry.objects.get()
    assert entry.kind == "settings" and "• <code>warn_limit</code>: 3 → 5" in entry.text
    assert "title" not in entry.text.split("#SETTINGS")[1] and "Renamed" in entry.text  # the header's new title
    api.patch(f"/api/groups/{group.pk}", {"title": "Only the title"})
    assert LogEntry.objects.count() == 1  # the bot's bookkeeping of the chat is no setting
