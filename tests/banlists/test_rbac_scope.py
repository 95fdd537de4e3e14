"""RBAC's third kind of scope, a ban list's (banlist:<pk>): checks, grants, the rank rule and acting-user reads in it.
The lists are made through core's API (their owner holds banlist_owner in the new list's scope)."""

import pytest

from apps.audit.models import AuditEvent
from apps.common import audit_actions as actions
from apps.coreclient import CoreClient, CoreError
from apps.rbac.models import RoleAssignment
from tests.conftest import API_KEY
from tests.factories import grant, make_group, make_member, make_user

CHECK = "/api/rbac/check-permission"
CHECKS = "/api/rbac/check-permissions"
ASSIGNMENTS = "/api/rbac/assignments"
ACTING = "HTTP_X_ACTING_USER_ID"


def new_list(api, owner, name="Spam watch") -> str:
    response = api.post("/api/banlists", {"name": name, "actor_user_id": str(owner.pk)})
    assert response.status_code == 201, response.content
    return response.json()["data"]["id"]


def check(api, **body) -> dict:
    response = api.post(CHECK, body)
    assert response.status_code == 200, response.content
    return response.json()["data"]


def error(response, status: int, code: str) -> dict:
    body = response.json()
    assert (response.status_code, body["success"], body["error"]) == (status, False, code), body
    return body


@pytest.fixture
def owned(api):
    owner = make_user()
    return owner, new_list(api, owner)


def test_the_owner_holds_the_lists_permissions_in_its_scope_without_membership_of_anything(api, owned):
    owner, list_id = owned
    for permission in ("BAN_LIST_VIEW", "BAN_LIST_BAN", "BAN_LIST_MANAGE", "MANAGE_ROLES"):
        assert check(api, user_id=str(owner.pk), permission=permission, ban_list_id=list_id) == {
            "allowed": True, "reason": "granted_by_role:banlist_owner"}
    # Not a group's permission, and nothing outside the list's scope.
    assert check(api, user_id=str(owner.pk), permission="BAN_USERS", ban_list_id=list_id)["allowed"] is False
    assert check(api, user_id=str(owner.pk), permission="BAN_LIST_BAN")["reason"] == "permission_not_granted"
    group = make_group()
    make_member(owner, group)
    assert check(api, user_id=str(owner.pk), permission="BAN_LIST_BAN", group_id=str(group.pk))["allowed"] is False


def test_a_lists_role_counts_in_that_list_only(api, owned):
    owner, list_id = owned
    other_owner = make_user()
    other = new_list(api, other_owner, "Other")
    # Each owner's snapshot is per scope: the first answer must not be served for the other list.
    assert check(api, telegram_user_id=owner.telegram_user_id, permission="BAN_LIST_BAN",
                 ban_list_id=list_id)["allowed"] is True
    assert check(api, telegram_user_id=owner.telegram_user_id, permission="BAN_LIST_BAN",
                 ban_list_id=other) == {"allowed": False, "reason": "permission_not_granted"}
    assert check(api, user_id=str(other_owner.pk), permission="BAN_LIST_BAN", ban_list_id=list_id)["allowed"] is False


def test_a_group_role_does_not_count_in_a_list_a_global_one_does(api, owned):
    _, list_id = owned
    group = make_group()
    moderator = make_user()
    make_member(moderator, group)
    grant(moderator, "owner", group)  # every permission, but in the group
    assert check(api, user_id=str(moderator.pk), permission="BAN_LIST_VIEW", ban_list_id=list_id)["allowed"] is False
    staff = make_user()
    grant(staff, "admin")  # global admin: BAN_LIST_VIEW everywhere, not BAN_LIST_BAN
    assert check(api, user_id=str(staff.pk), permission="BAN_LIST_VIEW", ban_list_id=list_id) == {
        "allowed": True, "reason": "granted_by_role:admin"}
    assert check(api, user_id=str(staff.pk), permission="BAN_LIST_BAN", ban_list_id=list_id)["allowed"] is False
    platform_owner = make_user()
    grant(platform_owner, "owner")
    assert check(api, user_id=str(platform_owner.pk), permission="BAN_LIST_BAN", ban_list_id=list_id)["allowed"]


def test_the_check_is_on_the_trail_naming_the_list(api, owned):
    owner, list_id = owned
    check(api, user_id=str(owner.pk), permission="BAN_LIST_BAN", ban_list_id=list_id)
    event = AuditEvent.objects.filter(action=actions.PERMISSION_CHECK).order_by("-sequence").first()
    assert (event.result, event.actor_user_id, event.group_id) == ("allowed", str(owner.pk), "")
    assert event.details == {"permission": "BAN_LIST_BAN", "ban_list_id": list_id}


@pytest.mark.parametrize("body, status, code", [
    ({"ban_list_id": "999999"}, 404, "not_found"),
    ({"ban_list_id": "not-an-id"}, 404, "not_found"),
    ({"ban_list_id": 12.5}, 400, "validation_error"),
    ({"ban_list_id": None}, 400, "validation_error"),
    ({"ban_list_id": "LIST", "group_id": "1"}, 400, "validation_error"),
    ({"ban_list_id": "LIST", "telegram_chat_id": -1001}, 400, "validation_error"),
])
def test_a_list_that_is_not_there_or_a_second_scope_is_refused(api, owned, body, status, code):
    owner, list_id = owned
    body = {key: (list_id if value == "LIST" else value) for key, value in body.items()}
    error(api.post(CHECK, {"user_id": str(owner.pk), "permission": "BAN_LIST_VIEW", **body}), status, code)


def test_a_deleted_list_is_not_found(api, owned):
    owner, list_id = owned
    assert api.post(f"/api/banlists/{list_id}/delete", {"actor_user_id": str(owner.pk)}).status_code == 200
    error(api.post(CHECK, {"user_id": str(owner.pk), "permission": "BAN_LIST_VIEW", "ban_list_id": list_id}), 404,
          "not_found")


def test_batch_checks_mix_scopes(api, owned):
    owner, list_id = owned
    group = make_group()
    make_member(owner, group)
    grant(owner, "moderator", group)
    response = api.post(CHECKS, {"checks": [
        {"user_id": str(owner.pk), "permission": "BAN_LIST_BAN", "ban_list_id": list_id},
        {"user_id": str(owner.pk), "permission": "BAN_USERS", "group_id": str(group.pk)},
        {"user_id": str(owner.pk), "permission": "BAN_USERS", "ban_list_id": list_id},
        {"user_id": str(owner.pk), "permission": "BAN_LIST_BAN"},
        {"user_id": str(owner.pk), "permission": "BAN_LIST_BAN", "ban_list_id": "999999"},
    ]})
    assert response.status_code == 200, response.content
    results = response.json()["data"]["results"]
    assert [result["allowed"] for result in results] == [True, True, False, False, False]
    # A list that is not there (deleted since the caller cached it) denies that check, not the whole batch.
    assert results[4]["reason"] == "ban_list_not_found"
    event = AuditEvent.objects.filter(action=actions.PERMISSION_CHECK).order_by("-sequence").first()
    assert (event.result, event.reason, event.details) == ("denied", "ban_list_not_found",
                                                           {"permission": "BAN_LIST_BAN", "ban_list": "999999"})


def test_list_roles_are_granted_only_in_list_scopes_and_only_they_there(api, owned):
    _, list_id = owned
    user, group = make_user(), make_group()
    make_member(user, group)
    for scope in ({}, {"group_id": str(group.pk)}):
        body = error(api.post(ASSIGNMENTS, {"user_id": str(user.pk), "role": "banlist_admin", **scope}), 400,
                     "validation_error")
        assert "ban list" in body["message"]
    error(api.post(ASSIGNMENTS, {"user_id": str(user.pk), "role": "moderator", "ban_list_id": list_id}), 400,
          "validation_error")
    created = api.post(ASSIGNMENTS, {"user_id": str(user.pk), "role": "banlist_admin", "ban_list_id": list_id})
    assert created.status_code == 201, created.content
    data = created.json()["data"]
    assert (data["scope"], data["ban_list_id"], data["group_id"]) == (f"banlist:{list_id}", list_id, None)
    assert check(api, user_id=str(user.pk), permission="BAN_LIST_BAN", ban_list_id=list_id) == {
        "allowed": True, "reason": "granted_by_role:banlist_admin"}
    # Granting it again answers the same assignment.
    again = api.post(ASSIGNMENTS, {"user_id": str(user.pk), "role": "banlist_admin", "ban_list_id": list_id})
    assert again.status_code == 200 and again.json()["data"]["id"] == data["id"]
    error(api.post(ASSIGNMENTS, {"user_id": str(user.pk), "role": "banlist_admin", "ban_list_id": "999999"}), 404,
          "not_found")


def test_the_rank_rule_holds_in_a_lists_scope(api, owned):
    owner, list_id = owned
    admin, newcomer = make_user(), make_user()
    grant_body = {"role": "banlist_admin", "ban_list_id": list_id}
    response = api.post(ASSIGNMENTS, {"user_id": str(admin.pk), **grant_body, "actor_user_id": str(owner.pk)})
    assert response.status_code == 201, response.content
    # An admin holds no MANAGE_ROLES there; the owner may not make another owner (not below their rank).
    body = error(api.post(ASSIGNMENTS, {"user_id": str(newcomer.pk), **grant_body, "actor_user_id": str(admin.pk)}),
                 403, "permission_denied")
    assert "MANAGE_ROLES" in body["message"]
    error(api.post(ASSIGNMENTS, {"user_id": str(newcomer.pk), "role": "banlist_owner", "ban_list_id": list_id,
                                 "actor_user_id": str(owner.pk)}), 403, "rank_violation")
    # Another list's owner holds MANAGE_ROLES in their own list only.
    stranger = make_user()
    new_list(api, stranger, "Theirs")
    error(api.post(ASSIGNMENTS, {"user_id": str(newcomer.pk), **grant_body, "actor_user_id": str(stranger.pk)}),
          403, "permission_denied")
    denied = AuditEvent.objects.filter(action=actions.ROLE_ASSIGN, result="denied").order_by("-sequence").first()
    assert denied.details["scope"] == f"banlist:{list_id}"
    # Revoking: the owner may take the admin's role away; the admin may not take the owner's.
    assignment = RoleAssignment.objects.get(user=admin, scope=f"banlist:{list_id}", revoked_at__isnull=True)
    owner_grant = RoleAssignment.objects.get(user=owner, scope=f"banlist:{list_id}", revoked_at__isnull=True)
    error(api.post(f"{ASSIGNMENTS}/{owner_grant.pk}/revoke", {"actor_user_id": str(admin.pk)}), 403,
          "permission_denied")
    revoked = api.post(f"{ASSIGNMENTS}/{assignment.pk}/revoke", {"actor_user_id": str(owner.pk)})
    assert revoked.status_code == 200 and revoked.json()["data"]["status"] == "revoked"
    assert check(api, user_id=str(admin.pk), permission="BAN_LIST_BAN", ban_list_id=list_id)["allowed"] is False


def test_assignments_are_listed_by_list(api, owned):
    owner, list_id = owned
    other = new_list(api, make_user(), "Other")
    response = api.get(f"{ASSIGNMENTS}?ban_list_id={list_id}")
    assert response.status_code == 200, response.content
    items = response.json()["data"]["items"]
    assert [(item["user_id"], item["role"], item["ban_list_id"]) for item in items] == [
        (str(owner.pk), "banlist_owner", list_id)]
    assert len(api.get(f"{ASSIGNMENTS}?ban_list_id={other}").json()["data"]["items"]) == 1
    error(api.get(f"{ASSIGNMENTS}?ban_list_id=999999"), 404, "not_found")


def test_acting_user_reads_are_checked_in_the_lists_scope(api, owned):
    owner, list_id = owned
    stranger, staff = make_user(), make_user()
    grant(staff, "admin")
    assert api.get(f"/api/banlists/{list_id}", **{ACTING: str(owner.pk)}).status_code == 200
    assert api.get(f"/api/banlists/{list_id}", **{ACTING: str(staff.pk)}).status_code == 200
    body = error(api.get(f"/api/banlists/{list_id}", **{ACTING: str(stranger.pk)}), 403, "permission_denied")
    assert "BAN_LIST_VIEW" in body["message"]
    error(api.get("/api/banlists/999999", **{ACTING: str(owner.pk)}), 404, "not_found")
    event = AuditEvent.objects.filter(action=actions.PERMISSION_CHECK).order_by("-sequence").first()
    assert event.details.get("ban_list_id") == list_id and event.result == "denied"


def test_the_core_clients_check_in_a_list(core_app):
    owner = make_user()
    core = CoreClient("http://testserver", API_KEY, transport=core_app)
    list_id = core.ban_list_create(name="Spam watch", actor_user_id=str(owner.pk))["id"]
    decision = core.check_permission(permission="BAN_LIST_BAN", telegram_user_id=owner.telegram_user_id,
                                     ban_list_id=list_id)
    assert decision.allowed and decision.reason == "granted_by_role:banlist_owner"
    decisions = core.check_permissions([
        {"permission": "BAN_LIST_MANAGE", "user_id": str(owner.pk), "ban_list_id": list_id},
        {"permission": "BAN_LIST_MANAGE", "user_id": str(make_user().pk), "ban_list_id": list_id},
    ])
    assert [item.allowed for item in decisions] == [True, False]
    with pytest.raises(CoreError) as raised:
        core.check_permission(permission="BAN_LIST_BAN", user_id=str(owner.pk), ban_list_id="999999")
    assert raised.value.code == "not_found"
