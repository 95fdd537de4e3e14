"""services.require asks core once per permission and scope in a request, and never remembers a refusal."""

import pytest

from apps.common.errors import PermissionDeniedError
from apps.dashboard import services
from apps.dashboard.tokens import DashboardUser


class RecordingCore:
    """Answers check calls as core's API does, from a fixed set of grants, and counts them."""

    def __init__(self, grants):
        self.grants, self.calls = grants, 0

    def _decide(self, check):
        allowed = (check["permission"], check.get("group_id")) in self.grants
        return {"allowed": allowed, "reason": "granted_by_role:admin" if allowed else "permission_not_granted"}

    def check_permission(self, **check):
        self.calls += 1
        return self._decide(check)

    def check_permissions(self, checks):
        self.calls += 1
        return {"results": [self._decide(check) for check in checks]}


@pytest.fixture
def core(monkeypatch):
    def install(grants):
        recording = RecordingCore(grants)
        monkeypatch.setattr(services, "core", lambda: recording)
        return recording
    return install


def test_a_granted_permission_is_asked_once_per_request(core):
    recording = core({("VIEW_GROUPS", "7")})
    user = DashboardUser({"user_id": "1"})
    for _ in range(3):  # a group page: the group, its members, its settings
        services.require(user, "VIEW_GROUPS", group_id="7")
    assert recording.calls == 1
    with pytest.raises(PermissionDeniedError):  # another group is another question
        services.require(user, "VIEW_GROUPS", group_id="8")
    assert recording.calls == 2
    # The next request (a new user object from the token) asks core again: a revoke between requests counts.
    services.require(DashboardUser({"user_id": "1"}), "VIEW_GROUPS", group_id="7")
    assert recording.calls == 3


def test_a_global_grant_answers_every_group_and_a_refusal_is_asked_again(core):
    recording = core({("VIEW_STATS", None)})
    user = DashboardUser({"user_id": "1"})
    services.require(user, "VIEW_STATS")
    services.require(user, "VIEW_STATS", group_id="7")
    assert recording.calls == 1
    for _ in range(2):
        with pytest.raises(PermissionDeniedError):
            services.require(user, "MANAGE_ROLES")
    assert recording.calls == 3
