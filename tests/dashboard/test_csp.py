"""The dashboard's Content-Security-Policy: connections (fetch, the live feed's WebSocket) to its own origin only."""

import asyncio
import threading

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


EXPECTED = {"default-src": "'self'", "script-src": "'self'", "style-src": "'self'", "img-src": "'self' data:",
            "connect-src": "'self' ws://testserver", "frame-ancestors": "'none'", "base-uri": "'self'",
            "form-action": "'self'"}


def test_the_whole_policy_and_its_companion_headers():
    response = ContentSecurityPolicyMiddleware(lambda _: HttpResponse("<p>page</p>"))(RequestFactory().get("/"))
    header = response["Content-Security-Policy"]
    assert header == "; ".join(f"{name} {value}" for name, value in EXPECTED.items())  # in this order, every time
    assert (response["Referrer-Policy"], response["X-Content-Type-Options"]) == ("same-origin", "nosniff")


def test_under_asgi_the_same_policy_without_a_thread_hop():
    """In async mode the hooks run in the event loop's thread (django-csp's MiddlewareMixin would hop to a
    worker thread for each)."""
    seen_threads = []

    async def page(_request):
        seen_threads.append(threading.get_ident())
        return HttpResponse("<p>page</p>")

    middleware = ContentSecurityPolicyMiddleware(page)
    original = middleware.process_response

    def process_response(request, response):
        seen_threads.append(threading.get_ident())
        return original(request, response)

    middleware.process_response = process_response
    response = asyncio.run(middleware(RequestFactory().get("/")))
    header = response["Content-Security-Policy"]
    assert dict(directive.strip().split(" ", 1) for directive in header.split(";")) == EXPECTED
    assert len(set(seen_threads)) == 1


@override_settings(DEBUG=True)
def test_error_pages_carry_the_policy_under_debug_too():
    """django-csp leaves 404 and 500 answers bare under DEBUG; the dashboard's own error pages keep the policy."""
    for status in (404, 500):
        middleware = ContentSecurityPolicyMiddleware(lambda _, status=status: HttpResponse("<p>x</p>", status=status))
        assert middleware(RequestFactory().get("/"))["Content-Security-Policy"].startswith("default-src 'self'; ")
