"""X-API-Key on every endpoint but /api/health and /metrics; staff may use a session instead."""

import pytest
from django.test import Client

from apps.audit.models import AuditEvent
from apps.users.models import User
from tests.common.assertions import assert_error, nothing_written
from tests.conftest import ApiClient
from tests.factories import make_group, make_user

PROTECTED = [
    ("get", "/api/users"),
    ("post", "/api/users"),
    ("get", "/api/users/1"),
    ("patch", "/api/users/1"),
    ("post", "/api/groups"),
    ("get", "/api/groups/1"),
    ("post", "/api/groups/1/members"),
    ("get", "/api/audit/events"),
    ("get", "/api/rbac/roles"),
    ("post", "/api/rbac/check-permission"),
]


def call(client: ApiClient, method: str, path: str):
    return client.get(path) if method == "get" else getattr(client, method)(path, {"username": "intruder"})


@pytest.mark.parametrize(("method", "path"), PROTECTED)
def test_missing_key_is_401(db, method, path):
    with nothing_written():
        response = call(ApiClient(api_key=None), method, path)
    assert_error(response, 401, "unauthenticated", "X-API-Key")


@pytest.mark.parametrize(("method", "path"), PROTECTED)
def test_unknown_key_is_401(db, method, path):
    with nothing_written():
        response = call(ApiClient(api_key="not-a-key"), method, path)
    assert_error(response, 401, "unauthenticated", "API key")


@pytest.mark.parametrize("key", ["TEST-KEY", "test-key ", "test", "test-key-and-more", "tests"])
def test_near_miss_keys_are_refused(db, key):
    assert_error(ApiClient(api_key=key).get("/api/users"), 401, "unauthenticated")


def test_empty_key_header_is_refused(db):
    response = Client(HTTP_X_API_KEY="").get("/api/users")
    assert_error(response, 401, "unauthenticated")


@pytest.mark.parametrize("key", ["test-key", "bot-key", "web-key"])
def test_every_configured_service_key_is_accepted(db, key):
    assert ApiClient(api_key=key).get("/api/users").status_code == 200


def test_several_keys_per_service_allow_rotation(db, settings):
    settings.SERVICE_API_KEYS = {"bot": ["old-bot-key", "new-bot-key"], "web": ["web-key"]}
    for key in ("old-bot-key", "new-bot-key"):
        response = ApiClient(api_key=key).post("/api/users", {"username": f"via-{key}"})
        assert response.status_code == 201, response.content
    assert set(AuditEvent.objects.values_list("service", flat=True)) == {"bot"}
    # A retired key stops working as soon as it leaves the configuration.
    settings.SERVICE_API_KEYS = {"bot": ["new-bot-key"]}
    assert_error(ApiClient(api_key="old-bot-key").get("/api/users"), 401, "unauthenticated")


@pytest.mark.parametrize(("key", "service"), [("bot-key", "bot"), ("web-key", "web"), ("test-key", "tests")])
def test_audit_events_name_the_calling_service(db, key, service):
    user, group = make_user(), make_group()
    written_before = AuditEvent.objects.count()
    client = ApiClient(api_key=key)  # calls every service's scope allows (apps/common/service_scopes.py)
    client.patch(f"/api/groups/{group.pk}", {"title": "Renamed"})
    client.post("/api/rbac/check-permission", {"user_id": str(user.pk), "permission": "BAN_USERS"})
    events = list(AuditEvent.objects.order_by("sequence"))[written_before:]
    assert [event.action for event in events] == ["group.update", "permission.check"]
    assert {event.service for event in events} == {service}


def test_service_does_not_leak_into_the_next_request(db):
    ApiClient(api_key="bot-key").get("/api/users")
    ApiClient(api_key="web-key").post("/api/users", {"username": "after-bot"})
    assert AuditEvent.objects.get().service == "web"


@pytest.mark.parametrize("path", ["/api/health", "/metrics"])
def test_health_and_metrics_need_no_key(db, path):
    assert Client().get(path).status_code == 200


def test_health_ignores_a_wrong_key(db):
    assert Client(HTTP_X_API_KEY="wrong").get("/api/health").status_code == 200


def test_schema_needs_the_key(db):
    assert Client().get("/api/schema").status_code == 401


def test_docs_without_the_key_show_a_login_link_and_no_docs(db):
    response = Client().get("/api/docs")
    assert response.status_code == 200  # a page for people (tests/corepages), not the docs
    assert b"/api-auth/login/?next=/api/docs" in response.content
    assert b"swagger" not in response.content.lower()


class TestSession:
    """Staff log in to the browsable API with a session instead of a key."""

    def login(self, **flags) -> Client:
        user = User.objects.create_user(username=f"person{User.objects.count()}", **flags)
        client = Client()
        client.force_login(user)
        return client

    def test_staff_session_may_read(self, db):
        response = self.login(is_staff=True).get("/api/users", HTTP_ACCEPT="application/json")
        assert response.status_code == 200, response.content
        assert response.json()["success"] is True

    def test_staff_session_writes_are_audited_as_the_browsable_api(self, db):
        client = self.login(is_staff=True)
        response = client.post("/api/users", {"username": "made-in-browser"}, content_type="application/json",
                               HTTP_ACCEPT="application/json")
        assert response.status_code == 201, response.content
        assert AuditEvent.objects.get().service == "browsable-api"

    def test_non_staff_session_is_refused(self, db):
        client = self.login()
        with nothing_written():
            response = client.post("/api/users", {"username": "sneaky"}, content_type="application/json")
        assert_error(response, 403, "permission_denied")
        assert_error(client.get("/api/users"), 403, "permission_denied")

    def test_inactive_staff_session_is_refused(self, db):
        user = make_user(is_active=True)
        User.objects.filter(pk=user.pk).update(is_staff=True, is_active=False)
        client = Client()
        client.force_login(User.objects.get(pk=user.pk))
        response = client.get("/api/users")
        assert response.status_code in (401, 403)
        assert response.json()["success"] is False
