"""Headless Chromium (Debian's, driven by Playwright) against real core and web processes.

Fixtures for any browser test: `browser` (one Chromium per session), `browser_page` (a fresh context and page on
the dashboard, collecting console errors, failed requests and CSP violations), `dashboard_admin` (credentials of a
platform admin; override it for another user) and `logged_in_page` (browser_page signed in with them).
Skipped when Chromium is missing, unless REQUIRE_BROWSER_TESTS is set (CI sets it): then that is a failure.
"""

import os
import shutil

import pytest

from tests.dashboard.pages_platform import PASSWORD, dashboard_platform  # noqa: F401 (fixture)

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def chromium_path() -> str | None:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    return "/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None


@pytest.fixture(scope="session")
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
        page.on("requestfailed", lambda request: self.append(f"request failed: {request.url}"))
        page.on("response", lambda response: response.status >= 400 and response.request.resource_type != "document"
                and self.append(f"HTTP {response.status}: {response.url}"))
        return self

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


@pytest.fixture
def dashboard_admin(dashboard_platform) -> dict:  # noqa: F811
    """A platform admin (the global admin role, rank 80): {"user": core's user, "password": ...}."""
    return {"user": dashboard_platform.user("admin", display_name="Browser Admin"), "password": PASSWORD}


def log_in(page, username: str, password: str = PASSWORD) -> None:
    page.goto("/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/login" not in url)


@pytest.fixture
def logged_in_page(browser_page, dashboard_admin):
    log_in(browser_page, dashboard_admin["user"]["username"], dashboard_admin["password"])
    return browser_page
