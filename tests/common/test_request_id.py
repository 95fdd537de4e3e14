"""X-Request-ID: echoed when valid, generated otherwise, and stored on the audit events of the request."""

import re

import pytest
from django.test import Client

from apps.audit.models import AuditEvent
from tests.conftest import ApiClient
from tests.factories import make_user

GENERATED = re.compile(r"^[0-9a-f]{32}$")


@pytest.mark.parametrize("request_id", ["abc-123", "7f1c2e9a.req:42_x", "x" * 128])
def test_valid_request_id_is_echoed_and_stored_on_audit_events(api, request_id):
    response = api.post("/api/users", {"username": "traced"}, HTTP_X_REQUEST_ID=request_id)
    assert response.status_code == 201
    assert response["X-Request-ID"] == request_id
    assert AuditEvent.objects.get().request_id == request_id


@pytest.mark.parametrize("request_id", ["", "has space", "x" * 129, "semi;colon", "new\u00e9line", "<script>"])
def test_invalid_request_id_is_replaced_by_a_generated_one(api, request_id):
    response = api.post("/api/users", {"username": "traced"}, HTTP_X_REQUEST_ID=request_id)
    generated = response["X-Request-ID"]
    assert generated != request_id
    assert GENERATED.match(generated)
    assert AuditEvent.objects.get().request_id == generated


def test_missing_request_id_is_generated_fresh_for_each_request(api):
    first = api.get("/api/users")["X-Request-ID"]
    second = api.get("/api/users")["X-Request-ID"]
    assert GENERATED.match(first) and GENERATED.match(second)
    assert first != second


def test_every_event_of_one_request_carries_its_id(api):
    user = make_user()
    api.post("/api/rbac/check-permissions",
             {"checks": [{"user_id": str(user.pk), "permission": "BAN_USERS"}] * 3},
             HTTP_X_REQUEST_ID="batch-1")
    assert list(AuditEvent.objects.filter(action="permission.check").values_list("request_id", flat=True)) == [
        "batch-1"] * 3


@pytest.mark.parametrize(
    ("client", "path"),
    [
        (lambda: ApiClient(api_key=None, validate=False), "/api/users"),  # 401
        (lambda: ApiClient(validate=False), "/api/no-such-endpoint"),  # 404
        (lambda: Client(), "/api/health"),  # no auth at all
        (lambda: Client(), "/metrics"),
    ],
)
def test_request_id_is_echoed_on_every_kind_of_response(db, client, path):
    assert client().get(path, HTTP_X_REQUEST_ID="trace-me")["X-Request-ID"] == "trace-me"


def test_request_id_is_echoed_on_a_refused_oversized_body(api):
    response = api.post("/api/users", raw=b" " * (1024 * 1024 + 1), HTTP_X_REQUEST_ID="too-big")
    assert response.status_code == 413
    assert response["X-Request-ID"] == "too-big"
