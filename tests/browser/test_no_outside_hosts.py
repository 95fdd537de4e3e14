"""Nothing on any page loads from another host: headless Chromium opens every page of core and web, signed out and
signed in, with every request to a host other than 127.0.0.1 recorded and aborted. Any such request fails the test,
as does a console error (a CSP refusal is one). Each HTML page links the project's icon; /favicon.ico is served.

Real processes: core under gunicorn and web under uvicorn (tests/dashboard/pages_platform.py)."""

import os
import re
import subprocess
import sys
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from tests.e2e.processes import ROOT

from .conftest import ICON, PASSWORD, PageProblems, session_cookies

pytestmark = pytest.mark.e2e

LOOPBACK = "127.0.0.1"


class OutsideHosts(list):
    """Every request (and WebSocket) of a browser context to a host other than 127.0.0.1, which is aborted."""

    def guard(self, context):
        context.route("**/*", self._route)
        return self

    def _route(self, route):
        if urlsplit(route.request.url).hostname == LOOPBACK:
            route.continue_()
        else:
            self.append(route.request.url)
            route.abort()

    def watch_sockets(self, page):
        page.on("websocket", lambda socket: urlsplit(socket.url).hostname != LOOPBACK and self.append(socket.url))


@pytest.fixture
def open_context(browser):
    contexts = []

    def make(base_url: str):
        context = browser.new_context(base_url=base_url)
        context.set_default_timeout(15_000)
        outside = OutsideHosts().guard(context)
        page = context.new_page()
        outside.watch_sockets(page)
        page.problems = PageProblems().watch(page)
        contexts.append(context)
        return page, outside

    yield make
    for context in contexts:
        context.close()


def visit(page, path: str, *, status: int = 200, icon: bool = True) -> None:
    response = page.goto(path)
    assert response is not None and response.status == status, (path, response and response.status)
    page.wait_for_load_state("networkidle")
    if icon:
        assert page.locator('link[rel="icon"]').first.get_attribute("href") == ICON, path


def favicons_served(page) -> None:
    response = page.request.get("/favicon.ico")
    assert response.status == 200 and response.headers["content-type"] == "image/x-icon"
    assert page.request.get(ICON).status == 200


@pytest.fixture(scope="module")
def core_superuser(dashboard_platform) -> str:
    """An operator of core's admin, made as an operator makes one (manage.py createsuperuser)."""
    username = "browser_operator"
    env = {**os.environ, **dashboard_platform.core.env, "DJANGO_SUPERUSER_PASSWORD": PASSWORD}
    subprocess.run([sys.executable, "manage.py", "createsuperuser", "--noinput", "--username", username,
                    "--email", "operator@example.org"], cwd=ROOT, env=env, check=True, capture_output=True)
    return username


def test_the_net_records_and_aborts_a_request_to_another_host(open_context, dashboard_platform):
    """The guard itself: a page that asks another host is caught (else the tests below prove nothing)."""
    page, outside = open_context(f"http://127.0.0.1:{dashboard_platform.core_port}")
    page.goto("/")
    page.set_content('<img src="http://192.0.2.1/tracker.png"><link rel="stylesheet" href="https://cdn.example/x.css">')
    page.wait_for_load_state("networkidle")
    assert sorted(outside) == ["http://192.0.2.1/tracker.png", "https://cdn.example/x.css"]


def test_core_pages_load_nothing_from_another_host(open_context, dashboard_platform, core_superuser):
    page, outside = open_context(f"http://127.0.0.1:{dashboard_platform.core_port}")
    # Signed out.
    visit(page, "/")
    expect(page.get_by_role("link", name="API docs")).to_be_visible()
    visit(page, "/api/docs")
    expect(page.get_by_role("link", name="Log in to read the API docs")).to_have_attribute(
        "href", "/api-auth/login/?next=/api/docs")
    visit(page, "/api-auth/login/?next=/api/docs")
    visit(page, "/api/groups", status=401)  # the browsable API says so, with its own login link
    visit(page, "/admin/login/?next=/admin/")
    favicons_served(page)
    # Signed in through the admin's login form.
    page.fill("#id_username", core_superuser)
    page.fill("#id_password", PASSWORD)
    page.click('input[type="submit"]')
    expect(page).to_have_url(f"http://127.0.0.1:{dashboard_platform.core_port}/admin/")
    page.wait_for_load_state("networkidle")
    # Every model's list (each app's own index and the add forms are the same templates again), and one form.
    changelists = sorted({href for href in page.locator("#content-main a").evaluate_all(
        "links => links.map(link => link.getAttribute('href'))") if re.fullmatch(r"/admin/\w+/\w+/", href or "")})
    assert "/admin/groups/group/" in changelists and len(changelists) >= 5, changelists
    for path in changelists:
        visit(page, path)
    visit(page, "/admin/users/user/add/")
    visit(page, "/admin/users/user/?q=browser_operator")
    page.get_by_role("link", name=core_superuser).click()
    page.wait_for_load_state("networkidle")
    expect(page.locator("#id_username")).to_have_value(core_superuser)
    visit(page, "/")
    visit(page, "/api/docs")
    expect(page.locator("#swagger-ui")).to_contain_text("Centralized API", timeout=15_000)
    page.wait_for_load_state("networkidle")
    visit(page, "/api/schema")
    expect(page.locator("body")).to_contain_text("openapi: 3.")
    visit(page, "/api/groups")
    visit(page, "/api/users")
    visit(page, "/api/health", icon=False)
    visit(page, "/metrics", icon=False)
    assert outside == []
    assert page.problems == []


def test_web_pages_load_nothing_from_another_host(open_context, dashboard_platform, dashboard_admin):
    page, outside = open_context(dashboard_platform.url)
    # Signed out: the login page and the public API docs.
    visit(page, "/login")
    visit(page, "/api/docs")
    expect(page.locator("#swagger-ui")).to_contain_text("Dashboard API", timeout=15_000)
    page.wait_for_load_state("networkidle")
    favicons_served(page)
    # Signed in as a platform admin.
    user = dashboard_admin["user"]
    page.context.add_cookies(session_cookies(dashboard_platform, user["username"], dashboard_admin["password"]))
    group = dashboard_platform.group("Outside hosts group")
    dashboard_platform.messages(group, 3)
    (assignment, *_) = dashboard_platform.api.assignments(user_id=user["id"], active=True)["items"]
    for path in ("/", "/groups", f"/groups/{group['id']}", "/users", f"/users/{user['id']}", "/roles",
                 "/assignments", f"/assignments/{assignment['id']}/revoke", "/audit", "/audit?verify=1",
                 "/moderation", "/api/docs"):
        visit(page, path)
    expect(page.locator("#swagger-ui")).to_contain_text("Dashboard API", timeout=15_000)
    visit(page, "/api/health", icon=False)
    assert outside == []
    # The live feed's socket is this origin's; its reconnects are not this test's concern.
    assert page.problems.besides("/ws/live", "/static/dashboard/js/live.js") == []
