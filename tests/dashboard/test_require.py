"""services.require asks core once per permission and scope in a request, and never remembers a refusal."""

import pytest

from apps.common.errors import PermissionDeniedError
from apps.coreclient import CoreError, Decision
from apps.dashboard import services
from apps.dashboard.tokens import DashboardUser


class RecordingCore:
    """Answers check calls as core's API does, from a fixed set of grants, and counts them."""

    def __init__(self, grants):
        self.grants, self.calls = grants, 0

    def _decide(self, check):
        allowed = (check["permission"], check.get("group_id")) in self.grants
        return Decision(allowed, "granted_by_role:admin" if allowed else "permission_not_granted")

    def check_permission(self, **check):
        self.calls += 1
        return self._decide(check)

    def check_permissions(self, checks):
        self.calls += 1
        return [self._decide(check) for check in checks]


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


class ActingCore(RecordingCore):
    """Also core's groups list, which authorizes a read for X-Acting-User-ID itself (apps/rbac/permissions.py)."""

    def __init__(self, grants):
        super().__init__(grants)
        self.reads = []

    def group_list(self, *, acting_user_id=None, **filters):
        self.calls += 1
        if acting_user_id is not None:
            decision = self._decide({"permission": "VIEW_GROUPS"})
            if not decision.allowed:
                raise CoreError("permission_denied", "User does not have permission for this action (VIEW_GROUPS)",
                                403, {"permission": "VIEW_GROUPS", "reason": decision.reason})
        self.reads.append((acting_user_id, filters))
        return {"items": [], "total": 0, "page": 1, "limit": 20}


def test_a_list_is_authorized_by_core_in_the_same_call(monkeypatch):
    recording = ActingCore({("VIEW_GROUPS", None)})
    monkeypatch.setattr(services, "core", lambda: recording)
    user = DashboardUser({"user_id": "1"})
    assert services.group_list(user, sort="title")["total"] == 0
    assert recording.calls == 1 and recording.reads == [("1", {"sort": "title"})]
    services.require(user, "VIEW_GROUPS", group_id="7")  # what core allowed is remembered for the request
    services.group_list(user)
    assert recording.calls == 2 and recording.reads[-1] == (None, {})


def test_a_refused_list_is_webs_403_naming_the_permission(monkeypatch):
    recording = ActingCore(set())
    monkeypatch.setattr(services, "core", lambda: recording)
    with pytest.raises(PermissionDeniedError) as refused:
        services.group_list(DashboardUser({"user_id": "1"}))
    assert refused.value.message == "You need the VIEW_GROUPS permission for this (permission_not_granted)"
    assert refused.value.details == {"permission": "VIEW_GROUPS", "reason": "permission_not_granted"}
    assert recording.reads == []


def test_other_core_errors_pass_through(monkeypatch):
    class Failing(ActingCore):
        def group_list(self, **kwargs):
            raise CoreError("permission_denied", "something else", 403, {"permission": "MANAGE_ROLES"})

    monkeypatch.setattr(services, "core", lambda: Failing(set()))
    with pytest.raises(CoreError):
        services.group_list(DashboardUser({"user_id": "1"}))
