from datetime import timedelta

import pytest
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.rbac.models import RoleAssignment
from tests.factories import grant, make_group, make_member, make_user

ASSIGNMENTS = "/api/rbac/assignments"


def test_catalogue_is_created_by_migration(api):
    codes = {item["code"] for item in api.get("/api/rbac/permissions").json()["data"]}
    assert {
        "ADMIN_DASHBOARD", "VIEW_GROUPS", "MANAGE_GROUPS", "MANAGE_ROLES", "MANAGE_ADMINS", "BAN_USERS",
        "MUTE_USERS", "KICK_USERS", "WARN_USERS", "PIN_MESSAGES", "DELETE_MESSAGES", "VIEW_AUDIT", "VIEW_STATS",
        "MANAGE_SETTINGS", "BYPASS_PROTECTION",
    } <= codes
    roles = api.get("/api/rbac/roles").json()["data"]
    assert [role["name"] for role in roles] == ["banlist_owner", "owner", "admin", "banlist_admin", "moderator",
                                                "helper", "approved", "member"]
    assert [role["rank"] for role in roles] == sorted((role["rank"] for role in roles), reverse=True)


def test_custom_role_can_be_created_read_and_edited(api):
    created = api.post("/api/rbac/roles", {"name": "spam-hunter", "rank": 50, "permissions": ["DELETE_MESSAGES"]})
    assert created.status_code == 201
    assert created.json()["data"]["permissions"] == ["DELETE_MESSAGES"]
    patched = api.patch("/api/rbac/roles/spam-hunter", {"permissions": ["DELETE_MESSAGES", "BAN_USERS"]})
    assert patched.json()["data"]["permissions"] == ["BAN_USERS", "DELETE_MESSAGES"]
    assert api.get("/api/rbac/roles/spam-hunter").json()["data"]["rank"] == 50
    assert AuditEvent.objects.filter(action__in=["role.create", "role.update"], target_id="spam-hunter").count() == 2


@pytest.mark.parametrize(
    "body",
    [
        {"name": "Bad Name", "rank": 10, "permissions": []},
        {"name": "ok", "rank": 0, "permissions": []},
        {"name": "ok", "rank": "10", "permissions": []},
        {"name": "ok", "rank": 10, "permissions": ["NOT_A_PERMISSION"]},
        {"name": "ok", "rank": 10},
    ],
)
def test_invalid_roles_are_refused_and_nothing_is_written(api, body):
    before = AuditEvent.objects.count()
    response = api.post("/api/rbac/roles", body)
    assert response.status_code == 400
    assert response.json()["error"] in {"validation_error", "unknown_permission"}
    assert AuditEvent.objects.count() == before
    assert not api.get("/api/rbac/roles/ok").json()["success"]


def test_duplicate_role_name_is_a_conflict(api):
    response = api.post("/api/rbac/roles", {"name": "admin", "rank": 10, "permissions": []})
    assert response.status_code == 409


def test_role_edit_takes_effect_on_the_next_check(api):
    user, group = make_user(), make_group()
    make_member(user, group)
    grant(user, "helper", group)
    body = {"user_id": str(user.pk), "permission": "BAN_USERS", "group_id": str(group.pk)}
    assert api.post("/api/rbac/check-permission", body).json()["data"]["allowed"] is False
    api.patch("/api/rbac/roles/helper", {"permissions": ["BAN_USERS"]})
    assert api.post("/api/rbac/check-permission", body).json()["data"]["allowed"] is True


def test_grant_by_chat_id_list_and_revoke(api):
    user, group = make_user(), make_group()
    response = api.post(
        ASSIGNMENTS,
        {"user_id": str(user.pk), "role": "moderator", "telegram_chat_id": group.telegram_chat_id, "reason": "trusted"},
    )
    assert response.status_code == 201
    assignment = response.json()["data"]
    assert (assignment["group_id"], assignment["status"], assignment["telegram_chat_id"]) == (
        str(group.pk), "active", group.telegram_chat_id,
    )
    revoked = api.post(f"{ASSIGNMENTS}/{assignment['id']}/revoke", {"reason": "stepped down"})
    assert revoked.json()["data"]["status"] == "revoked"
    assert api.post(f"{ASSIGNMENTS}/{assignment['id']}/revoke", {}).status_code == 409

    history = api.get(f"{ASSIGNMENTS}?user_id={user.pk}").json()["data"]
    assert history["total"] == 1 and history["items"][0]["revoke_reason"] == "stepped down"
    assert api.get(f"{ASSIGNMENTS}?user_id={user.pk}&active=true").json()["data"]["total"] == 0


def test_regrant_of_held_role_returns_the_same_assignment(api):
    user = make_user()
    body = {"user_id": str(user.pk), "role": "helper"}
    first = api.post(ASSIGNMENTS, body)
    second = api.post(ASSIGNMENTS, body)
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["data"]["id"] == second.json()["data"]["id"]


def test_expired_assignments_are_history_and_can_be_granted_again(api, monkeypatch):
    user = make_user()
    old = grant(user, "helper", expires_at=timezone.now() + timedelta(minutes=5))
    RoleAssignment.objects.filter(pk=old.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    listed = api.get(f"{ASSIGNMENTS}?user_id={user.pk}").json()["data"]["items"]
    assert [item["status"] for item in listed] == ["expired"]
    response = api.post(ASSIGNMENTS, {"user_id": str(user.pk), "role": "helper"})
    assert response.status_code == 201
    statuses = sorted(item["status"] for item in api.get(f"{ASSIGNMENTS}?user_id={user.pk}").json()["data"]["items"])
    assert statuses == ["active", "expired"]
    assert RoleAssignment.objects.filter(user=user).count() == 2


@pytest.mark.parametrize(
    ("patch", "status"),
    [
        ({"role": "no-such-role"}, 404),
        ({"user_id": "987654"}, 404),
        ({"group_id": "987654"}, 404),
        ({"telegram_chat_id": -100999}, 404),
        ({"expires_at": "2001-01-01T00:00:00Z"}, 400),
        ({"expires_at": "tomorrow"}, 400),
        ({"group_id": "1", "telegram_chat_id": -100}, 400),
        ({"actor_user_id": "987654"}, 404),
    ],
)
def test_bad_grants_write_nothing(api, patch, status):
    user = make_user()
    before = (RoleAssignment.objects.count(), AuditEvent.objects.count())
    response = api.post(ASSIGNMENTS, {"user_id": str(user.pk), "role": "helper", **patch})
    assert response.status_code == status, response.content
    assert (RoleAssignment.objects.count(), AuditEvent.objects.count()) == before


def test_assignment_filters_are_validated(api):
    assert api.get(f"{ASSIGNMENTS}?role=nope").status_code == 404
    assert api.get(f"{ASSIGNMENTS}?active=perhaps").status_code == 400
    assert api.get(f"{ASSIGNMENTS}?limit=0").status_code == 400


def test_revoke_of_unknown_assignment_is_404(api):
    assert api.post(f"{ASSIGNMENTS}/424242/revoke", {}).status_code == 404
    assert api.post(f"{ASSIGNMENTS}/not-an-id/revoke", {}).status_code == 404


def test_system_stats_count_checks_and_denials(api):
    user = make_user()
    grant(user, "admin")
    api.post("/api/rbac/check-permission", {"user_id": str(user.pk), "permission": "MANAGE_ROLES"})
    api.post("/api/rbac/check-permission", {"user_id": str(user.pk), "permission": "MANAGE_ADMINS"})
    stats = api.get("/api/rbac/system/stats").json()["data"]
    assert stats["checks_24h"] == 2 and stats["denials_24h"] == 1
    assert stats["users"] == 1 and stats["active_assignments"] == 1
