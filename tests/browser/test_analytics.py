"""The Statistics pages in headless Chromium against real core and web processes, with events generated through core's
ingest: reached from the group page, the navigation and the top members; every chart is drawn (inline SVG by the
project's own script) from its table, and what it draws, the tables and a downloaded CSV hold core's figures; the
period picker changes the period; every page passes axe-core's WCAG 2.x A/AA checks and keeps its Content Security
Policy."""

import csv
import io
import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from tests.dashboard.test_analytics_pages import COMMA_NAME, FORMULA_NAME, generate_activity

from .conftest import session_cookies
from .test_dashboard import AXE_RULES, LIVE
from .test_no_outside_hosts import open_context, visit  # noqa: F401 (fixture)

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def stats_group(dashboard_platform):
    group = dashboard_platform.group("Browser stats group")
    activity = generate_activity(dashboard_platform, group)
    return {**group, **activity}


def drawn_titles(page, table: str) -> list[str]:
    """The tooltips of what the chart of `table` drew (one per point, bar or cell)."""
    return page.evaluate("""(table) => Array.from(
        document.querySelectorAll(`figure[data-table="${table}"] svg title`)).map((title) => title.textContent)""",
                         table)


def test_charts_are_drawn_from_tables_that_hold_core_s_figures(logged_in_page, dashboard_platform, stats_group,
                                                               tmp_path):
    page = logged_in_page
    group_id = stats_group["id"]
    figures = dashboard_platform.api.group_analytics(group_id, period="7d")
    page.goto(f"/groups/{group_id}")
    page.get_by_role("main").get_by_role("link", name="Statistics", exact=True).click()
    expect(page.get_by_role("heading", name=f"Statistics: {stats_group['title']}", level=1)).to_be_visible()
    expect(page.locator('[data-stat="messages"]')).to_have_text(str(figures["totals"]["messages"]))

    charts = page.locator("figure[data-chart]")
    assert charts.count() >= 6
    for index in range(charts.count()):
        expect(charts.nth(index)).to_have_attribute("data-drawn", "true")
        expect(charts.nth(index).locator("svg[role=img]")).to_have_count(1)

    # What each chart drew is core's: the top members' bars, the heatmap's cells, the series' points.
    bars = drawn_titles(page, "table-top_members")
    assert bars == [f"{member['display_name']}: Messages {member['messages']}" for member in figures["top_members"]]
    cells = drawn_titles(page, "table-heatmap")
    assert len(cells) == 7 * 24
    drawn = [int(re.search(r": (\d+) messages$", title).group(1)) for title in cells]
    assert drawn == [count for day in figures["heatmap"] for count in day]
    points = [title for title in drawn_titles(page, "table-series") if ": Messages " in title]
    assert points == [f"{point['day']}: Messages {point['messages']}" for point in figures["series"]]
    rates = drawn_titles(page, "table-cohorts")
    assert len(rates) == sum(1 for cohort in figures["cohorts"]
                             for key in ("activation_rate", "retention_7d", "retention_30d") if cohort[key] is not None)

    # The table beside a chart: opened, its rows are core's.
    page.get_by_text("Top members by messages: the table").click()
    table = page.get_by_role("table", name="Top members by messages")
    expect(table.get_by_role("row")).to_have_count(1 + len(figures["top_members"]))
    expect(table.get_by_role("rowheader").first).to_have_text(figures["top_members"][0]["display_name"])

    # A CSV download of the same table.
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download “Top members by messages” as CSV").click()
    download = download_info.value
    assert download.suggested_filename == f"group-{group_id}-{figures['start']}-{figures['end']}-top_members.csv"
    saved = tmp_path / "top.csv"
    download.save_as(saved)
    rows = list(csv.reader(io.StringIO(saved.read_text())))
    assert [(row[0], int(row[2])) for row in rows[1:]] == [
        ("'" + member["display_name"] if member["display_name"].startswith("=") else member["display_name"],
         member["messages"]) for member in figures["top_members"]]
    assert {"'" + FORMULA_NAME, COMMA_NAME} <= {row[0] for row in rows}

    # A top member's own page, from their row.
    table.get_by_role("link", name="Anna Active").click()
    expect(page.get_by_role("heading", name=re.compile(r"^Anna Active in "), level=1)).to_be_visible()
    expect(page.locator('figure[data-table="table-series"]')).to_have_attribute("data-drawn", "true")
    anna = stats_group["users"]["Anna Active"]
    member = dashboard_platform.api.member_analytics(group_id, anna["user_id"], period="7d")
    assert [title for title in drawn_titles(page, "table-series") if ": Messages " in title] == [
        f"{point['day']}: Messages {point['messages']}" for point in member["series"]]
    assert page.problems.besides(*LIVE) == []


def test_the_period_picker_and_the_platform_page(logged_in_page, dashboard_platform, stats_group):
    page = logged_in_page
    page.goto(f"/groups/{stats_group['id']}/statistics")
    start, end = page.get_by_label("From (custom)"), page.get_by_label("To (custom, inclusive)")
    expect(start).to_be_hidden()  # dates count for custom periods only
    page.get_by_label("Period", exact=True).select_option("30d")
    page.get_by_role("button", name="Show").click()
    thirty = dashboard_platform.api.group_analytics(stats_group["id"], period="30d")
    expect(page.locator("#period-shown")).to_contain_text(f"Showing {thirty['start']} to {thirty['end']}")
    page.get_by_label("Period", exact=True).select_option("custom")
    expect(start).to_be_visible()
    start.fill(thirty["end"])
    end.fill(thirty["end"])
    page.get_by_label("Step").select_option("hour")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("#period-shown")).to_contain_text(f"Showing {thirty['end']} to {thirty['end']}")
    one_day = dashboard_platform.api.group_analytics(stats_group["id"], period="custom", start=thirty["end"],
                                                     end=thirty["end"], bucket="hour")
    expect(page.locator("#table-series caption")).to_contain_text("Activity per hour")
    expect(page.locator("#table-series tbody tr")).to_have_count(len(one_day["series"]))

    page.get_by_role("navigation", name="Sections").get_by_role("link", name="Statistics").click()
    expect(page.get_by_role("heading", name="Platform statistics", level=1)).to_be_visible()
    overview = dashboard_platform.api.analytics_overview(period="7d")
    expect(page.locator('[data-stat="messages"]')).to_have_text(f"{overview['totals']['messages']:,}")
    expect(page.locator('figure[data-table="table-by_activity"]')).to_have_attribute("data-drawn", "true")
    assert drawn_titles(page, "table-by_activity") == [
        f"{group['title']}: Messages {group['messages']}" for group in overview["by_activity"]]
    assert page.problems.besides(*LIVE) == []


def test_the_statistics_pages_pass_axe_and_keep_their_csp(logged_in_page, stats_group):
    page = logged_in_page
    axe = Axe()
    anna = stats_group["users"]["Anna Active"]
    violations = []
    for path in (f"/groups/{stats_group['id']}/statistics", f"/groups/{stats_group['id']}/statistics?period=today",
                 f"/groups/{stats_group['id']}/statistics/members/{anna['user_id']}", "/statistics",
                 f"/groups/{stats_group['id']}/statistics?period=custom"):
        response = page.goto(path)
        assert response.status in (200, 400) and "content-security-policy" in response.headers, path
        page.locator("details").evaluate_all("(all) => all.forEach((one) => { one.open = true; })")
        results = axe.run(page, options=AXE_RULES).response
        assert len(results["passes"]) > 10, f"{path}: axe did not run"
        violations += [(path, violation["id"], [node["target"] for node in violation["nodes"]])
                       for violation in results["violations"]]
    assert violations == []
    assert page.problems.besides(*LIVE) == []


def test_the_statistics_pages_load_nothing_from_another_host(open_context, dashboard_platform,  # noqa: F811
                                                              dashboard_admin, stats_group):
    page, outside = open_context(dashboard_platform.url)
    user = dashboard_admin["user"]
    page.context.add_cookies(session_cookies(dashboard_platform, user["username"], dashboard_admin["password"]))
    anna = stats_group["users"]["Anna Active"]
    for path in (f"/groups/{stats_group['id']}/statistics?period=30d",
                 f"/groups/{stats_group['id']}/statistics/members/{anna['user_id']}", "/statistics"):
        visit(page, path)
        expect(page.locator("figure[data-chart]").first).to_have_attribute("data-drawn", "true")
    assert outside == []
    assert page.problems.besides(*LIVE) == []
