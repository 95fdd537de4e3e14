"""The dashboard in headless Chromium: sign in with the keyboard, the overview with its chart drawn, a group,
a grant that core's rank rule refuses, a grant and its revocation, signing out. No page breaks its CSP."""

import re

import httpx
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from tests.e2e.processes import TEST_KEY

from .conftest import log_in

pytestmark = pytest.mark.e2e

# The live feed's script and socket belong to another part of the dashboard; this file checks the pages.
LIVE = ("/static/dashboard/js/live.js", "/ws/live")


def test_keyboard_sign_in_and_the_overview_with_its_chart(browser_page, dashboard_platform, dashboard_admin):
    page = browser_page
    group = dashboard_platform.group("Chart group")
    dashboard_platform.messages(group, 12)
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login\?next=%2F$"))
    # The username field has focus on arrival; Tab walks to the password and the button, Enter submits.
    expect(page.get_by_label("Username")).to_be_focused()
    page.keyboard.type(dashboard_admin["user"]["username"])
    page.keyboard.press("Tab")
    expect(page.get_by_label("Password")).to_be_focused()
    page.keyboard.type(dashboard_admin["password"])
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Log in")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.get_by_role("heading", name="Overview", level=1)).to_be_visible()
    expect(page.locator('[data-stat="groups"]')).to_have_text(str(dashboard_platform.api.system_stats()["groups"]))
    expect(page.locator('[data-stat="users"]')).to_be_visible()
    expect(page.locator('[data-stat="moderation_actions_24h"]')).to_be_visible()
    expect(page.locator('[data-stat="denials_24h"]')).to_be_visible()
    # Chart.js (from this origin) drew the chart: a canvas with pixels, and the chart knows its data.
    canvas = page.locator("canvas#chart-overview")
    expect(canvas).to_have_attribute("data-drawn", "true")
    total = page.evaluate("""() => {
        const chart = window.Chart.getChart(document.getElementById('chart-overview'));
        return chart.data.datasets[0].data.reduce((a, b) => a + b, 0);
    }""")
    assert total >= 12
    painted = page.evaluate("""() => {
        const canvas = document.getElementById('chart-overview');
        const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
        let painted = 0;
        for (let i = 3; i < pixels.length; i += 4) { if (pixels[i] > 0) painted++; }
        return painted;
    }""")
    assert painted > 1000
    # One series and one y-axis per chart (moderation actions get their own), whole-number ticks, full width.
    axes = page.evaluate("""() => ['chart-overview', 'chart-overview-moderation'].map((id) => {
        const chart = window.Chart.getChart(document.getElementById(id));
        const y = Object.values(chart.scales).filter((scale) => scale.axis === 'y');
        return {datasets: chart.data.datasets.length, yAxes: y.length,
                ticks: y[0].ticks.map((tick) => tick.value), width: chart.width,
                main: document.getElementById('content').clientWidth};
    })""")
    for axis in axes:
        assert (axis["datasets"], axis["yAxes"]) == (1, 1), axis
        assert all(float(value).is_integer() for value in axis["ticks"]), axis
        assert axis["width"] >= axis["main"] * 0.85, axis
    # The skip link is the first thing Tab reaches, and it moves focus to the content.
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to main content")).to_be_focused()
    assert page.problems.besides(*LIVE) == []


def test_open_a_group_then_grant_refused_by_rank_grant_and_revoke(logged_in_page, dashboard_platform):
    page = logged_in_page
    group = dashboard_platform.group("Browser group")
    target = dashboard_platform.user(group=group, display_name="Gina Grantee")
    page.get_by_role("navigation", name="Sections").get_by_role("link", name="Groups").click()
    page.get_by_label("Search groups").fill("Browser group")
    page.get_by_label("Search groups").press("Enter")
    page.get_by_role("link", name="Browser group").first.click()
    expect(page.get_by_role("heading", name="Browser group", level=1)).to_be_visible()
    expect(page.get_by_role("navigation", name="Breadcrumbs")).to_contain_text("Groups")
    expect(page.get_by_role("rowheader", name="Gina Grantee")).to_be_visible()

    # Above one's own rank: core refuses, and its message is on the form.
    page.goto(f"/assignments?user_id={target['id']}")
    grant = page.locator("#grant-form")
    expect(grant.get_by_label(re.compile(r"^User:?$"))).to_have_value(target["id"])
    grant.get_by_label("Role").select_option("owner")
    grant.get_by_label("Scope").select_option(label="Browser group")
    grant.get_by_label("Reason").fill("too much")
    grant.get_by_role("button", name="Grant").click()
    expect(page.get_by_role("alert")).to_contain_text("rank")
    assert dashboard_platform.api.assignments(user_id=target["id"])["total"] == 0

    # Below it: granted.
    grant = page.locator("#grant-form")
    grant.get_by_label("Role").select_option("helper")
    grant.get_by_label("Scope").select_option(label="Browser group")
    grant.get_by_label("Reason").fill("helps out")
    grant.get_by_role("button", name="Grant").click()
    expect(page.get_by_role("status")).to_contain_text("The role was granted")
    (assignment,) = dashboard_platform.api.assignments(user_id=target["id"])["items"]
    assert (assignment["role"], assignment["group_id"], assignment["status"]) == ("helper", group["id"], "active")

    # Revoke: a confirmation page first, then the POST.
    page.goto(f"/assignments?user_id={target['id']}")
    page.get_by_role("link", name=re.compile(r"^Revoke helper")).click()
    expect(page.get_by_role("heading", name="Are you sure?")).to_be_visible()
    assert dashboard_platform.api.assignments(user_id=target["id"], active=True)["total"] == 1
    page.get_by_label("Reason").fill("no longer needed")
    page.get_by_role("button", name="Yes, revoke it").click()
    expect(page.get_by_role("status")).to_contain_text("was revoked")
    (revoked,) = dashboard_platform.api.assignments(user_id=target["id"])["items"]
    assert (revoked["status"], revoked["revoke_reason"]) == ("revoked", "no longer needed")
    assert page.problems.besides(*LIVE) == []


def test_every_page_keeps_its_content_security_policy(logged_in_page, dashboard_platform):
    page = logged_in_page
    group = dashboard_platform.group("CSP group")
    for path in ("/", "/groups", f"/groups/{group['id']}", "/users", "/roles", "/assignments", "/audit?verify=1",
                 "/moderation", "/api/docs"):
        response = page.goto(path)
        assert response.status == 200, path
        assert "content-security-policy" in response.headers, path
    expect(page.locator("#swagger-ui")).to_contain_text("Dashboard API", timeout=10_000)
    violations = [problem for problem in page.problems if "Content Security Policy" in problem]
    assert violations == []
    assert page.problems.besides(*LIVE) == []


def test_log_out(browser_page, dashboard_platform):
    page = browser_page
    user = dashboard_platform.user("admin")  # its own session: logging out revokes it
    log_in(page, user["username"])
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/login\?logged_out=1$"))
    expect(page.get_by_role("status")).to_have_text("You are logged out.")
    page.goto("/groups")
    expect(page).to_have_url(re.compile(r"/login\?next=%2Fgroups$"))
    assert not [cookie for cookie in page.context.cookies() if cookie["name"].startswith("dashboard_")]


def test_a_wrong_password_is_announced(browser_page, dashboard_admin):
    page = browser_page
    page.goto("/login")
    page.get_by_label("Username").fill(dashboard_admin["user"]["username"])
    page.get_by_label("Password").fill("wrong-password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_contain_text("Invalid username or password")
    expect(page.get_by_label("Username")).to_have_value(dashboard_admin["user"]["username"])
    assert not [cookie for cookie in page.context.cookies() if cookie["name"].startswith("dashboard_")]


AXE_RULES = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa",
                                                    "best-practice"]}}


def test_pages_pass_axe_wcag_aa_checks(browser_page, dashboard_platform, dashboard_admin):
    """axe-core's WCAG 2.x A/AA rules (contrast, labels, landmarks, headings, ARIA, ...) on every page, with data,
    an error on a form and an error page."""
    page = browser_page
    axe = Axe()
    group = dashboard_platform.group("Axe group")
    member = dashboard_platform.user(group=group, display_name="Axel Member")
    dashboard_platform.messages(group, 4)
    dashboard_platform.api.moderation_record(type="warn", group_id=group["id"], reason="noise",
                                             actor_user_id=dashboard_admin["user"]["id"], target_user_id=member["id"])

    def audit(label):
        results = axe.run(page, options=AXE_RULES).response
        assert len(results["passes"]) > 10, f"{label}: axe did not run"
        return [(label, violation["id"], [node["target"] for node in violation["nodes"]])
                for violation in results["violations"]]

    page.goto("/login")
    violations = audit("/login")
    log_in(page, dashboard_admin["user"]["username"], dashboard_admin["password"])
    for path in ("/", "/groups?o=-title", f"/groups/{group['id']}?status=member", "/users", f"/users/{member['id']}",
                 "/roles", "/assignments", "/audit?verify=1", "/moderation", "/groups?o=bogus"):
        page.goto(path)
        violations += audit(path)
    page.goto("/assignments")
    page.locator("#grant-form").get_by_role("button", name="Grant").click()  # empty: errors on the fields
    expect(page.locator("ul.errorlist").first).to_be_visible()
    violations += audit("/assignments with errors")
    # The group page's Protection section: core's messages on its fields, raid mode on, an approved member, and
    # a welcome Telegram would refuse in the preview.
    dashboard_platform.api.assign_role(user_id=member["id"], role="approved", group_id=group["id"])
    page.goto(f"/groups/{group['id']}")
    protection = page.locator("#protection-form")
    protection.get_by_label("Messages that make a flood").fill("1000")
    protection.get_by_label("Welcome message").fill("<div>{first}</div>")
    protection.get_by_role("button", name="Save protection settings").click()
    expect(page.locator("#protection_flood_limit_error")).to_be_visible()
    expect(page.locator("#welcome-preview")).to_contain_text("Telegram would refuse this text.")
    violations += audit("/groups/<id> protection with errors")
    page.goto(f"/groups/{group['id']}")
    page.get_by_role("button", name=re.compile(r"^Turn raid mode on")).click()
    expect(page.get_by_role("status")).to_contain_text("Raid mode is on.")
    violations += audit("/groups/<id> in raid mode")
    assert violations == []


def test_tables_scroll_sideways_on_a_phone(browser_page, dashboard_platform, dashboard_admin):
    page = browser_page
    page.set_viewport_size({"width": 375, "height": 740})
    page.goto("/login")
    page.get_by_label("Username").fill(dashboard_admin["user"]["username"])
    page.get_by_label("Password").fill(dashboard_admin["password"])
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Overview", level=1)).to_be_visible()
    for path in ("/audit", "/moderation", "/assignments"):
        page.goto(path)
        if path == "/audit":  # times in the viewer's zone (the context's: UTC here), by localtime.js
            first = page.locator("table.results time").first
            expect(first).not_to_have_text(re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$"))
            expect(first).to_have_attribute("datetime", re.compile(r"^\d{4}-\d\d-\d\dT"))
        widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
        wide = page.evaluate("""() => Array.from(document.querySelectorAll('body *'))
            .filter((element) => element.getBoundingClientRect().right > window.innerWidth + 1)
            .filter((element) => !(element.parentElement && element.parentElement.closest('.table-scroll'))
                                 || getComputedStyle(element).position === 'absolute')
            .slice(0, 5).map((element) => element.tagName + '.' + element.className + '#' + element.id)""")
        assert widths[0] <= widths[1], (path, widths, wide)


def test_the_protection_section_saves_previews_as_one_types_and_reports_a_conflict(logged_in_page,
                                                                                  dashboard_platform):
    """protection.js (from this origin, under the CSP) renders the welcome beside it as it is typed; a save made
    stale by another admin's is refused with the conflict message, and the other save stands."""
    page = logged_in_page
    group = dashboard_platform.group("Protected group")
    page.goto(f"/groups/{group['id']}")
    expect(page.get_by_role("heading", name="Protection")).to_be_visible()
    preview = page.get_by_role("region", name="Welcome preview")
    expect(preview).to_contain_text("Hey Sam, how are you?")
    protection = page.locator("#protection-form")
    protection.get_by_label("Welcome message").fill("<b>Hello {first}</b> in {chatname}\n{rules}")
    expect(preview.locator(".tg-bubble strong")).to_have_text("Hello Sam")
    expect(preview.locator(".tg-bubble")).to_contain_text("in Protected group")
    expect(preview.locator(".tg-button")).to_have_text("Rules")
    protection.get_by_label("Greet new members").check()
    protection.get_by_role("button", name="Save protection settings").click()
    expect(page.get_by_role("status")).to_contain_text("The protection settings were saved.")
    expect(page).to_have_url(re.compile(r"#protection$"))

    # Another admin saves while this page is open: this page's save is refused, the other one stands.
    core = httpx.patch(f"http://127.0.0.1:{dashboard_platform.core_port}/api/groups/{group['id']}/protection",
                       json={"flood_limit": 8}, headers={"X-API-Key": TEST_KEY}, timeout=10)
    assert core.status_code == 200
    page.locator("#protection-form").get_by_label(re.compile(r"^Rules:?$")).fill("No spam")
    page.locator("#protection-form").get_by_role("button", name="Save protection settings").click()
    expect(page.get_by_role("alert")).to_contain_text("Someone else saved these settings while you were editing")
    expect(page.get_by_role("alert")).to_contain_text("Messages that make a flood")
    stored = httpx.get(f"http://127.0.0.1:{dashboard_platform.core_port}/api/groups/{group['id']}/protection",
                       headers={"X-API-Key": TEST_KEY}, timeout=10).json()["data"]
    assert (stored["flood_limit"], stored["rules_text"], stored["welcome_enabled"]) == (8, "", True)
    expect(page.locator("#protection-form").get_by_label(re.compile(r"^Rules:?$"))).to_have_value("No spam")
    assert page.problems.besides(*LIVE) == []
