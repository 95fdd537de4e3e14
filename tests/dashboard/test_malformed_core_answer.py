"""A core answer that lacks a field web relies on is the client's clear error, which web answers as core being
unavailable (503 core_unavailable in the envelope), never a KeyError and a 500 inside a view."""

import httpx
import pytest

from apps.coreclient import CoreClient, UnexpectedAnswer
from apps.dashboard import services
from apps.dashboard.errors import dashboard_exception_handler
from apps.dashboard.tokens import DashboardUser
from tests.factories import grant, make_group, make_member, make_user
from tests.in_process_core import core_transport, keeping_test_connection


@pytest.fixture
def core_without(db, monkeypatch):
    """Web's client of the real core app in process, whose answers lose the named field on the way back."""
    app = core_transport()

    def install(field: str):
        def handle(request):
            response = app.handle_request(request)
            response.read()
            body = response.json()
            for decision in body["data"].get("results", [body["data"]]):
                decision.pop(field, None)
            return httpx.Response(response.status_code, json=body)

        client = CoreClient("http://testserver", "web-key", transport=httpx.MockTransport(handle), retries=0)
        monkeypatch.setattr(services, "core", lambda: client)
        return client

    with keeping_test_connection():
        yield install


@pytest.mark.parametrize("group_scoped", [False, True])
def test_a_decision_without_allowed_is_a_503_not_a_500(core_without, group_scoped):
    admin, group = make_user(), make_group()
    make_member(admin, group)
    grant(admin, "admin", group)
    core_without("allowed")
    user = DashboardUser({"user_id": str(admin.pk)})
    with pytest.raises(UnexpectedAnswer, match="the required field 'allowed' is missing") as raised:
        services.require(user, "VIEW_GROUPS", group_id=str(group.pk) if group_scoped else None)
    response = dashboard_exception_handler(raised.value, {})
    assert response.status_code == 503
    assert (response.data["success"], response.data["error"]) == (False, "core_unavailable")
