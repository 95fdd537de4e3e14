"""Shared assertions for the API tests: the error envelope's shape, and "this request wrote nothing"."""

from contextlib import contextmanager
from urllib.parse import urlencode

from apps.audit.models import AuditEvent
from apps.groups.models import Group, Membership
from apps.rbac.models import RoleAssignment
from apps.users.models import User

_WRITABLE = (User, Group, Membership, RoleAssignment, AuditEvent)


def assert_error(response, status: int, code: str, message_contains: str | None = None) -> dict:
    """The response is the error envelope with `status` and `code`, and a message worth reading."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.json()
    assert body["success"] is False
    assert body["error"] == code, body
    assert body["status_code"] == status
    assert isinstance(body["message"], str) and len(body["message"]) >= 5, body
    if message_contains is not None:
        assert message_contains.lower() in body["message"].lower(), body["message"]
    return body


def _counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in _WRITABLE}


@contextmanager
def nothing_written():
    """Fails when the block changed how many users, groups, memberships, assignments or audit events exist."""
    before = _counts()
    yield
    assert _counts() == before, "the request wrote to the database"


def query(path: str, **params) -> str:
    """`path` with `params` as its query string (the ApiClient takes a full path)."""
    return f"{path}?{urlencode(params)}" if params else path
