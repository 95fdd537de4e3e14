"""Groups as the source of truth: settings, members, chat migration, Telegram admin sync."""

import pytest

from apps.audit.models import AuditEvent
from apps.groups.models import Group, Membership
from apps.rbac.models import RoleAssignment
from tests.factories import grant, make_group, make_member, make_user


@pytest.fixture
def group(db):
    return make_group(title="Pythonistas")


def test_group_list_filters_sorts_and_pages(api):
    make_group(title="Beta"), make_group(title="alpha"), make_group(title="Gamma")
    inactive = make_group(title="Delta")
    api.patch(f"/api/groups/{inactive.pk}", {"is_active": False})
    titles = [g["title"] for g in api.get("/api/groups?active=true&sort=-title").json()["data"]["items"]]
    assert titles == ["Gamma", "Beta", "alpha"]
    assert api.get("/api/groups?q=ALP").json()["data"]["total"] == 1
    page = api.get("/api/groups?limit=2&page=2&sort=created").json()["data"]
    assert (page["total"], page["page"], len(page["items"])) == (4, 2, 2)


@pytest.mark.parametrize("query", ["sort=popularity", "sort=--title", "active=maybe", "limit=500"])
def test_group_list_rejects_unknown_sort_and_filters(api, query):
    response = api.get(f"/api/groups?{query}")
    assert response.status_code == 400
    assert response.json()["error"] == "validation_error"


def test_sort_by_members_and_messages(api):
    small, big = make_group(title="small"), make_group(title="big")
    for _ in range(3):
        make_member(make_user(), big)
    make_member(make_user(), small)
    assert [g["title"] for g in api.get("/api/groups?sort=-members").json()["data"]["items"]] == ["big", "small"]
    assert api.get(f"/api/groups/{big.pk}").json()["data"]["member_count"] == 3


def test_settings_are_validated_and_audited(api, group):
    ok = api.patch(f"/api/groups/{group.pk}", {"warn_limit": 5, "warn_action": "tmute",
                                               "warn_action_duration_seconds": 3600, "rules_text": "Be nice"})
    assert ok.status_code == 200
    assert (ok.json()["data"]["warn_limit"], ok.json()["data"]["warn_action"]) == (5, "tmute")
    assert AuditEvent.objects.filter(action="group.update", group_id=str(group.pk)).exists()


@pytest.mark.parametrize(
    "body",
    [
        {"warn_limit": 0},
        {"warn_limit": 101},
        {"warn_limit": "3"},
        {"warn_action": "explode"},
        {"warn_action": "tmute"},  # needs a duration
        {"warn_action": "tmute", "warn_action_duration_seconds": 10},
        {"warn_action_duration_seconds": 366 * 86400 + 1},
        {"log_chat_id": 2**63},
        {"title": ""},
    ],
)
def test_bad_settings_are_refused_and_nothing_changes(api, group, body):
    before = AuditEvent.objects.count()
    response = api.patch(f"/api/groups/{group.pk}", body)
    assert response.status_code == 400, response.content
    assert AuditEvent.objects.count() == before
    group.refresh_from_db()
    assert (group.warn_limit, group.warn_action) == (3, "ban")


def test_by_chat_lookup(api, group):
    found = api.get(f"/api/groups/by-chat/{group.telegram_chat_id}").json()["data"]
    assert found["id"] == str(group.pk)
    assert api.get("/api/groups/by-chat/-100424242").status_code == 404
    assert api.get("/api/groups/by-chat/abc").status_code == 400
    assert api.get(f"/api/groups/by-chat/{2**63}").status_code == 400


def test_migration_to_supergroup_keeps_everything_and_both_ids_resolve(api):
    old_chat_id, new_chat_id = -4242, -1009999999999
    group = api.post("/api/groups", {"telegram_chat_id": old_chat_id, "title": "Small", "type": "group"}).json()["data"]
    user = make_user()
    make_member(user, Group.objects.get(pk=group["id"]))
    grant(user, "moderator", Group.objects.get(pk=group["id"]))
    api.patch(f"/api/groups/{group['id']}", {"warn_limit": 7})

    migrated = api.post(f"/api/groups/{group['id']}/migrate", {"new_telegram_chat_id": new_chat_id}).json()["data"]
    assert (migrated["telegram_chat_id"], migrated["type"], migrated["warn_limit"]) == (new_chat_id, "supergroup", 7)
    for chat_id in (old_chat_id, new_chat_id):
        assert api.get(f"/api/groups/by-chat/{chat_id}").json()["data"]["id"] == group["id"]
    # Registering the old chat again finds the migrated group, not a new one.
    again = api.post("/api/groups", {"telegram_chat_id": old_chat_id, "title": "Small", "type": "group"})
    assert (again.status_code, again.json()["data"]["id"]) == (200, group["id"])
    check = {"user_id": str(user.pk), "permission": "BAN_USERS", "telegram_chat_id": new_chat_id}
    assert api.post("/api/rbac/check-permission", check).json()["data"]["allowed"] is True
    check["telegram_chat_id"] = old_chat_id
    assert api.post("/api/rbac/check-permission", check).json()["data"]["allowed"] is True


def test_migration_onto_another_groups_chat_is_a_conflict(api, group):
    other = make_group()
    response = api.post(f"/api/groups/{group.pk}/migrate", {"new_telegram_chat_id": other.telegram_chat_id})
    assert response.status_code == 409


def test_members_list_filters_by_status_and_patch(api, group):
    users = [make_user() for _ in range(3)]
    for user in users:
        make_member(user, group)
    make_member(users[0], group, Membership.Status.BANNED)
    listed = api.get(f"/api/groups/{group.pk}/members?status=banned").json()["data"]
    assert [item["user_id"] for item in listed["items"]] == [str(users[0].pk)]
    assert listed["items"][0]["left_at"] is not None
    assert api.get(f"/api/groups/{group.pk}/members?status=vanished").status_code == 400
    patched = api.patch(f"/api/groups/{group.pk}/members/{users[1].pk}", {"is_admin": True, "custom_title": "chef"})
    assert (patched.json()["data"]["is_admin"], patched.json()["data"]["custom_title"]) == (True, "chef")
    outsider = make_user()
    assert api.patch(f"/api/groups/{group.pk}/members/{outsider.pk}", {"is_admin": True}).status_code == 404
    assert api.get(f"/api/groups/{group.pk}").json()["data"]["member_count"] == 2


def test_admin_sync_grants_and_revokes_only_what_it_granted(api, group):
    hand_made = make_user()
    make_member(hand_made, group)
    grant(hand_made, "admin", group)  # granted by hand: a sync never touches it
    sync = f"/api/groups/{group.pk}/admins/sync"
    first = api.post(sync, {"admins": [
        {"telegram_user_id": 777001, "status": "creator", "username": "boss"},
        {"telegram_user_id": 777002, "status": "administrator", "custom_title": "mod"},
    ]})
    assert first.status_code == 200, first.content
    assert len(first.json()["data"]["granted"]) == 2
    check = {"telegram_user_id": 777002, "permission": "BAN_USERS", "group_id": str(group.pk)}
    assert api.post("/api/rbac/check-permission", check).json()["data"]["reason"] == "granted_by_role:admin"

    second = api.post(sync, {"admins": [{"telegram_user_id": 777001, "status": "creator"}]}).json()["data"]
    assert second["revoked"] == [{"user_id": second["revoked"][0]["user_id"], "role": "admin"}]
    assert api.post("/api/rbac/check-permission", check).json()["data"]["allowed"] is False
    assert RoleAssignment.objects.filter(user=hand_made, revoked_at__isnull=True).count() == 1
    demoted = Membership.objects.get(group=group, user__telegram_user_id=777002)
    assert demoted.is_admin is False
    assert AuditEvent.objects.filter(action="group.admins_sync").count() == 2


@pytest.mark.parametrize(
    "admins",
    [
        [{"telegram_user_id": 1, "status": "owner"}],
        [{"telegram_user_id": "1", "status": "creator"}],
        [{"telegram_user_id": 1, "status": "creator"}, {"telegram_user_id": 2, "status": "creator"}],
        [{"telegram_user_id": 1, "status": "administrator"}, {"telegram_user_id": 1, "status": "creator"}],
    ],
)
def test_admin_sync_rejects_bad_lists_whole(api, group, admins):
    before = (RoleAssignment.objects.count(), AuditEvent.objects.count())
    assert api.post(f"/api/groups/{group.pk}/admins/sync", {"admins": admins}).status_code == 400
    assert (RoleAssignment.objects.count(), AuditEvent.objects.count()) == before
