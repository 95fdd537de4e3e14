"""The core client's protection methods against the real core app: typed settings, versions, raid, automated
actions and approvals, and core's refusals as typed errors."""

from datetime import UTC, datetime, timedelta

import pytest

from apps.coreclient import CoreClient, CoreError, ModerationRecord, ProtectionSettings
from apps.coreclient.answers import UnexpectedAnswer
from apps.groups.services import membership_set
from tests.factories import grant, make_group, make_member, make_user


@pytest.fixture
def client(core_app):
    core = CoreClient("http://testserver", "bot-key", transport=core_app)
    yield core
    core.close()


@pytest.fixture
def scene(db):
    group, admin, member = make_group(), make_user(), make_user()
    make_member(admin, group)
    make_member(member, group)
    grant(admin, "admin", group)
    return group, admin, member


def test_settings_are_typed_and_read_as_cores_json_too(client, core_app, scene):
    group, admin, _ = scene
    loaded = client.protection_settings(group.telegram_chat_id)
    assert isinstance(loaded, ProtectionSettings)
    assert (loaded.group_id, loaded.version, loaded.flood_limit, loaded.raid_until, loaded.raid_active) == (
        str(group.pk), 1, 0, None, False)
    web = CoreClient("http://testserver", "web-key", transport=core_app)  # the dashboard's read
    try:
        assert loaded == web.protection_get(str(group.pk), acting_user_id=str(admin.pk))
    finally:
        web.close()
    changed = client.protection_update(str(group.pk), flood_limit=4, flood_window_seconds=None,
                                       actor_telegram_user_id=admin.telegram_user_id)
    assert (changed.flood_limit, changed.version, changed["flood_limit"], dict(changed)["version"]) == (4, 2, 4, 2)
    assert client.protection_versions([group.telegram_chat_id, -1]) == {group.telegram_chat_id: 2}


def test_refusals_come_back_typed(client, scene):
    group, _, member = scene
    with pytest.raises(CoreError) as refused:
        client.protection_update(str(group.pk), captcha_enabled=True, actor_telegram_user_id=member.telegram_user_id)
    assert (refused.value.code, refused.value.details["permission"]) == ("permission_denied", "MANAGE_SETTINGS")
    with pytest.raises(CoreError) as stale:
        client.protection_update(str(group.pk), captcha_enabled=True, expected_version=7)
    assert stale.value.code == "conflict"
    with pytest.raises(CoreError) as unknown:
        client.protection_settings(-42)
    assert unknown.value.code == "not_found"


def test_raid_is_typed_with_a_parsed_end(client, scene):
    group, admin, _ = scene
    on = client.protection_raid(str(group.pk), active=True, minutes=10, actor_user_id=str(admin.pk))
    assert on.raid_active and isinstance(on.raid_until, datetime)
    assert timedelta(minutes=9) < on.raid_until - datetime.now(UTC) <= timedelta(minutes=10)
    assert client.protection_raid(str(group.pk), active=False).raid_active is False


def test_automated_action_and_exemption(client, scene):
    group, admin, member = scene
    record = client.protection_action(telegram_chat_id=group.telegram_chat_id, rule="antiflood", type="mute",
                                      target_telegram_user_id=member.telegram_user_id, reason="flood")
    assert isinstance(record, ModerationRecord) and (record.rule, record.actor_user_id) == ("antiflood", None)
    assert client.moderation_complete(record.id, status="executed").rule == "antiflood"
    membership_set(group=group, user=admin, is_admin=True)
    with pytest.raises(CoreError) as exempt:
        client.protection_action(telegram_chat_id=group.telegram_chat_id, rule="antiflood", type="mute",
                                 target_telegram_user_id=admin.telegram_user_id)
    assert (exempt.value.code, exempt.value.details) == ("exempt_member", {"reason": "admin"})


def test_approvals_through_the_client(client, scene):
    group, admin, member = scene
    parties = {"actor_telegram_user_id": admin.telegram_user_id, "target_telegram_user_id": member.telegram_user_id}
    assert client.approval_grant(telegram_chat_id=group.telegram_chat_id, **parties)["approved"] is True
    assert [item["user_id"] for item in client.approvals(str(group.pk))["items"]] == [str(member.pk)]
    assert client.approval_revoke(telegram_chat_id=group.telegram_chat_id, **parties)["approved"] is False


def test_a_settings_answer_missing_a_field_is_unexpected():
    with pytest.raises(UnexpectedAnswer):
        ProtectionSettings.from_wire({"group_id": "1"})
    with pytest.raises(UnexpectedAnswer):
        ProtectionSettings.from_wire([])
