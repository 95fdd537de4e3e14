"""Cached decisions never outlive the change that invalidates them: locmem and a real Redis alike."""

import threading

import pytest
from django.db import connection

from apps.groups.models import Membership
from apps.rbac.models import RoleAssignment
from apps.rbac.selectors import role_get
from apps.rbac.services import role_assign
from tests.factories import grant, make_group, make_member, make_user

CHECK = "/api/rbac/check-permission"


@pytest.fixture(params=["locmem", pytest.param("redis", marks=pytest.mark.redis)])
def any_cache(request):
    if request.param == "redis":
        return request.getfixturevalue("redis_cache")
    from django.core.cache import cache

    return cache


@pytest.fixture
def setup(api, any_cache):
    user, group = make_user(), make_group()
    make_member(user, group)
    assignment = grant(user, "moderator", group)
    body = {"user_id": str(user.pk), "permission": "BAN_USERS", "group_id": str(group.pk)}
    assert api.post(CHECK, body).json()["data"]["allowed"] is True
    assert any(key for key in _cache_keys(any_cache)), "the decision should now be cached"
    return user, group, assignment, body


def _cache_keys(cache_backend):
    if hasattr(cache_backend, "_cache"):
        return list(cache_backend._cache)
    return cache_backend.keys("rbac:*")


def denied_reason(api, body):
    data = api.post(CHECK, body).json()["data"]
    assert data["allowed"] is False
    return data["reason"]


def test_revoke_is_effective_on_the_next_check(api, setup):
    _, _, assignment, body = setup
    api.post(f"/api/rbac/assignments/{assignment.pk}/revoke", {"reason": "test"})
    assert denied_reason(api, body) == "permission_not_granted"


def test_deactivation_is_effective_on_the_next_check(api, setup):
    user, _, _, body = setup
    api.patch(f"/api/users/{user.pk}", {"is_active": False})
    assert denied_reason(api, body) == "user_inactive"


def test_ban_is_effective_on_the_next_check(api, setup):
    user, group, _, body = setup
    api.post(f"/api/groups/{group.pk}/members", {"user_id": str(user.pk), "status": "banned"})
    assert denied_reason(api, body) == "banned_in_group"


def test_role_permission_removal_is_effective_on_the_next_check(api, setup):
    _, _, _, body = setup
    api.patch("/api/rbac/roles/moderator", {"permissions": ["VIEW_GROUPS"]})
    assert denied_reason(api, body) == "permission_not_granted"


def test_grant_is_effective_on_the_next_check(api, setup):
    user, group, _, body = setup
    manage = {**body, "permission": "MANAGE_ROLES"}
    assert denied_reason(api, manage) == "permission_not_granted"
    grant(user, "admin", group)
    assert api.post(CHECK, manage).json()["data"]["allowed"] is True


def test_a_worker_whose_cache_was_never_told_still_sees_the_revoke(api, setup):
    """The cache key carries the user's version from the database, so no worker needs a message."""
    user, _, assignment, body = setup
    RoleAssignment.objects.filter(pk=assignment.pk).update(revoked_at=assignment.created_at)
    # Another process bumps the version in the same transaction as its change; nothing touches this cache.
    type(user).objects.filter(pk=user.pk).update(rbac_version=user.rbac_version + 100)
    assert denied_reason(api, body) == "permission_not_granted"


@pytest.mark.django_db(transaction=True)
def test_concurrent_grants_leave_one_active_assignment():
    user = make_user()
    role = role_get(name="moderator")
    group = make_group()
    barrier = threading.Barrier(4)
    results, errors = [], []

    def worker():
        try:
            barrier.wait()
            results.append(role_assign(user=user, role=role, group=group))
        except Exception as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    assert sum(created for _, created in results) == 1
    assert len({assignment.pk for assignment, _ in results}) == 1
    assert RoleAssignment.objects.filter(user=user, role=role, revoked_at__isnull=True).count() == 1


def test_membership_status_values(api, setup):
    user, group, _, body = setup
    for status in (Membership.Status.RESTRICTED, Membership.Status.MEMBER):
        api.post(f"/api/groups/{group.pk}/members", {"user_id": str(user.pk), "status": status})
        assert api.post(CHECK, body).json()["data"]["allowed"] is True


def test_redis_down_degrades_to_uncached_decisions(api, settings, db):
    """A dead Redis costs speed, not answers: checks still decide from the database; health names Redis."""
    port = _closed_port()
    settings.REDIS_URL = f"redis://127.0.0.1:{port}/0"
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{port}/0",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.2, "SOCKET_TIMEOUT": 0.2, "IGNORE_EXCEPTIONS": True},
        }
    }
    user = make_user()
    grant(user, "admin")
    body = {"user_id": str(user.pk), "permission": "MANAGE_ROLES"}
    assert api.post(CHECK, body).json()["data"] == {"allowed": True, "reason": "granted_by_role:admin"}
    health = api.get("/api/health")
    assert health.status_code == 503
    assert (health.json()["status"], health.json()["redis"], health.json()["database"]) == (
        "unhealthy", "disconnected", "connected")


def _closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
