"""The dashboard's Content-Security-Policy: connections (fetch, the live feed's WebSocket) to its own origin only."""

import pytest
from django.http import HttpResponse, JsonResponse
from django.test import RequestFactory, override_settings

from apps.dashboard.pages.security import ContentSecurityPolicyMiddleware


def _policy(**request) -> dict[str, str]:
    middleware = ContentSecurityPolicyMiddleware(lambda _: HttpResponse("<p>page</p>"))
    header = middleware(RequestFactory().get("/", **request))["Content-Security-Policy"]
    return dict(directive.strip().split(" ", 1) for directive in header.split(";"))


@override_settings(ALLOWED_HOSTS=["dash.example.org", "127.0.0.1"])
@pytest.mark.parametrize(("request_", "connect"), [
    ({"HTTP_HOST": "dash.example.org", "secure": True}, "'self' wss://dash.example.org"),
    ({"HTTP_HOST": "127.0.0.1:8002"}, "'self' ws://127.0.0.1:8002"),
])
def test_websockets_may_go_to_the_pages_own_host_only(request_, connect):
    policy = _policy(**request_)
    assert policy["connect-src"] == connect
    assert "ws:" not in policy["connect-src"].split() and "wss:" not in policy["connect-src"].split()
    assert policy["script-src"] == "'self'" and policy["frame-ancestors"] == "'none'"


@override_settings(ALLOWED_HOSTS=["dash.example.org"])
def test_a_host_outside_allowed_hosts_never_reaches_the_policy():
    assert _policy(HTTP_HOST="evil.example.com")["connect-src"] == "'self'"


def test_json_answers_carry_no_policy():
    middleware = ContentSecurityPolicyMiddleware(lambda _: JsonResponse({}))
    assert "Content-Security-Policy" not in middleware(RequestFactory().get("/"))
