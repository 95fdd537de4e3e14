"""Every change writes exactly one audit event, in the same transaction: no change without its record."""

import pytest

from apps.audit import services
from apps.audit.models import AuditEvent
from apps.groups.models import Group, Membership
from apps.rbac.models import RoleAssignment
from apps.users.models import User
from tests.conftest import ApiClient
from tests.factories import grant, make_group, make_user


@pytest.fixture
def world(db):
    actor = make_user("actor")
    grant(actor, "admin")
    user, group = make_user("target"), make_group()
    assignment = grant(user, "moderator", group)
    return {"actor": str(actor.pk), "user": str(user.pk), "group": str(group.pk), "assignment": str(assignment.pk),
            "user_obj": user, "group_obj": group}


def changes(world):
    """(name, method, path, body, expected action, the target_id the event must name)."""
    return {
        "user.create": ("post", "/api/users", {"username": "new-one"}, "user.create", None),
        "user.update": ("patch", f"/api/users/{world['user']}", {"display_name": "D"}, "user.update", world["user"]),
        "user.deactivate": ("patch", f"/api/users/{world['user']}", {"is_active": False}, "user.update",
                            world["user"]),
        "group.create": ("post", "/api/groups", {"telegram_chat_id": -100999, "title": "G", "type": "group"},
                         "group.create", None),
        "membership": ("post", f"/api/groups/{world['group']}/members", {"user_id": world["user"],
                                                                        "status": "member"},
                       "membership.upsert", world["user"]),
        "role.assign": ("post", "/api/rbac/assignments", {"user_id": world["user"], "role": "moderator"}, "role.assign",
                        world["user"]),
        "role.revoke": ("post", f"/api/rbac/assignments/{world['assignment']}/revoke", {"reason": "r"},
                        "role.revoke", world["user"]),
    }


CHANGES = ["user.create", "user.update", "user.deactivate", "group.create", "membership", "role.assign",
           "role.revoke"]


def state():
    return (
        list(User.objects.order_by("pk").values()),
        list(Group.objects.order_by("pk").values()),
        list(Membership.objects.order_by("pk").values()),
        list(RoleAssignment.objects.order_by("pk").values()),
    )


@pytest.mark.parametrize("change", CHANGES)
def test_each_change_writes_exactly_one_event(api, world, change):
    method, path, body, action, target_id = changes(world)[change]
    before = AuditEvent.objects.count()
    response = getattr(api, method)(path, {**body, "actor_user_id": world["actor"]})
    assert response.status_code in (200, 201), response.content
    assert AuditEvent.objects.count() == before + 1
    event = AuditEvent.objects.first()
    assert (event.action, event.result, event.actor_user_id, event.service) == (
        action, "success", world["actor"], "tests")
    if target_id is None:
        target_id = response.json()["data"]["id"]
    assert event.target_id == target_id


@pytest.mark.parametrize("change", CHANGES)
def test_a_change_whose_audit_record_fails_is_rolled_back(world, change, monkeypatch):
    method, path, body, _, _ = changes(world)[change]
    before, events_before = state(), AuditEvent.objects.count()

    def broken_stream_head(stream):
        raise RuntimeError("audit storage unavailable")

    monkeypatch.setattr(services, "_stream_head", broken_stream_head)
    response = getattr(ApiClient(validate=False), method)(path, body)
    assert response.status_code == 500
    assert response.json()["error"] == "internal_error"
    assert "audit storage" not in response.content.decode()  # internals stay in the log
    assert state() == before
    assert AuditEvent.objects.count() == events_before


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", "/api/groups", {"telegram_chat_id": -100999, "title": "G", "type": "group"}),
        ("post", "/api/groups/{group}/members", {"user_id": "{user}", "status": "member"}),
        ("patch", "/api/users/{user}", {"display_name": "Same"}),
        ("post", "/api/rbac/assignments", {"user_id": "{user}", "role": "moderator", "group_id": "{group}"}),
    ],
)
def test_repeating_a_change_writes_no_second_event(api, world, method, path, body):
    def fill(value):
        return value.format(user=world["user"], group=world["group"]) if isinstance(value, str) else value

    path, body = fill(path), {key: fill(value) for key, value in body.items()}
    getattr(api, method)(path, body)
    before = AuditEvent.objects.count()
    response = getattr(api, method)(path, body)
    assert response.status_code == 200, response.content
    assert AuditEvent.objects.count() == before
