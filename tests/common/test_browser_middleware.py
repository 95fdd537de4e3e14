"""Sessions, Django's authentication and messages are skipped on a service's call to core's API (/api/ with
X-API-Key; apps/common/browser_middleware.py) and run, as Django's, everywhere else: the admin's login with CSRF,
the browsable API with a staff session and CSRF, messages. The security headers are on every answer, and core
answers alike with the skip on and off."""

import re

import httpx
import pytest
from django.conf import settings
from django.contrib.messages import get_messages
from django.http import HttpResponse
from django.test import Client, RequestFactory, override_settings
from django.utils.module_loading import import_string

from apps.audit.models import AuditEvent
from apps.common.browser_middleware import AuthenticationMiddleware, MessageMiddleware, SessionMiddleware
from apps.users.models import User
from config.settings import base
from tests.common.test_framework_bypasses import Normalizer, answer, core_script
from tests.conftest import API_KEY
from tests.e2e.processes import TEST_KEY, core_process, free_port

PASSWORD = "correct-Horse-battery-9"
SECURITY_HEADERS = ("X-Frame-Options", "X-Content-Type-Options", "Referrer-Policy", "Cross-Origin-Opener-Policy")
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def what_the_view_saw(request_path: str, **headers) -> dict:
    """Runs a request through the three middleware and reports what the view found on the request."""
    seen = {}

    def view(request):
        seen.update(session=hasattr(request, "session"), user=hasattr(request, "user"),
                    messages=hasattr(request, "_messages"))
        return HttpResponse(b"ok")

    chain = SessionMiddleware(AuthenticationMiddleware(MessageMiddleware(view)))
    assert chain(RequestFactory().get(request_path, **headers)).status_code == 200
    return seen


def test_a_service_call_skips_them():
    assert what_the_view_saw("/api/groups", HTTP_X_API_KEY="any") == {
        "session": False, "user": False, "messages": False}


@pytest.mark.parametrize(("path", "headers"), [
    ("/api/groups", {}),  # the browsable API with a session
    ("/admin/", {"HTTP_X_API_KEY": "any"}),  # a key means nothing outside /api/
    ("/", {"HTTP_X_API_KEY": "any"}),
    ("/api-auth/login/", {"HTTP_X_API_KEY": "any"}),
])
def test_every_other_request_gets_them(path, headers):
    assert what_the_view_saw(path, **headers) == {"session": True, "user": True, "messages": True}


def test_the_setting_off_runs_them_on_service_calls_too():
    with override_settings(SERVICE_CALLS_SKIP_BROWSER_MIDDLEWARE=False):
        assert what_the_view_saw("/api/groups", HTTP_X_API_KEY="any") == {
            "session": True, "user": True, "messages": True}


def test_core_s_chain_is_base_s_with_these_in_place():
    """Each part of base's chain is in core's, itself or a subclass, in the same order (WhiteNoise added)."""
    core_chain = [import_string(path) for path in settings.MIDDLEWARE]
    matched = [next(index for index, cls in enumerate(core_chain) if issubclass(cls, import_string(path)))
               for path in base.MIDDLEWARE]
    assert matched == sorted(matched)
    assert [path for path in settings.MIDDLEWARE if path.startswith("apps.common.browser_middleware.")] == [
        "apps.common.browser_middleware.SessionMiddleware", "apps.common.browser_middleware.AuthenticationMiddleware",
        "apps.common.browser_middleware.MessageMiddleware"]


# -- through core's whole chain


@pytest.fixture
def staff(db):
    return User.objects.create_user(username="operator", password=PASSWORD, is_staff=True, is_superuser=True)


def csrf_token(page) -> str:
    return CSRF_INPUT.search(page.content.decode()).group(1)


def test_the_admin_login_needs_its_csrf_token_and_keeps_a_session(staff):
    client = Client(enforce_csrf_checks=True)
    page = client.get("/admin/login/")
    assert page.status_code == 200 and "csrftoken" in page.cookies
    forged = client.post("/admin/login/", {"username": "operator", "password": PASSWORD, "next": "/admin/"})
    assert forged.status_code == 403
    response = client.post("/admin/login/", {"username": "operator", "password": PASSWORD, "next": "/admin/",
                                             "csrfmiddlewaretoken": csrf_token(page)})
    assert (response.status_code, response["Location"]) == (302, "/admin/")
    assert client.get("/admin/").status_code == 200


def test_admin_messages_reach_the_next_page(staff):
    client = Client()
    client.force_login(staff)
    response = client.post("/admin/users/user/add/", {"username": "added", "password1": PASSWORD,
                                                      "password2": PASSWORD, "usable_password": "true",
                                                      "_save": "Save"}, follow=True)
    assert response.status_code == 200
    assert any("was added successfully" in str(message) for message in get_messages(response.wsgi_request))


def test_the_browsable_api_with_a_session_still_needs_csrf(staff):
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff)
    page = client.get("/api/users", HTTP_ACCEPT="text/html")
    assert page.status_code == 200
    body = {"username": "made-in-browser"}
    refused = client.post("/api/users", body, content_type="application/json", HTTP_ACCEPT="application/json")
    assert refused.status_code == 403 and "CSRF" in refused.json()["message"]
    made = client.post("/api/users", body, content_type="application/json", HTTP_ACCEPT="application/json",
                       HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value)
    assert made.status_code == 201, made.content
    assert AuditEvent.objects.get(action="user.create").service == "browsable-api"


def test_a_service_call_with_a_staff_session_is_the_service(staff):
    client = Client(HTTP_X_API_KEY=API_KEY)
    client.force_login(staff)
    response = client.post("/api/users", {"username": "made-by-service"}, content_type="application/json")
    assert response.status_code == 201, response.content
    assert AuditEvent.objects.get(action="user.create").service == "tests"
    assert "sessionid" not in response.cookies and "Cookie" not in response.get("Vary", "")


def test_a_service_call_may_still_browse_the_api_in_html(db):
    response = Client(HTTP_X_API_KEY=API_KEY).get("/api/groups", HTTP_ACCEPT="text/html")
    assert response.status_code == 200 and b"<h1>Group List Api</h1>" in response.content


@pytest.mark.parametrize("client", [lambda: Client(HTTP_X_API_KEY=API_KEY), lambda: Client()])
@pytest.mark.parametrize("path", ["/api/groups", "/api/health", "/admin/login/", "/api/nowhere"])
def test_security_headers_on_every_answer(db, client, path):
    response = client().get(path)
    for header in SECURITY_HEADERS:
        assert response.has_header(header), (path, header)
    assert response["X-Frame-Options"] == "DENY"


# -- real core processes: the same answers with the skip on and off


@pytest.fixture(scope="module")
def cores(tmp_path_factory):
    servers = {}
    try:
        for skip in (True, False):
            server = servers[skip] = core_process(tmp_path_factory.mktemp(f"core-skip-{skip}"), free_port())
            server.env["SERVICE_CALLS_SKIP_BROWSER_MIDDLEWARE"] = "true" if skip else "false"
            server.start()
        yield {skip: httpx.Client(base_url=f"http://127.0.0.1:{server.env['PORT']}", timeout=10,
                                  headers={"X-API-Key": TEST_KEY}) for skip, server in servers.items()}
    finally:
        for server in servers.values():
            server.stop()


@pytest.mark.e2e
def test_core_answers_alike_with_and_without_the_skip(cores):
    skipping, plain = (core_script(cores[skip]) for skip in (True, False))
    normalize_skipping, normalize_plain = Normalizer(), Normalizer()
    skipping = [answer(response, normalize_skipping) for response in skipping]
    plain = [answer(response, normalize_plain) for response in plain]
    for number, (one, other) in enumerate(zip(skipping, plain, strict=True)):
        assert one == other, number
        assert one[0] < 500, (number, one)
