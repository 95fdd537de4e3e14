import pytest

from apps.audit.models import AuditEvent
from apps.rbac.models import Role, RoleAssignment
from tests.factories import grant, make_group, make_member, make_user

ASSIGNMENTS = "/api/rbac/assignments"


@pytest.fixture
def group_with_admin(db):
    group, admin = make_group(), make_user()
    make_member(admin, group)
    grant(admin, "admin", group)
    return group, admin


def assign(api, actor, user, role, group=None):
    body = {"user_id": str(user.pk), "role": role, "actor_user_id": str(actor.pk)}
    if group is not None:
        body["group_id"] = str(group.pk)
    return api.post(ASSIGNMENTS, body)


def test_admin_grants_roles_below_admin_in_their_group(api, group_with_admin):
    group, admin = group_with_admin
    target = make_user()
    response = assign(api, admin, target, "moderator", group)
    assert response.status_code == 201
    assert response.json()["data"]["granted_by_user_id"] == str(admin.pk)


@pytest.mark.parametrize("role", ["admin", "owner"])
def test_admin_cannot_grant_their_rank_or_above(api, group_with_admin, role):
    group, admin = group_with_admin
    response = assign(api, admin, make_user(), role, group)
    assert response.status_code == 403
    assert response.json()["error"] == "rank_violation"


def test_no_one_escalates_themselves(api, group_with_admin):
    group, admin = group_with_admin
    response = assign(api, admin, admin, "owner", group)
    assert response.json()["error"] == "rank_violation"
    assert not RoleAssignment.objects.filter(user=admin, role__name="owner").exists()


def test_group_rank_does_not_reach_other_groups_or_global_scope(api, group_with_admin):
    _, admin = group_with_admin
    other = make_group()
    assert assign(api, admin, make_user(), "helper", other).status_code == 403
    assert assign(api, admin, make_user(), "helper").status_code == 403


def test_global_rank_counts_everywhere(api):
    platform_admin, group = make_user(), make_group()
    grant(platform_admin, "admin")
    assert assign(api, platform_admin, make_user(), "moderator", group).status_code == 201


def test_revoke_follows_the_rank_rule(api, group_with_admin):
    group, admin = group_with_admin
    peer = make_user()
    peer_assignment = grant(peer, "admin", group)
    response = api.post(f"{ASSIGNMENTS}/{peer_assignment.pk}/revoke", {"actor_user_id": str(admin.pk)})
    assert response.json()["error"] == "rank_violation"
    helper = grant(make_user(), "helper", group)
    ok = api.post(f"{ASSIGNMENTS}/{helper.pk}/revoke", {"actor_user_id": str(admin.pk), "reason": "inactive"})
    assert ok.status_code == 200


def test_actor_without_manage_roles_is_denied(api):
    group, moderator = make_group(), make_user()
    grant(moderator, "moderator", group)
    response = assign(api, moderator, make_user(), "member", group)
    assert (response.status_code, response.json()["error"]) == (403, "permission_denied")


def test_role_edits_follow_the_rank_rule(api):
    admin = make_user()
    grant(admin, "admin")
    assert api.patch("/api/rbac/roles/owner", {"description": "x", "actor_user_id": str(admin.pk)}).status_code == 403
    raise_above = api.patch("/api/rbac/roles/helper", {"rank": 90, "actor_user_id": str(admin.pk)})
    assert raise_above.json()["error"] == "rank_violation"
    assert Role.objects.get(name="helper").rank == 40
    ok = api.patch("/api/rbac/roles/helper", {"rank": 45, "actor_user_id": str(admin.pk)})
    assert ok.json()["data"]["rank"] == 45
    too_high = api.post("/api/rbac/roles", {"name": "boss", "rank": 80, "permissions": [],
                                            "actor_user_id": str(admin.pk)})
    assert too_high.json()["error"] == "rank_violation"


def test_refusals_are_on_the_audit_trail(api, group_with_admin):
    group, admin = group_with_admin
    assign(api, admin, make_user(), "owner", group)
    event = AuditEvent.objects.filter(action="role.assign").order_by("-sequence").first()
    assert (event.result, event.reason, event.actor_user_id) == ("denied", "rank_violation", str(admin.pk))
