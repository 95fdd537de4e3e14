"""A service's read made for one of its users (X-Acting-User-ID): core authorizes it in the same request, with
the audited permission check, and refuses before reading anything."""

import pytest

from apps.audit.models import AuditEvent
from apps.common import audit_actions as actions
from tests.factories import grant, make_group, make_member, make_user

ACTING = "HTTP_X_ACTING_USER_ID"


def checks():
    return list(AuditEvent.objects.filter(action=actions.PERMISSION_CHECK).order_by("sequence"))


@pytest.fixture
def groups(db):
    return [make_group(title=f"Acting {number}") for number in range(3)]


def test_allowed_the_list_is_read_and_the_decision_audited(api, groups):
    viewer = make_user()
    grant(viewer, "admin")
    before = len(checks())
    response = api.get("/api/groups?limit=2", **{ACTING: str(viewer.pk)})
    assert response.status_code == 200, response.content
    assert response.json()["data"]["total"] == 3 and len(response.json()["data"]["items"]) == 2
    (event,) = checks()[before:]
    assert (event.result, event.actor_user_id, event.reason) == ("allowed", str(viewer.pk), "granted_by_role:admin")
    assert event.details == {"permission": "VIEW_GROUPS"}


def test_the_same_answer_as_without_the_header(api, groups):
    viewer = make_user()
    grant(viewer, "admin")
    plain = api.get("/api/groups?sort=-created&limit=2&page=2").json()
    assert api.get("/api/groups?sort=-created&limit=2&page=2", **{ACTING: str(viewer.pk)}).json() == plain


def test_denied_403_names_the_permission_and_returns_nothing(api, groups):
    group = groups[0]
    member = make_user()
    make_member(member, group)
    grant(member, "moderator", group)  # VIEW_GROUPS in one group: not enough to list every group
    before = len(checks())
    response = api.get("/api/groups", **{ACTING: str(member.pk)})
    assert response.status_code == 403
    body = response.json()
    assert body["success"] is False and body["error"] == "permission_denied" and "data" not in body
    assert "VIEW_GROUPS" in body["message"]
    assert body["details"] == {"permission": "VIEW_GROUPS", "reason": "permission_not_granted"}
    (event,) = checks()[before:]
    assert (event.result, event.actor_user_id, event.reason) == ("denied", str(member.pk), "permission_not_granted")


def test_an_inactive_user_is_refused(api, groups):
    user = make_user(is_active=False)
    response = api.get("/api/groups", **{ACTING: str(user.pk)})
    assert response.status_code == 403
    assert response.json()["details"]["reason"] == "user_inactive"


def test_an_unknown_user_is_refused_and_audited(api, groups):
    before = len(checks())
    response = api.get("/api/groups", **{ACTING: "987654321"})
    assert response.status_code == 403
    assert response.json()["details"] == {"permission": "VIEW_GROUPS", "reason": "user_not_found"}
    (event,) = checks()[before:]
    assert (event.result, event.reason, event.actor_user_id) == ("denied", "user_not_found", "")
    assert event.details == {"permission": "VIEW_GROUPS", "user": "987654321"}


@pytest.mark.parametrize("value", ["", " ", "1 2", "1,2", "../1", "x" * 65, "1\x00"])
def test_a_malformed_user_id_is_400_and_nothing_is_checked(api, groups, value):
    before = len(checks())
    response = api.get("/api/groups", **{ACTING: value})
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "validation_error" and "X-Acting-User-ID" in body["message"]
    assert len(checks()) == before


def test_an_endpoint_or_method_that_declares_no_permission_refuses_the_header(api, groups):
    viewer = make_user()
    grant(viewer, "admin")
    before = len(checks())
    response = api.get(f"/api/groups/{groups[0].pk}/anonymous-admin", **{ACTING: str(viewer.pk)})
    assert response.status_code == 400 and response.json()["error"] == "validation_error"
    created = api.post("/api/groups", {"telegram_chat_id": -1009999000001, "title": "New", "type": "supergroup"},
                       **{ACTING: str(viewer.pk)})
    assert created.status_code == 400
    assert len(checks()) == before
    assert not AuditEvent.objects.filter(action=actions.GROUP_CREATE, details__title="New").exists()


def test_only_a_service_may_act_for_a_user(db, groups):
    from tests.conftest import ApiClient

    viewer = make_user()
    grant(viewer, "admin")
    anonymous = ApiClient(api_key=None, validate=False)
    assert anonymous.get("/api/groups", **{ACTING: str(viewer.pk)}).status_code == 401


@pytest.mark.parametrize(("path", "permission"), [
    ("/api/users", "ADMIN_DASHBOARD"),
    ("/api/rbac/roles", "MANAGE_ROLES"),
    ("/api/rbac/assignments", "MANAGE_ROLES"),
    ("/api/audit/events", "VIEW_AUDIT"),
])
def test_the_other_lists_web_reads(api, db, path, permission):
    admin, nobody = make_user(), make_user()
    grant(admin, "admin")
    assert api.get(path, **{ACTING: str(admin.pk)}).status_code == 200
    refused = api.get(path, **{ACTING: str(nobody.pk)})
    assert refused.status_code == 403
    assert refused.json()["details"] == {"permission": permission, "reason": "permission_not_granted"}


# -- reads of one group's data: authorized in the group the URL names, resolved first


GROUP_READS = [("/api/groups/{}", "VIEW_GROUPS"), ("/api/groups/{}/members", "VIEW_GROUPS"),
               ("/api/stats/groups/{}", "VIEW_STATS")]


@pytest.fixture
def own_and_other(db):
    """A moderator of one group (VIEW_GROUPS and VIEW_STATS there), and another group they are not in."""
    own, other = make_group(title="Own"), make_group(title="Other")
    moderator = make_user()
    make_member(moderator, own)
    grant(moderator, "moderator", own)
    return moderator, own, other


@pytest.mark.parametrize(("path", "permission"), GROUP_READS)
def test_a_group_read_is_authorized_in_that_group_only(api, own_and_other, path, permission):
    moderator, own, other = own_and_other
    assert api.get(path.format(own.pk), **{ACTING: str(moderator.pk)}).status_code == 200
    before = len(checks())
    refused = api.get(path.format(other.pk), **{ACTING: str(moderator.pk)})
    assert refused.status_code == 403 and "data" not in refused.json()
    assert refused.json()["details"] == {"permission": permission, "reason": "permission_not_granted"}
    (here,) = checks()[before:]
    assert (here.group_id, here.result) == (str(other.pk), "denied")


@pytest.mark.parametrize(("path", "permission"), GROUP_READS)
def test_a_global_grant_reads_every_group_without_membership(api, own_and_other, path, permission):
    _, own, other = own_and_other
    admin = make_user()
    grant(admin, "admin")
    for group in (own, other):
        before = len(checks())
        assert api.get(path.format(group.pk), **{ACTING: str(admin.pk)}).status_code == 200
        # One allowed check in the group: no not_a_member denial on the trail (nor on the denials card).
        (event,) = checks()[before:]
        assert (event.group_id, event.result, event.reason) == (str(group.pk), "allowed", "granted_by_role:admin")


@pytest.mark.parametrize(("path", "permission"), GROUP_READS)
@pytest.mark.parametrize("group_id", ["987654321", "ffffffffffffffffffffffff", "%20" + "1", "..", "%3F"])
def test_a_group_that_does_not_exist_is_404_before_any_check(api, own_and_other, path, permission, group_id):
    moderator, _, _ = own_and_other
    before = len(checks())
    response = api.get(path.format(group_id), **{ACTING: str(moderator.pk)})
    assert response.status_code == 404 and response.json()["error"] == "not_found", response.content
    assert len(checks()) == before


def test_a_member_status_in_the_group_read_is_what_counts(api, own_and_other):
    """The decision is about the group read: left it, refused there, even though it was allowed before."""
    moderator, own, _ = own_and_other
    assert api.get(f"/api/groups/{own.pk}/members", **{ACTING: str(moderator.pk)}).status_code == 200
    api.post(f"/api/groups/{own.pk}/members", {"user_id": str(moderator.pk), "status": "left"})
    refused = api.get(f"/api/groups/{own.pk}/members", **{ACTING: str(moderator.pk)})
    assert refused.status_code == 403 and refused.json()["details"]["reason"] == "not_a_member"
