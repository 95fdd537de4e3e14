import pytest
from django.test import Client

from apps.audit.models import AuditEvent
from apps.rbac.models import Role, RoleAssignment
from apps.users.models import User
from tests.factories import grant, make_group, make_member, make_user


@pytest.fixture
def admin_client(db):
    superuser = User.objects.create_superuser("root", password="a-long-test-password")
    client = Client()
    client.force_login(superuser)
    return client, superuser


@pytest.mark.parametrize(
    "url",
    [
        "/admin/",
        "/admin/users/user/",
        "/admin/rbac/role/",
        "/admin/rbac/role/add/",
        "/admin/rbac/roleassignment/",
        "/admin/rbac/roleassignment/add/",
        "/admin/rbac/permission/",
        "/admin/audit/auditevent/",
        "/admin/groups/group/",
    ],
)
def test_admin_pages_render(admin_client, url):
    make_user()
    client, _ = admin_client
    assert client.get(url).status_code == 200


def test_admin_pages_need_a_superuser_or_staff_login(db):
    response = Client().get("/admin/rbac/role/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_admin_grant_goes_through_the_service(admin_client):
    client, superuser = admin_client
    user, group = make_user(), make_group()
    response = client.post("/admin/rbac/roleassignment/add/", {
        "user": user.pk, "role": Role.objects.get(name="moderator").pk, "group": group.pk, "reason": "from admin",
    })
    assert response.status_code == 302
    assignment = RoleAssignment.objects.get(user=user)
    assert assignment.scope == str(group.pk) and assignment.granted_by == superuser
    event = AuditEvent.objects.filter(action="role.assign").latest("sequence")
    assert (event.service, event.actor_user_id) == ("admin", str(superuser.pk))


def test_admin_revoke_action_invalidates_decisions(admin_client, api):
    client, _ = admin_client
    user, group = make_user(), make_group()
    make_member(user, group)
    assignment = grant(user, "moderator", group)
    body = {"user_id": str(user.pk), "permission": "BAN_USERS", "group_id": str(group.pk)}
    assert api.post("/api/rbac/check-permission", body).json()["data"]["allowed"] is True
    client.post("/admin/rbac/roleassignment/", {"action": "revoke_selected", "_selected_action": [assignment.pk]})
    assignment.refresh_from_db()
    assert assignment.revoked_at is not None
    assert api.post("/api/rbac/check-permission", body).json()["data"]["allowed"] is False


def test_admin_user_deactivation_invalidates_decisions(admin_client, api):
    client, _ = admin_client
    user = make_user()
    grant(user, "admin")
    body = {"user_id": str(user.pk), "permission": "MANAGE_ROLES"}
    assert api.post("/api/rbac/check-permission", body).json()["data"]["allowed"] is True
    page = client.get(f"/admin/users/user/{user.pk}/change/")
    form = page.context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None}
    for name in ("password", "is_active", "date_joined", "last_login"):  # an unchecked box is an absent field
        data.pop(name, None)
    data.update({"date_joined_0": "2026-01-01", "date_joined_1": "00:00:00", "groups": [], "user_permissions": []})
    response = client.post(f"/admin/users/user/{user.pk}/change/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    user.refresh_from_db()
    assert user.is_active is False
    assert api.post("/api/rbac/check-permission", body).json()["data"]["reason"] == "user_inactive"


def test_admin_role_edit_goes_through_the_service(admin_client):
    client, _ = admin_client
    role = Role.objects.get(name="helper")
    permission_ids = list(role.permissions.values_list("pk", flat=True))
    response = client.post(f"/admin/rbac/role/{role.pk}/change/", {
        "rank": 45, "description": "edited", "permissions": permission_ids,
    })
    assert response.status_code == 302
    role.refresh_from_db()
    assert role.rank == 45
    assert AuditEvent.objects.filter(action="role.update", target_id="helper").exists()


def test_audit_events_cannot_be_changed_in_admin(admin_client):
    client, _ = admin_client
    make_user()
    event = AuditEvent.objects.latest("sequence")
    assert client.get(f"/admin/audit/auditevent/{event.pk}/change/").status_code == 200  # a read-only view
    assert client.post(f"/admin/audit/auditevent/{event.pk}/change/", {"reason": "x"}).status_code == 403
    assert client.get(f"/admin/audit/auditevent/{event.pk}/delete/").status_code == 403
