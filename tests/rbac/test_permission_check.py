import time
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.groups.models import Membership
from apps.rbac.selectors import PermissionQuery
from apps.rbac.services import permission_check
from tests.factories import grant, make_group, make_member, make_user

CHECK = "/api/rbac/check-permission"


def check(api, **body):
    response = api.post(CHECK, body)
    assert response.status_code == 200, response.content
    return response.json()["data"]


@pytest.fixture
def moderator_setup(db):
    group = make_group()
    user = make_user()
    make_member(user, group)
    grant(user, "moderator", group)
    return user, group


def test_group_role_grants_permission_in_its_group(api, moderator_setup):
    user, group = moderator_setup
    assert check(api, user_id=str(user.pk), permission="BAN_USERS", group_id=str(group.pk)) == {
        "allowed": True,
        "reason": "granted_by_role:moderator",
    }


def test_lookup_by_telegram_ids_including_64_bit_chat_ids(api, moderator_setup):
    user, group = moderator_setup
    assert group.telegram_chat_id < -(2**32)
    result = check(api, telegram_user_id=user.telegram_user_id, permission="BAN_USERS",
                   telegram_chat_id=group.telegram_chat_id)
    assert result["allowed"] is True


def test_group_role_does_not_count_globally_or_elsewhere(api, moderator_setup):
    user, _ = moderator_setup
    other = make_group()
    make_member(user, other)
    assert check(api, user_id=str(user.pk), permission="BAN_USERS")["reason"] == "permission_not_granted"
    assert check(api, user_id=str(user.pk), permission="BAN_USERS", group_id=str(other.pk))["allowed"] is False


def test_global_role_counts_in_every_group_where_a_member(api, db):
    user, group = make_user(), make_group()
    make_member(user, group)
    grant(user, "admin")
    assert check(api, user_id=str(user.pk), permission="MANAGE_ROLES")["allowed"] is True
    assert check(api, user_id=str(user.pk), permission="MANAGE_ROLES", group_id=str(group.pk))["allowed"] is True


def test_global_role_counts_in_a_group_without_membership(api, db):
    """Platform staff are not members of every group: a global grant applies there, and no denial is written."""
    user, group = make_user(), make_group()
    grant(user, "admin")
    before = AuditEvent.objects.filter(result="denied").count()
    assert check(api, user_id=str(user.pk), permission="MANAGE_ROLES", group_id=str(group.pk)) == {
        "allowed": True, "reason": "granted_by_role:admin"}
    assert check(api, telegram_user_id=user.telegram_user_id, permission="MANAGE_ROLES",
                 telegram_chat_id=group.telegram_chat_id)["allowed"] is True
    assert AuditEvent.objects.filter(result="denied").count() == before
    assert not AuditEvent.objects.filter(reason="not_a_member").exists()


@pytest.mark.parametrize("status", [Membership.Status.LEFT, Membership.Status.KICKED, Membership.Status.BANNED])
def test_global_role_counts_whatever_the_membership(api, db, status):
    user, group = make_user(), make_group()
    make_member(user, group, status)
    grant(user, "admin")
    assert check(api, user_id=str(user.pk), permission="MANAGE_ROLES", group_id=str(group.pk))["allowed"] is True


def test_without_membership_only_the_global_grant_counts(api, db):
    """A group grant ranked above the global one does not name the decision when the user is not a member."""
    user, group = make_user(), make_group()
    grant(user, "moderator")
    grant(user, "owner", group)
    assert check(api, user_id=str(user.pk), permission="BAN_USERS", group_id=str(group.pk)) == {
        "allowed": True, "reason": "granted_by_role:moderator"}
    assert check(api, user_id=str(user.pk), permission="MANAGE_ROLES", group_id=str(group.pk)) == {
        "allowed": False, "reason": "not_a_member"}


def test_highest_ranked_granting_role_is_named(api, moderator_setup):
    user, group = moderator_setup
    grant(user, "admin", group)
    assert check(api, user_id=str(user.pk), permission="BAN_USERS", group_id=str(group.pk))["reason"] == (
        "granted_by_role:admin"
    )


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"user_id": "999999"}, "user_not_found"),
        ({"telegram_user_id": 424242}, "user_not_found"),
    ],
)
def test_unknown_user_is_denied(api, db, body, reason):
    assert check(api, permission="BAN_USERS", **body) == {"allowed": False, "reason": reason}


def test_inactive_user_is_denied(api, moderator_setup):
    user, group = moderator_setup
    user.is_active = False
    user.save()
    assert check(api, user_id=str(user.pk), permission="BAN_USERS", group_id=str(group.pk))["reason"] == (
        "user_inactive"
    )


def test_unknown_permission_is_a_400_not_a_deny(api, moderator_setup):
    user, _ = moderator_setup
    response = api.post(CHECK, {"user_id": str(user.pk), "permission": "FLY_TO_THE_MOON"})
    assert response.status_code == 400
    assert response.json()["error"] == "unknown_permission"


def test_unknown_group_is_denied(api, moderator_setup):
    user, _ = moderator_setup
    result = check(api, user_id=str(user.pk), permission="BAN_USERS", telegram_chat_id=-100777)
    assert result == {"allowed": False, "reason": "group_not_found"}


def test_non_member_is_denied_in_group(api, db):
    user, group = make_user(), make_group()
    grant(user, "moderator", group)
    assert check(api, user_id=str(user.pk), permission="BAN_USERS", group_id=str(group.pk))["reason"] == (
        "not_a_member"
    )


@pytest.mark.parametrize("status", [Membership.Status.LEFT, Membership.Status.KICKED])
def test_former_member_is_denied(api, moderator_setup, status):
    user, group = moderator_setup
    make_member(user, group, status)
    assert check(api, user_id=str(user.pk), permission="BAN_USERS", group_id=str(group.pk))["reason"] == (
        "not_a_member"
    )


def test_banned_member_is_denied(api, moderator_setup):
    user, group = moderator_setup
    make_member(user, group, Membership.Status.BANNED)
    assert check(api, user_id=str(user.pk), permission="BAN_USERS", group_id=str(group.pk))["reason"] == (
        "banned_in_group"
    )


def test_expired_assignment_stops_granting_at_once_though_cached(db, monkeypatch):
    user, group = make_user(), make_group()
    make_member(user, group)
    grant(user, "moderator", group, expires_at=timezone.now() + timedelta(hours=1))
    query = PermissionQuery(permission="BAN_USERS", user_id=user.pk, group_id=group.pk)
    assert permission_check(query=query).allowed is True  # the snapshot is now cached
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() + 3601)
    assert permission_check(query=query).reason == "permission_not_granted"


def test_exactly_one_user_reference_is_required(api, moderator_setup):
    user, _ = moderator_setup
    both = api.post(CHECK, {"user_id": str(user.pk), "telegram_user_id": 1, "permission": "BAN_USERS"})
    neither = api.post(CHECK, {"permission": "BAN_USERS"})
    assert both.status_code == neither.status_code == 400


def test_batch_answers_in_order(api, moderator_setup):
    user, group = moderator_setup
    checks = [
        {"user_id": str(user.pk), "permission": "BAN_USERS", "group_id": str(group.pk)},
        {"user_id": str(user.pk), "permission": "MANAGE_ROLES", "group_id": str(group.pk)},
        {"telegram_user_id": 1, "permission": "BAN_USERS"},
    ]
    response = api.post("/api/rbac/check-permissions", {"checks": checks})
    assert response.status_code == 200
    assert [r["reason"] for r in response.json()["data"]["results"]] == [
        "granted_by_role:moderator",
        "permission_not_granted",
        "user_not_found",
    ]


def test_batch_limit_is_100(api, moderator_setup):
    user, _ = moderator_setup
    check_body = {"user_id": str(user.pk), "permission": "BAN_USERS"}
    assert api.post("/api/rbac/check-permissions", {"checks": [check_body] * 100}).status_code == 200
    over = api.post("/api/rbac/check-permissions", {"checks": [check_body] * 101})
    assert over.status_code == 400
    assert api.post("/api/rbac/check-permissions", {"checks": []}).status_code == 400
