"""Headless Chromium (Debian's, driven by Playwright) against real core and web processes.

Fixtures for any browser test: `browser` (one Chromium for this package's tests), `browser_page` (a fresh context
and page on the dashboard, collecting console errors, failed requests and CSP violations), `dashboard_admin`
(credentials of a platform admin; override it for another user) and `logged_in_page` (browser_page signed in with them).
Skipped when Chromium is missing, unless REQUIRE_BROWSER_TESTS is set (CI sets it): then that is a failure.
"""

import os
import shutil
import time
from urllib.parse import urlsplit

import pytest

from tests.dashboard.pages_platform import PASSWORD, dashboard_platform  # noqa: F401 (fixture)

ICON = "/static/common/favicon.svg"  # linked by every page of core and web
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def chromium_path() -> str | None:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    return "/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None


# Package scope, not session: sync Playwright keeps an event loop running in the main thread while it lives, and
# every later test that runs a loop of its own (asyncio.run) would fail with "another loop is running".
@pytest.fixture(scope="package")
def browser():
    path = chromium_path()
    if path is None:
        if os.environ.get("REQUIRE_BROWSER_TESTS"):
            pytest.fail("REQUIRE_BROWSER_TESTS is set but no chromium binary was found")
        pytest.skip("chromium is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


class PageProblems(list):
    """Console errors (a CSP violation is one), uncaught exceptions, failed requests and 4xx/5xx answers to
    anything but the page itself, seen by a page. `besides(...)` leaves out those whose text names a URL part."""

    def watch(self, page):
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.append(f"exception: {error}"))
        page.on("requestfailed", self._request_failed)
        page.on("response", lambda response: response.status >= 400 and response.request.resource_type != "document"
                and self.append(f"HTTP {response.status}: {response.url}"))
        return self

    def _request_failed(self, request):
        # Chromium fetches a page's icon after the page loads, and drops the fetch when the test moves on.
        if request.failure == "net::ERR_ABORTED" and urlsplit(request.url).path == ICON:
            return
        self.append(f"request failed: {request.url}")

    def _console(self, message):
        # "Failed to load resource" names no URL; the response handler above reports the same failure with one.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.append(f"console: {message.text}")

    def besides(self, *url_parts: str) -> list[str]:
        return [problem for problem in self if not any(part in problem for part in url_parts)]


@pytest.fixture
def browser_page(browser, dashboard_platform):  # noqa: F811
    context = browser.new_context(base_url=dashboard_platform.url)
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.problems = PageProblems().watch(page)
    try:
        yield page
    finally:
        context.close()


@pytest.fixture(scope="session")
def dashboard_admin(dashboard_platform) -> dict:  # noqa: F811
    """A platform admin (the global admin role, rank 80): {"user": core's user, "password": ...}. Override it
    (same name, any scope up to session) for another user."""
    return {"user": dashboard_platform.user("admin", display_name="Browser Admin"), "password": PASSWORD}


def log_in(page, username: str, password: str = PASSWORD) -> None:
    page.goto("/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/login" not in url)


# Signed-in cookies per username, reused while the access token in them is young. Each login costs core a
# PBKDF2 hash (about a second on a busy machine); reusing the pair for 4 of its 5 minutes never needs a refresh,
# so no test rotates the refresh token another test still holds.
_SESSION_REUSE_SECONDS = 240
_sessions: dict[str, tuple[float, list[dict]]] = {}


def session_cookies(platform, username: str, password: str) -> list[dict]:
    cached = _sessions.get(username)
    if cached and time.monotonic() - cached[0] < _SESSION_REUSE_SECONDS:
        return cached[1]
    client = platform.browser()
    response = client.login(username, password)
    assert response.status_code == 302, f"login as {username} failed: {response.status_code}"
    cookies = [{"name": name, "value": client.http.cookies[name], "url": platform.url, "httpOnly": True,
                "sameSite": "Lax"} for name in ("dashboard_access", "dashboard_refresh")]
    _sessions[username] = (time.monotonic(), cookies)
    return cookies


@pytest.fixture
def logged_in_page(browser_page, dashboard_platform, dashboard_admin):  # noqa: F811
    """browser_page signed in as dashboard_admin (through the login page's form), on the overview."""
    browser_page.context.add_cookies(session_cookies(dashboard_platform, dashboard_admin["user"]["username"],
                                                     dashboard_admin["password"]))
    browser_page.goto("/")
    return browser_page
