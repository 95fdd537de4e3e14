"""Web's GET /api/users reads is_active as its schema says, a boolean: an empty value is a 400, not "any"."""

import json

import pytest
from rest_framework.permissions import IsAuthenticated
from rest_framework.test import APIRequestFactory, force_authenticate

from apps.dashboard import services
from apps.dashboard.apis import UserListApi
from apps.dashboard.tokens import DashboardUser


@pytest.fixture
def asked(monkeypatch):
    """The filters web relays to core's users list (core itself is not what is tested here)."""
    calls = []

    def user_list(user, **filters):
        calls.append(filters)
        return {"items": [], "total": 0, "page": 1, "limit": 50}

    monkeypatch.setattr(services, "user_list", user_list)
    return calls


def get_users(query: str):
    request = APIRequestFactory().get(f"/api/users{query}")
    force_authenticate(request, user=DashboardUser({"user_id": "1"}))
    response = UserListApi.as_view(permission_classes=[IsAuthenticated])(request)  # web's default
    response.render()
    return response.status_code, json.loads(response.content)


@pytest.mark.parametrize("query", ["?is_active=", "?is_active=maybe", "?is_active=%20"])
def test_a_non_boolean_is_active_is_refused(asked, query):
    status, body = get_users(query)
    assert status == 400, body
    assert body["error"] == "validation_error" and "is_active" in body["details"], body
    assert asked == []


@pytest.mark.parametrize(("query", "value"), [("", None), ("?is_active=true", True), ("?is_active=0", False)])
def test_a_boolean_or_none_is_relayed(asked, query, value):
    status, body = get_users(query)
    assert status == 200, body
    assert asked[-1]["is_active"] is value
