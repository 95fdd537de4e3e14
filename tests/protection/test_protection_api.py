"""Core's protection endpoints: settings (versioned, audited, MANAGE_SETTINGS), raid mode, automated actions
(refused for exempt members), approvals (the role `approved`, through RBAC)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.groups.models import Group
from apps.moderation.models import ModerationAction
from apps.protection import signals
from apps.protection.models import ProtectionSettings
from apps.protection.selectors import exemption
from apps.rbac.models import RoleAssignment
from tests.factories import grant, make_group, make_member, make_user

ACTIONS = "/api/protection/actions"
APPROVALS = "/api/protection/approvals"


def settings_url(group) -> str:
    return f"/api/groups/{group.pk}/protection"


@pytest.fixture
def scene(db):
    group, admin, member = make_group(), make_user(), make_user()
    make_member(admin, group)
    make_member(member, group)
    grant(admin, "admin", group)
    return group, admin, member


def version(group) -> int:
    return Group.objects.get(pk=group.pk).settings_version


def error_of(response, status: int, code: str) -> dict:
    body = response.json()
    assert (response.status_code, body["success"], body["error"], body["status_code"]) == (status, False, code, status)
    return body


def test_a_group_without_settings_reads_as_the_defaults_every_protection_off(api, scene):
    group, _, _ = scene
    data = api.get(settings_url(group)).json()["data"]
    assert (data["group_id"], data["telegram_chat_id"], data["title"]) == (str(group.pk), group.telegram_chat_id,
                                                                            group.title)
    assert data["version"] == 1
    off = ("welcome_enabled", "goodbye_enabled", "captcha_enabled", "raid_detection", "clean_welcome",
           "clean_service", "flood_delete_messages")
    assert not any(data[name] for name in off)
    assert (data["flood_limit"], data["flood_window_seconds"], data["raid_until"], data["captcha_mode"],
            data["captcha_timeout_seconds"], data["rules_private"]) == (0, None, None, "button", 120, True)
    assert not ProtectionSettings.objects.exists()  # reading writes nothing


def test_patch_changes_bumps_the_version_and_audits_what_changed(api, scene, django_capture_on_commit_callbacks):
    group, admin, _ = scene
    received = []

    def receiver(**kwargs):
        received.append(kwargs)

    signals.settings_changed.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = api.patch(settings_url(group), {"welcome_enabled": True, "welcome_text": "Hi <b>{first}</b>",
                                                       "flood_limit": 5, "flood_window_seconds": 10,
                                                       "actor_user_id": str(admin.pk)})
    finally:
        signals.settings_changed.disconnect(receiver)
    data = response.json()["data"]
    assert response.status_code == 200
    assert (data["welcome_enabled"], data["welcome_text"], data["flood_limit"], data["version"]) == (
        True, "Hi <b>{first}</b>", 5, 2)
    assert Group.objects.get(pk=group.pk).welcome_text == "Hi <b>{first}</b>"  # stays the Group's column
    event = AuditEvent.objects.get(action="protection.update")
    assert event.actor_user_id == str(admin.pk)
    assert event.details["changed"] == {"welcome_enabled": [False, True], "welcome_text": ["", "Hi <b>{first}</b>"],
                                        "flood_limit": [0, 5], "flood_window_seconds": [None, 10]}
    assert len(received) == 1 and received[0]["changed"] == event.details["changed"]
    assert (received[0]["group"].pk, received[0]["actor"].pk) == (group.pk, admin.pk)
    # The same values again change nothing: no version, no event.
    assert api.patch(settings_url(group), {"flood_limit": 5}).json()["data"]["version"] == 2
    assert AuditEvent.objects.filter(action="protection.update").count() == 1


def test_an_actor_without_manage_settings_is_refused_naming_it_and_nothing_is_written(api, scene):
    group, _, member = scene
    grant(member, "moderator", group)  # moderates, but does not change settings
    body = error_of(api.patch(settings_url(group), {"captcha_enabled": True, "actor_telegram_user_id":
                                                    member.telegram_user_id}), 403, "permission_denied")
    assert "MANAGE_SETTINGS" in body["message"] and body["details"]["permission"] == "MANAGE_SETTINGS"
    assert (version(group), ProtectionSettings.objects.exists()) == (1, False)
    assert not AuditEvent.objects.filter(action="protection.update").exists()


def test_the_acting_user_header_needs_manage_settings_to_patch_and_view_groups_to_read(api, scene):
    group, admin, member = scene
    grant(member, "member", group)
    as_member = {"HTTP_X_ACTING_USER_ID": str(member.pk)}
    assert api.get(settings_url(group), **as_member).status_code == 200
    error_of(api.patch(settings_url(group), {"clean_service": True}, **as_member), 403, "permission_denied")
    assert version(group) == 1
    done = api.patch(settings_url(group), {"clean_service": True}, HTTP_X_ACTING_USER_ID=str(admin.pk))
    assert done.json()["data"]["clean_service"] is True
    assert AuditEvent.objects.get(action="protection.update").actor_user_id == str(admin.pk)


@pytest.mark.parametrize("body, field", [
    ({"flood_limit": 2}, "flood_limit"),
    ({"flood_limit": 101}, "flood_limit"),
    ({"flood_action": "tmute"}, "flood_action_duration_seconds"),
    ({"flood_action": "tban", "flood_action_duration_seconds": 10}, "flood_action_duration_seconds"),
    ({"captcha_mode": "riddle"}, "captcha_mode"),
    ({"captcha_timeout_seconds": 29}, "captcha_timeout_seconds"),
    ({"captcha_enabled": "yes"}, "captcha_enabled"),
    ({"raid_join_limit": 1}, "raid_join_limit"),
    ({"raid_until": None}, "raid_until"),
    ({"version": 3}, "version"),
    ({"welcome_text": "x" * 4097}, "welcome_text"),
    ({"actor_user_id": "1", "actor_telegram_user_id": 5}, "non_field_errors"),
])
def test_bad_settings_are_a_400_naming_the_field_and_nothing_is_written(api, scene, body, field):
    group, _, _ = scene
    details = error_of(api.patch(settings_url(group), body), 400, "validation_error")["details"]
    assert field in details
    assert (version(group), ProtectionSettings.objects.exists()) == (1, False)


def test_a_stale_expected_version_is_a_conflict(api, scene):
    group, _, _ = scene
    assert api.patch(settings_url(group), {"rules_text": "Be nice", "expected_version": 1}).status_code == 200
    body = error_of(api.patch(settings_url(group), {"rules_text": "Be kind", "expected_version": 1}), 409,
                    "conflict")
    assert body["details"]["version"] == 2
    assert Group.objects.get(pk=group.pk).rules_text == "Be nice"


def test_group_update_bumps_the_settings_version_too(api, scene):
    group, _, _ = scene
    api.patch(f"/api/groups/{group.pk}", {"welcome_text": "Hello"})
    assert version(group) == 2
    api.patch(f"/api/groups/{group.pk}", {"welcome_text": "Hello"})  # no change, no bump
    assert version(group) == 2


def test_a_migrated_group_bumps_the_version_and_answers_by_its_old_chat_id_too(api, scene):
    group, _, _ = scene
    old_chat_id = group.telegram_chat_id
    api.post(f"/api/groups/{group.pk}/migrate", {"new_telegram_chat_id": old_chat_id - 1})
    data = api.get(f"/api/protection/settings?telegram_chat_id={old_chat_id}").json()["data"]
    assert (data["telegram_chat_id"], data["version"]) == (old_chat_id - 1, 2)


def test_settings_by_chat_and_versions(api, scene):
    group, _, _ = scene
    other = make_group()
    api.patch(settings_url(other), {"goodbye_enabled": True})
    data = api.get(f"/api/protection/settings?telegram_chat_id={other.telegram_chat_id}").json()["data"]
    assert (data["group_id"], data["goodbye_enabled"], data["version"]) == (str(other.pk), True, 2)
    error_of(api.get("/api/protection/settings?telegram_chat_id=-42"), 404, "not_found")
    error_of(api.get("/api/protection/settings?telegram_chat_id=abc"), 400, "validation_error")
    error_of(api.get("/api/protection/settings"), 400, "validation_error")
    versions = api.post("/api/protection/versions",
                        {"telegram_chat_ids": [group.telegram_chat_id, other.telegram_chat_id, -42]}).json()["data"]
    assert versions == {"versions": {str(group.telegram_chat_id): 1, str(other.telegram_chat_id): 2}}
    error_of(api.post("/api/protection/versions", {"telegram_chat_ids": list(range(1001))}), 400,
             "validation_error")
    error_of(api.post("/api/protection/versions", {"telegram_chat_ids": ["-1"]}), 400, "validation_error")


def test_raid_mode_by_hand_and_automatically(api, scene, django_capture_on_commit_callbacks):
    group, admin, member = scene
    url = f"{settings_url(group)}/raid"
    received = []

    def receiver(**kwargs):
        received.append(kwargs)

    signals.raid_changed.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            started = api.post(url, {"active": True, "minutes": 30, "actor_user_id": str(admin.pk)}).json()["data"]
            # Automatic, shorter: the later end is kept, nothing changes.
            again = api.post(url, {"active": True, "minutes": 5}).json()["data"]
    finally:
        signals.raid_changed.disconnect(receiver)
    assert started["raid_until"] is not None and again["raid_until"] == started["raid_until"]
    assert (started["version"], again["version"]) == (2, 2)
    assert [(kwargs["active"], kwargs["actor"].pk) for kwargs in received] == [(True, admin.pk)]
    error_of(api.post(url, {"active": False, "actor_user_id": str(member.pk)}), 403, "permission_denied")
    stopped = api.post(url, {"active": False}).json()["data"]
    assert (stopped["raid_until"], stopped["version"]) == (None, 3)
    events = list(AuditEvent.objects.filter(action="protection.raid").order_by("sequence"))
    assert [(event.details["active"], event.actor_user_id, event.details.get("rule")) for event in events] == [
        (True, str(admin.pk), None), (False, "", "antiraid")]
    error_of(api.post(url, {"active": "on"}), 400, "validation_error")
    error_of(api.post(url, {"active": True, "minutes": 0}), 400, "validation_error")


def test_automated_action_is_recorded_with_its_rule_and_no_actor(api, scene):
    group, _, member = scene
    until = (timezone.now() + timedelta(minutes=10)).isoformat()
    response = api.post(ACTIONS, {"telegram_chat_id": group.telegram_chat_id, "rule": "antiflood", "type": "mute",
                                  "target_telegram_user_id": member.telegram_user_id, "until": until,
                                  "reason": "flood", "details": {"messages": 6}})
    assert response.status_code == 201
    action = response.json()["data"]
    assert (action["rule"], action["actor_user_id"], action["actor_name"], action["status"]) == (
        "antiflood", None, "system:antiflood", "requested")
    request = AuditEvent.objects.get(action="moderation.request")
    assert (request.actor_user_id, request.details["rule"]) == ("", "antiflood")
    done = api.post(f"/api/moderation/actions/{action['id']}/complete", {"status": "executed"}).json()["data"]
    assert done["rule"] == "antiflood"
    assert AuditEvent.objects.get(action="moderation.complete").details["rule"] == "antiflood"
    # A member core has never seen is created, as for manual actions.
    new = api.post(ACTIONS, {"telegram_chat_id": group.telegram_chat_id, "rule": "antiraid", "type": "kick",
                             "target_telegram_user_id": 777000111, "username": "raider", "display_name": "R"})
    assert new.status_code == 201
    listed = api.get("/api/moderation/actions?automated=true").json()["data"]["items"]
    assert {(item["rule"], item["actor_name"]) for item in listed} == {("antiflood", "system:antiflood"),
                                                                        ("antiraid", "system:antiraid")}
    assert api.get("/api/moderation/actions?automated=false").json()["data"]["total"] == 0
    assert api.get("/api/moderation/actions?rule=antiraid").json()["data"]["total"] == 1


def test_automated_action_on_an_exempt_member_is_refused_and_nothing_recorded(api, scene):
    group, admin, member = scene
    make_member(admin, group)
    from apps.groups.services import membership_set
    membership_set(group=group, user=admin, is_admin=True)
    body = {"telegram_chat_id": group.telegram_chat_id, "rule": "antiflood", "type": "mute"}
    refused = error_of(api.post(ACTIONS, {**body, "target_telegram_user_id": admin.telegram_user_id}), 403,
                       "exempt_member")
    assert refused["details"] == {"reason": "admin"}
    grant(member, "approved", group)
    refused = error_of(api.post(ACTIONS, {**body, "target_telegram_user_id": member.telegram_user_id}), 403,
                       "exempt_member")
    assert refused["details"] == {"reason": "approved"}
    assert not ModerationAction.objects.exists()
    # Never from manual moderation: the approved member can still be muted by hand.
    manual = api.post("/api/moderation/actions", {"type": "mute", "group_id": str(group.pk),
                                                  "target_user_id": str(member.pk)})
    assert manual.status_code == 201


@pytest.mark.parametrize("change, field", [
    ({"rule": "spam"}, "rule"),
    ({"type": "explode"}, "type"),
    ({"target_telegram_user_id": "12"}, "target_telegram_user_id"),
    ({"extra": 1}, "extra"),
])
def test_bad_automated_actions_are_400_and_nothing_recorded(api, scene, change, field):
    group, _, member = scene
    body = {"telegram_chat_id": group.telegram_chat_id, "rule": "antiflood", "type": "mute",
            "target_telegram_user_id": member.telegram_user_id, **change}
    assert field in error_of(api.post(ACTIONS, body), 400, "validation_error")["details"]
    assert not ModerationAction.objects.exists()


def test_automated_action_in_an_unknown_chat_is_404(api, scene):
    _, _, member = scene
    error_of(api.post(ACTIONS, {"telegram_chat_id": -5, "rule": "captcha", "type": "kick",
                                "target_telegram_user_id": member.telegram_user_id}), 404, "not_found")


def test_approve_exempts_the_member_and_unapprove_withdraws_it(api, scene):
    group, admin, member = scene
    body = {"telegram_chat_id": group.telegram_chat_id, "actor_telegram_user_id": admin.telegram_user_id,
            "target_telegram_user_id": member.telegram_user_id}
    assert exemption(group=group, user=member) is None
    granted = api.post(APPROVALS, body).json()["data"]
    assert granted == {"user_id": str(member.pk), "telegram_user_id": member.telegram_user_id,
                       "display_name": granted["display_name"], "approved": True}
    assert exemption(group=group, user=member) == "approved"
    assert api.post(APPROVALS, body).json()["data"]["approved"] is True  # idempotent
    assert RoleAssignment.objects.filter(user=member, role__name="approved").count() == 1
    listed = api.get(f"/api/groups/{group.pk}/approvals").json()["data"]
    assert listed["total"] == 1
    assert (listed["items"][0]["user_id"], listed["items"][0]["granted_by_user_id"]) == (str(member.pk),
                                                                                          str(admin.pk))
    revoked = api.post(f"{APPROVALS}/revoke", body).json()["data"]
    assert revoked["approved"] is False and exemption(group=group, user=member) is None
    assert api.post(f"{APPROVALS}/revoke", body).json()["data"]["approved"] is False  # idempotent
    assert api.get(f"/api/groups/{group.pk}/approvals").json()["data"]["total"] == 0
    error_of(api.get(f"/api/groups/{group.pk}/approvals?page=0"), 400, "validation_error")
    error_of(api.get("/api/groups/999999999/approvals"), 404, "not_found")
    actions = list(AuditEvent.objects.filter(action__in=["role.assign", "role.revoke"], target_id=str(member.pk))
                   .values_list("action", flat=True))
    assert sorted(actions) == ["role.assign", "role.revoke"]


def test_approval_by_username_and_refusals(api, scene):
    group, admin, member = scene
    member.telegram_username = "trusted_one"
    member.save()
    base = {"telegram_chat_id": group.telegram_chat_id}
    done = api.post(APPROVALS, {**base, "actor_user_id": str(admin.pk), "target_telegram_username": "@trusted_one"})
    assert done.json()["data"]["approved"] is True
    outsider = make_user()
    make_member(outsider, group)
    refused = error_of(api.post(APPROVALS, {**base, "actor_user_id": str(member.pk),
                                            "target_user_id": str(outsider.pk)}), 403, "permission_denied")
    assert "MANAGE_ROLES" in refused["message"] and refused["details"]["permission"] == "MANAGE_ROLES"
    error_of(api.post(f"{APPROVALS}/revoke", {**base, "actor_user_id": str(member.pk),
                                              "target_user_id": str(outsider.pk)}), 403, "permission_denied")
    error_of(api.post(APPROVALS, {**base, "actor_user_id": str(admin.pk), "target_telegram_username": "nobody_x"}),
             404, "unknown_target")
    error_of(api.post(APPROVALS, {**base, "target_user_id": str(outsider.pk)}), 400, "validation_error")
    error_of(api.post(APPROVALS, {**base, "actor_user_id": str(admin.pk)}), 400, "validation_error")
    assert not RoleAssignment.objects.filter(user=outsider, role__name="approved").exists()


def test_a_global_bypass_grant_exempts_everywhere(db):
    group, user = make_group(), make_user()
    grant(user, "approved")  # global
    assert exemption(group=group, user=user) == "approved"


def test_the_content_rule_settings_are_edited_by_the_patch(api, scene):
    group, admin, _ = scene
    data = api.get(settings_url(group)).json()["data"]
    assert (data["lock_warns"], data["blocklist_action"], data["blocklist_action_duration_seconds"],
            data["blocklist_delete"], data["blocklist_joiner_names"], data["private_notes"], data["disabled_commands"],
            data["disabled_delete"], data["clean_commands"], data["denials_private"], data["reports_enabled"]) == (
        True, "delete", None, True, False, False, [], False, False, False, True)
    assert (data["locks"], data["blocklist"], data["filters"], data["notes"]) == ({}, [], [], [])
    data = api.patch(settings_url(group), {
        "blocklist_action": "tmute", "blocklist_action_duration_seconds": 3600, "lock_warns": False,
        "disabled_commands": ["/Rules", "notes", "rules"], "disabled_delete": True, "reports_enabled": False,
        "actor_user_id": str(admin.pk)}).json()["data"]
    assert (data["blocklist_action"], data["blocklist_action_duration_seconds"], data["lock_warns"],
            data["disabled_commands"], data["disabled_delete"], data["reports_enabled"], data["version"]) == (
        "tmute", 3600, False, ["notes", "rules"], True, False, 2)
    changed = AuditEvent.objects.get(action="protection.update").details["changed"]
    assert changed["disabled_commands"] == [[], ["notes", "rules"]]


@pytest.mark.parametrize("body, field", [
    ({"blocklist_action": "tban"}, "blocklist_action_duration_seconds"),
    ({"blocklist_action": "tmute", "blocklist_action_duration_seconds": 5}, "blocklist_action_duration_seconds"),
    ({"blocklist_action": "explode"}, "blocklist_action"),
    ({"disabled_commands": ["ban me"]}, "disabled_commands"),
    ({"disabled_commands": ["x" * 33]}, "disabled_commands"),
    ({"disabled_commands": "rules"}, "disabled_commands"),
    ({"disabled_commands": [5]}, "disabled_commands"),
    ({"disabled_commands": ["c"] * 201}, "disabled_commands"),
    ({"lock_warns": "no"}, "lock_warns"),
    ({"locks": {}}, "locks"),
])
def test_bad_content_rule_settings_are_a_400_naming_the_field(api, scene, body, field):
    group, _, _ = scene
    details = error_of(api.patch(settings_url(group), body), 400, "validation_error")["details"]
    assert field in details
    assert (version(group), ProtectionSettings.objects.exists()) == (1, False)


def test_locks_and_blocklist_are_rules_of_automated_actions(api, scene):
    group, _, member = scene
    for rule in ("locks", "blocklist"):
        response = api.post(ACTIONS, {"telegram_chat_id": group.telegram_chat_id, "rule": rule, "type": "mute",
                                      "target_telegram_user_id": member.telegram_user_id, "reason": "sticker"})
        assert response.status_code == 201 and response.json()["data"]["rule"] == rule
