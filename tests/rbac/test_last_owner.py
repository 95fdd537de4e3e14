"""The lock-out guard: the last active global owner grant is never revoked, nor its holder deactivated."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.rbac.models import RoleAssignment
from apps.users.models import User
from tests.common.assertions import assert_error
from tests.factories import grant, make_group, make_user


def revoke(api, assignment, actor=None):
    body = {"reason": "cleanup"} | ({"actor_user_id": str(actor.pk)} if actor is not None else {})
    return api.post(f"/api/rbac/assignments/{assignment.pk}/revoke", body)


def deactivate(api, user, actor=None):
    body = {"is_active": False} | ({"actor_user_id": str(actor.pk)} if actor is not None else {})
    return api.patch(f"/api/users/{user.pk}", body)


@pytest.fixture
def owner(db):
    user = make_user("only_owner")
    return user, grant(user, "owner")


def test_the_last_global_owner_grant_cannot_be_revoked(api, owner):
    user, assignment = owner
    body = assert_error(revoke(api, assignment), 409, "last_owner", "last active global owner")
    assert str(assignment.pk) in body["message"]
    assignment.refresh_from_db()
    assert assignment.revoked_at is None and assignment.active_scope == "global"
    event = AuditEvent.objects.filter(action="role.revoke").get()
    assert (event.result, event.reason, event.target_id) == ("denied", "last_owner", str(user.pk))


def test_not_even_their_own_by_a_superuser_owner(api, owner):
    user, assignment = owner
    user.is_superuser = True  # the rank rule does not bind a superuser: only this guard stands
    user.save(update_fields=["is_superuser"])
    assert_error(revoke(api, assignment, actor=user), 409, "last_owner")


def test_with_another_active_owner_one_may_go_but_not_both(api, owner):
    _, assignment = owner
    second = grant(make_user(), "owner")
    assert revoke(api, assignment).status_code == 200
    assert_error(revoke(api, second), 409, "last_owner")


def test_an_inactive_or_expired_second_owner_does_not_count(api, owner):
    _, assignment = owner
    inactive = make_user()
    grant(inactive, "owner")
    User.objects.filter(pk=inactive.pk).update(is_active=False)
    expiring = grant(make_user(), "owner", expires_at=timezone.now() + timedelta(hours=1))
    RoleAssignment.objects.filter(pk=expiring.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert_error(revoke(api, assignment), 409, "last_owner")


def test_group_owner_grants_and_other_roles_are_not_guarded(api, owner):
    group = make_group()
    group_owner = grant(make_user(), "owner", group)
    admin = grant(make_user(), "admin")
    assert revoke(api, group_owner).status_code == 200
    assert revoke(api, admin).status_code == 200


def test_the_last_owner_cannot_be_deactivated(api, owner):
    user, _ = owner
    body = assert_error(deactivate(api, user), 409, "last_owner")
    assert str(user.pk) in body["message"]
    user.refresh_from_db()
    assert user.is_active is True
    event = AuditEvent.objects.filter(action="user.update").get()
    assert (event.result, event.reason) == ("denied", "last_owner")


def test_an_owner_with_a_peer_can_be_deactivated_and_then_the_peer_is_the_last(api, owner):
    user, _ = owner
    peer = make_user()
    grant(peer, "owner")
    assert deactivate(api, user).status_code == 200
    assert_error(deactivate(api, peer), 409, "last_owner")
    assert revoke(api, RoleAssignment.objects.get(user=peer, active_scope="global")).status_code == 409


def test_other_users_are_deactivated_as_before(api, owner):
    assert deactivate(api, make_user()).status_code == 200
