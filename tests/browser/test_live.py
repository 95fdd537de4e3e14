"""Live updates in headless Chromium: an open overview shows a ban taken through the bot within a second,
without a reload, and says in words that it is live; the stats cards follow core.

Core, the Telegram sandbox and the bot are the end-to-end platform's processes; web runs in front of that core.
"""

import time

import httpx
import pytest
from playwright.sync_api import expect

from apps.dashboard.keys import generate_private_pem
from tests.e2e.conftest import Platform
from tests.e2e.processes import free_port, web_process

from .conftest import PASSWORD, log_in

pytestmark = pytest.mark.e2e


class LivePlatform:
    def __init__(self, tmp):
        self.platform = Platform(tmp)
        self.port, self.short_port = free_port(), free_port()
        env = {"JWT_PRIVATE_KEY": generate_private_pem("EdDSA")}
        self.web = web_process(tmp, self.port, self.platform.core_port, name="live-browser-web", env=env)
        # Access tokens of 3 s: the socket outlives several, renewing the sign-in each time.
        self.short_web = web_process(tmp, self.short_port, self.platform.core_port, name="live-browser-web-short",
                                     env={**env, "JWT_ACCESS_TOKEN_SECONDS": "3"})
        self.url = f"http://127.0.0.1:{self.port}"
        self.short_url = f"http://127.0.0.1:{self.short_port}"

    def start(self):
        self.platform.start()
        self.web.start()
        self.short_web.start()
        return self

    def stop(self):
        self.short_web.stop()
        self.web.stop()
        self.platform.stop()


@pytest.fixture(scope="module")
def live_platform(tmp_path_factory):
    live = LivePlatform(tmp_path_factory.mktemp("browser-live"))
    try:
        yield live.start()
    finally:
        live.stop()


@pytest.fixture
def overview(browser, live_platform):
    yield from open_overview(browser, live_platform, live_platform.url)


def open_overview(browser, live_platform, url):
    """An admin signed in on the overview, with live updates connected."""
    api = live_platform.platform.api
    user = api.user_create(username=f"live_admin_{int(time.time() * 1000) % 10**8}", password=PASSWORD)
    api.assign_role(user_id=user["id"], role="admin")
    context = browser.new_context(base_url=url)
    context.set_default_timeout(10_000)
    page = context.new_page()
    from .conftest import PageProblems

    page.problems = PageProblems().watch(page)
    log_in(page, user["username"])
    page.goto("/")
    expect(page.locator("#live-status")).to_have_text("Live")
    try:
        yield page
    finally:
        context.close()


def test_a_ban_through_the_bot_appears_on_the_open_overview_without_a_reload(overview, live_platform):
    """Pushed over the WebSocket (the page has no other way to learn it without a reload). How fast is a speed
    figure, measured by bench.web's live-feed fan-out, not a wall-clock bound on a shared CI machine."""
    page, platform = overview, live_platform.platform
    chat = platform.new_group()
    group_id = platform.api.group_by_chat(chat["id"]).id
    page.evaluate("window.__notReloaded = true")
    spam = platform.telegram.send_message(chat["id"], "spammer", "buy followers")
    platform.telegram.send_message(chat["id"], "alice", "/ban flooding", reply_to=spam["message_id"])
    item = page.locator("#live-feed li", has_text="moderation.request").first
    item.wait_for(timeout=15000)
    assert page.evaluate("window.__notReloaded") is True
    request = next(event for event in platform.api.audit_events(action="moderation.request", group_id=group_id,
                                                                limit=5)["items"])
    expect(item).to_have_attribute("data-sequence", str(request["sequence"]))
    expect(item).to_contain_text("flooding")
    expect(page.locator("#live-feed li", has_text="moderation.complete").first).to_be_visible()
    # Newest first, each event once.
    sequences = [int(value) for value in page.locator("#live-feed li[data-sequence]").evaluate_all(
        "items => items.map(item => item.dataset.sequence)")]
    assert sequences == sorted(sequences, reverse=True) and len(sequences) == len(set(sequences))
    assert len(sequences) <= 50
    assert page.problems == [], page.problems


def test_stats_cards_follow_core_without_a_reload(overview, live_platform):
    page, api = overview, live_platform.platform.api
    before = api.system_stats()["groups"]
    api.group_register(telegram_chat_id=-1005000000000 - int(time.time() * 1000) % 10**9, title="Live stats",
                       type="supergroup")
    # Stats are published when they change, at most once a second and every 5 s.
    expect(page.locator('[data-stat="groups"]')).to_have_text(str(before + 1), timeout=8000)


def created_item(page, group):
    """The feed's item for this group's creation: it names the group by its title, linked to the group's page."""
    return page.locator("#live-feed li", has_text="group.create").filter(
        has=page.locator(f'a[href="/groups/{group.id}"]', has_text=group.title))


def test_the_page_reconnects_after_web_restarts_and_catches_up(overview, live_platform):
    page, platform = overview, live_platform.platform
    live_platform.web.stop()
    expect(page.locator("#live-status")).to_contain_text("retrying")
    group = platform.api.group_register(telegram_chat_id=-1006000000000 - int(time.time() * 1000) % 10**9,
                                        title="While away", type="supergroup")
    live_platform.web.start()
    assert httpx.get(f"{live_platform.url}/api/health", timeout=5).status_code == 200
    expect(page.locator("#live-status")).to_have_text("Live", timeout=40_000)
    expect(created_item(page, group)).to_have_count(
        1, timeout=5000)


def test_the_socket_outlives_short_access_tokens_by_renewing_the_sign_in(browser, live_platform):
    pages = open_overview(browser, live_platform, live_platform.short_url)
    page = next(pages)
    try:
        first = [c["value"] for c in page.context.cookies() if c["name"] == "dashboard_access"]
        page.evaluate("window.__notReloaded = true")
        time.sleep(7)  # two token lifetimes: the socket was closed with 4401 and the page renewed its sign-in
        expect(page.locator("#live-status")).to_have_text("Live", timeout=10_000)
        # The cookie lives as long as its token: between one expiring and the page renewing it there is none.
        deadline = time.monotonic() + 5
        while True:
            renewed = [c["value"] for c in page.context.cookies() if c["name"] == "dashboard_access"]
            if (renewed and renewed != first) or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert renewed and renewed != first
        group = live_platform.platform.api.group_register(
            telegram_chat_id=-1007000000000 - int(time.time() * 1000) % 10**9, title="After renewal",
            type="supergroup")
        expect(created_item(page, group)).to_have_count(
            1, timeout=5000)
        assert page.evaluate("window.__notReloaded") is True
    finally:
        pages.close()
