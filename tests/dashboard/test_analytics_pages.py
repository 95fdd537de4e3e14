"""The Statistics pages against real core and web processes: a group's, a member's and the platform's, with events
generated through core's ingest and moderation records. Every figure a page shows, every table and every CSV
download is compared with core's own answer for the same period; names that would break a CSV (commas, quotes) or
run as a spreadsheet formula are exported safely; bad periods, unknown tables, missing permissions and core being down
are clear pages."""

import csv
import io
import re
import uuid
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

import pytest

from .pages_platform import PageClient, dashboard_platform, signed_in, unique, visible_text  # noqa: F401 (fixture)
from .test_pages import check_page, lonely_web  # noqa: F401 (fixture)

pytestmark = pytest.mark.e2e

_telegram_ids = iter(range(7_700_000_001, 7_800_000_000))
FORMULA_NAME = '=HYPERLINK("http://x.example","click")'
COMMA_NAME = 'Comma, "Quoted" Name'


@pytest.fixture(scope="module")
def web(dashboard_platform):  # noqa: F811
    return dashboard_platform


def generate_activity(web, group: dict) -> dict:
    """Members who join, speak and leave over the last days (one named like a formula, one with a comma and quotes),
    a command, a warning, a member's report and the mute that answered it. {"people": {name: core user}, ...}"""
    now = datetime.now(UTC)
    people = {"Anna Active": next(_telegram_ids), FORMULA_NAME: next(_telegram_ids), COMMA_NAME: next(_telegram_ids)}
    events = []

    def event(kind, name, at, **extra):
        events.append({"event_id": uuid.uuid4().hex, "type": kind, "group_id": group["id"],
                       "telegram_user_id": people[name], "display_name": name, "occurred_at": at.isoformat(),
                       **extra})

    anna, formula, comma = people
    event("join", anna, now - timedelta(days=5, hours=1))
    for days_ago in (5, 4, 2, 0):
        for minute in range(3):
            event("message", anna, now - timedelta(days=days_ago, minutes=10 + minute))
    event("join", formula, now - timedelta(days=3))
    for minute in range(5):
        event("message", formula, now - timedelta(minutes=20 + minute))
    event("command", formula, now - timedelta(minutes=30), command="rules")
    event("message", comma, now - timedelta(days=2, minutes=5))
    event("leave", comma, now - timedelta(minutes=40))
    web.api.events_batch(events)
    top = web.api.group_analytics(group["id"])["top_members"]
    users = {member["display_name"]: member for member in top}
    admin = web.user("admin", display_name="Mod Erator")
    warn = web.api.moderation_record(type="warn", group_id=group["id"], actor_user_id=admin["id"],
                                     target_user_id=users[anna]["user_id"], reason="keep it civil")
    web.api.moderation_complete(warn.action.id, status="executed")
    report = web.api.moderation_record(type="report", group_id=group["id"], actor_user_id=users[anna]["user_id"],
                                       target_user_id=users[formula]["user_id"], reason="spam")
    web.api.moderation_complete(report.action.id, status="executed")
    mute = web.api.moderation_record(type="mute", group_id=group["id"], actor_user_id=admin["id"],
                                     target_user_id=users[formula]["user_id"], reason="spam")
    web.api.moderation_complete(mute.action.id, status="executed")
    return {"users": users, "moderator": admin}


@pytest.fixture(scope="module")
def world(web):
    group = web.group(unique("Stats group "))
    web.api.group_update(group["id"], timezone="Asia/Kolkata")  # days off UTC's midnight by 5:30
    activity = generate_activity(web, group)
    admin = web.user("admin", display_name="Stella Stats")
    return {"group": group, "admin": admin, **activity}


@pytest.fixture(scope="module")
def admin_browser(web, world) -> PageClient:
    return signed_in(web, world["admin"])


class Tables(HTMLParser):
    """Every <table> of a page: its id, caption, header cells and rows (each cell's text and data-value)."""

    def __init__(self):
        super().__init__()
        self.tables: dict[str, dict] = {}
        self._table = None
        self._cell = None
        self._in_caption = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table":
            self._table = {"caption": "", "columns": [], "rows": [], "scopes": []}
            self.tables[attrs.get("id", f"table{len(self.tables)}")] = self._table
        elif tag == "caption":
            self._in_caption = True
        elif tag == "tr" and self._table is not None:
            self._table["rows"].append([])
        elif tag in ("th", "td") and self._table is not None:
            self._cell = {"tag": tag, "text": "", "value": attrs.get("data-value"), "scope": attrs.get("scope")}
            self._table["rows"][-1].append(self._cell)
        elif tag == "a" and self._cell is not None:
            self._cell["href"] = attrs.get("href")

    def handle_endtag(self, tag):
        if tag == "caption":
            self._in_caption = False
        elif tag in ("th", "td"):
            self._cell = None
        elif tag == "table":
            header, *rows = self._table["rows"]
            self._table["columns"] = [cell["text"].strip() for cell in header]
            rows = [row for row in rows if len(row) == len(header)]  # not the "no data" row
            self._table["scopes"] = [cell["scope"] for cell in header] + [row[0]["scope"] for row in rows]
            self._table["rows"] = rows
            self._table = None

    def handle_data(self, data):
        if self._in_caption:
            self._table["caption"] += data
        elif self._cell is not None:
            self._cell["text"] += data


def page_tables(html: str) -> dict[str, dict]:
    parser = Tables()
    parser.feed(html)
    return parser.tables


def csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200, visible_text(response.text)
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"].startswith("attachment; filename=")
    return list(csv.reader(io.StringIO(response.text)))


def number(text: str):
    return None if text == "" else float(text) if "." in text else int(text)


def test_the_group_page_links_its_statistics_and_every_figure_is_core_s(web, world, admin_browser):
    group = world["group"]
    assert f'href="/groups/{group["id"]}/statistics"' in admin_browser.get(f"/groups/{group['id']}").text
    figures = web.api.group_analytics(group["id"], period="7d")
    response = admin_browser.get(f"/groups/{group['id']}/statistics?period=7d")
    assert response.status_code == 200
    text = check_page(response)
    assert f"Showing {figures['start']} to {figures['end']} in the group's clock (Asia/Kolkata)" in text
    html = response.text
    totals, activity = figures["totals"], figures["activity"]
    assert totals["messages"] == 18 and totals["joins"] == 2 and totals["leaves"] == 1
    for key, shown in (("messages", "18"), ("joins", "2"), ("leaves", "1"), ("net_growth", "1"),
                       ("active_members", str(totals["active_members"])), ("wau", str(activity["wau"])),
                       ("mau", str(activity["mau"])), ("dau", f"{activity['dau']:,.2f}"),
                       ("stickiness", f"{activity['stickiness'] * 100:.1f} %")):
        assert f'data-stat="{key}">{shown}<' in html, key

    tables = page_tables(html)
    expected = {"table-summary", "table-series", "table-member_count", "table-heatmap", "table-top_members",
                "table-cohorts", "table-moderation", "table-moderation_automated", "table-moderation_types",
                "table-moderation_moderators", "table-moderation_rules"}
    assert expected <= set(tables)
    for table_id in expected:
        table = tables[table_id]
        assert table["caption"].strip(), table_id
        assert set(table["scopes"]) <= {"col", "row"} and table["scopes"], table_id  # every header names its scope
        name = table_id.removeprefix("table-")
        assert f'href="/groups/{group["id"]}/statistics?period=7d&amp;format=csv&amp;table={name}"' in html
        if table_id in ("table-series", "table-member_count", "table-heatmap", "table-top_members",
                        "table-cohorts", "table-moderation_types"):
            assert f'data-table="{table_id}"' in html, f"{table_id} has no chart"

    # The page's tables hold core's figures.
    top = tables["table-top_members"]["rows"]
    assert [(row[0]["text"], int(row[2]["value"])) for row in top] == [
        (member["display_name"], member["messages"]) for member in figures["top_members"]]
    anna = world["users"]["Anna Active"]
    assert top[0][0]["href"] == f"/groups/{group['id']}/statistics/members/{anna['user_id']}?period=7d"
    heat = tables["table-heatmap"]["rows"]
    assert [[int(cell["value"]) for cell in row[1:]] for row in heat] == figures["heatmap"]
    assert sum(map(sum, figures["heatmap"])) == 18
    series = tables["table-series"]["rows"]
    assert [int(row[1]["value"]) for row in series] == [point["messages"] for point in figures["series"]]
    assert [row[0]["text"] for row in series] == [point["day"] for point in figures["series"]]
    by_type = {row[0]["text"]: int(row[1]["value"]) for row in tables["table-moderation_types"]["rows"]}
    assert by_type == {kind.capitalize(): count for kind, count in figures["moderation"]["by_type"].items()}
    assert figures["moderation"]["by_type"] == {"warn": 1, "mute": 1}
    assert figures["moderation"]["reports"] == 1 and figures["moderation"]["reports_actioned"] == 1


def test_every_table_downloads_as_csv_with_core_s_values_and_safe_names(web, world, admin_browser):
    group = world["group"]
    figures = web.api.group_analytics(group["id"], period="7d")
    base = f"/groups/{group['id']}/statistics?period=7d&format=csv&table="

    top = csv_rows(admin_browser.get(base + "top_members"))
    assert top[0] == ["Member", "Username", "Messages", "Share of messages"]
    assert [(row[0], number(row[2]), number(row[3])) for row in top[1:]] == [
        ("'" + name if name.startswith("=") else name, member["messages"], member["share"])
        for member in figures["top_members"] for name in [member["display_name"]]]
    names = [row[0] for row in top[1:]]
    assert "'" + FORMULA_NAME in names and COMMA_NAME in names  # quoted and escaped by the CSV, not mangled
    assert f'"{COMMA_NAME.replace(chr(34), chr(34) * 2)}"' in admin_browser.get(base + "top_members").text

    summary = {row[0]: row[1] for row in csv_rows(admin_browser.get(base + "summary"))[1:]}
    assert number(summary["Messages"]) == figures["totals"]["messages"]
    assert number(summary["Net growth"]) == figures["totals"]["net_growth"]
    assert number(summary["Daily active members (mean)"]) == figures["activity"]["dau"]
    assert number(summary["Stickiness (DAU/MAU over 30 days)"]) == figures["activity"]["stickiness"]

    series = csv_rows(admin_browser.get(base + "series"))
    assert [[number(cell) for cell in row[1:]] for row in series[1:]] == [
        [point[key] for key in ("messages", "commands", "joins", "leaves", "active_members")]
        for point in figures["series"]]
    heat = csv_rows(admin_browser.get(base + "heatmap"))
    assert [[int(cell) for cell in row[1:]] for row in heat[1:]] == figures["heatmap"]
    cohorts = csv_rows(admin_browser.get(base + "cohorts"))
    keys = ("joined", "activated", "activation_rate", "eligible_7d", "retained_7d", "retention_7d", "eligible_30d",
            "retained_30d", "retention_30d")
    assert [[row[0], *map(number, row[1:])] for row in cohorts[1:]] == [
        [cohort["week_start"], *(cohort[key] for key in keys)] for cohort in figures["cohorts"]]
    assert sum(cohort["joined"] for cohort in figures["cohorts"]) == 2
    moderators = csv_rows(admin_browser.get(base + "moderation_moderators"))
    assert [(row[0], number(row[2])) for row in moderators[1:]] == [
        (moderator["display_name"], moderator["actions"]) for moderator in figures["moderation"]["by_moderator"]]
    moderation = {row[0]: row[1] for row in csv_rows(admin_browser.get(base + "moderation"))[1:]}
    median = figures["moderation"]["median_report_to_action_seconds"]
    assert median is not None and number(moderation["Median time from a report to an action"]) == median
    member_count = csv_rows(admin_browser.get(base + "member_count"))
    assert [(row[0], number(row[1])) for row in member_count[1:]] == [
        (point["day"], point["member_count"]) for point in figures["member_count"]]


def test_hour_buckets_custom_periods_and_bad_queries(web, world, admin_browser):
    group_id = world["group"]["id"]
    today = web.api.group_analytics(group_id, period="today")
    assert today["bucket"] == "hour"
    html = admin_browser.get(f"/groups/{group_id}/statistics?period=today&bucket=hour").text
    series = page_tables(html)["table-series"]
    assert series["columns"][0] == "Hour (group's clock)" and series["columns"][-1] == "Starts at"
    assert [row[-1]["value"] for row in series["rows"]] == [point["start"] for point in today["series"]]
    assert len(series["rows"]) == len(today["series"])
    assert [int(row[1]["value"]) for row in series["rows"]] == [point["messages"] for point in today["series"]]
    hours = csv_rows(admin_browser.get(f"/groups/{group_id}/statistics?period=today&bucket=hour&format=csv"
                                       "&table=series"))
    assert [(row[5], int(row[1])) for row in hours[1:]] == [(point["start"], point["messages"])
                                                           for point in today["series"]]
    # The picker's leftover dates do not count unless the period is custom.
    start, end = today["end"], today["end"]
    picked = admin_browser.get(f"/groups/{group_id}/statistics?period=7d&start={start}&end={end}&bucket=")
    assert picked.status_code == 200
    custom = admin_browser.get(f"/groups/{group_id}/statistics?period=custom&start={start}&end={end}")
    assert f"Showing {start} to {end}" in check_page(custom)

    for query, status, words in (
        ("period=custom", 400, "custom period needs start and end"),
        ("period=custom&start=2026-01-01&end=2026-06-30", 400, "at most 92"),
        ("period=fortnight", 400, "not a valid choice"),
        ("colour=red", 400, "Unknown query parameter"),
        ("format=xml&table=series", 400, "Only csv"),
        ("format=csv&table=nope", 400, "One of: summary, series"),
    ):
        response = admin_browser.get(f"/groups/{group_id}/statistics?{query}")
        assert response.status_code == status, (query, response.status_code)
        assert words in check_page(response), (query, visible_text(response.text))
    assert admin_browser.get("/groups/999999/statistics").status_code == 404
    assert admin_browser.get("/groups/not-an-id/statistics").status_code == 400


def test_a_member_s_page_from_the_top_members_and_the_user_page(web, world, admin_browser):
    group = world["group"]
    anna = world["users"]["Anna Active"]
    figures = web.api.member_analytics(group["id"], anna["user_id"], period="7d")
    link = f"/groups/{group['id']}/statistics/members/{anna['user_id']}"
    response = admin_browser.get(link + "?period=7d")
    text = check_page(response)
    assert "Anna Active in" in text
    tables = page_tables(response.text)
    summary = {row[0]["text"]: row[1] for row in tables["table-summary"]["rows"]}
    assert summary["First seen"]["value"] == figures["first_seen"]
    assert summary["Last seen"]["value"] == figures["last_seen"]
    assert int(summary["Messages in the period"]["value"]) == figures["period"]["messages"] == 12
    assert int(summary["Warnings"]["value"]) == figures["warnings"]["total"] == 1
    series = csv_rows(admin_browser.get(link + "?period=7d&format=csv&table=series"))
    assert [(row[0], int(row[1]), int(row[2])) for row in series[1:]] == [
        (point["day"], point["messages"], point["commands"]) for point in figures["series"]]
    received = csv_rows(admin_browser.get(link + "?format=csv&table=actions_received"))
    assert {row[0]: int(row[1]) for row in received[1:]} == figures["actions_received"] == {"warn": 1}
    # The user page links their statistics in the groups it knows them in (their warning's group here).
    user_page = admin_browser.get(f"/users/{anna['user_id']}").text
    assert f'href="{link}"' in user_page


def test_the_platform_page_ranks_groups_and_needs_view_stats_globally(web, world, admin_browser):
    assert 'href="/statistics"' in admin_browser.get("/").text
    figures = web.api.analytics_overview(period="7d")
    response = admin_browser.get("/statistics?period=7d")
    check_page(response)
    html = response.text
    assert f'data-stat="messages">{figures["totals"]["messages"]:,}<' in html
    tables = page_tables(html)
    ranked = [(row[0]["text"], int(row[1]["value"])) for row in tables["table-by_activity"]["rows"]]
    assert ranked == [(group["title"], group["messages"]) for group in figures["by_activity"]]
    assert world["group"]["title"] in [title for title, _ in ranked]
    growth = csv_rows(admin_browser.get("/statistics?period=7d&format=csv&table=by_growth"))
    assert [(row[0], number(row[5])) for row in growth[1:]] == [
        (group["title"], group["net_growth"]) for group in figures["by_growth"]]

    # A group's moderator (VIEW_STATS in the group only) sees the group's page, not the platform's.
    moderator = web.user("moderator", group=world["group"])
    browser = signed_in(web, moderator)
    assert browser.get(f"/groups/{world['group']['id']}/statistics").status_code == 200
    denied = browser.get("/statistics")
    assert denied.status_code == 403 and "VIEW_STATS" in check_page(denied)
    # A plain member has no VIEW_STATS at all.
    member = signed_in(web, web.user("member", group=world["group"]))
    for path in (f"/groups/{world['group']['id']}/statistics",
                 f"/groups/{world['group']['id']}/statistics/members/{world['users']['Anna Active']['user_id']}",
                 f"/groups/{world['group']['id']}/statistics?format=csv&table=top_members"):
        response = member.get(path)
        assert response.status_code == 403 and "VIEW_STATS" in check_page(response), path


def test_core_down_is_a_503_page(world, admin_browser, lonely_web):  # noqa: F811
    browser = PageClient(lonely_web).copy_session(admin_browser)
    for path in (f"/groups/{world['group']['id']}/statistics", "/statistics",
                 f"/groups/{world['group']['id']}/statistics?format=csv&table=series"):
        response = browser.get(path)
        assert response.status_code == 503 and response.headers["retry-after"] == "5"
        assert "Core unavailable" in check_page(response)


def test_no_chart_data_rides_outside_the_tables(world, admin_browser):
    """The charts are drawn from the tables (analytics_charts.js): the page carries no second copy of the figures,
    no inline script and no chart library."""
    html = admin_browser.get(f"/groups/{world['group']['id']}/statistics").text
    assert 'type="application/json"' not in html and "chart.umd" not in html
    assert re.findall(r'<script src="([^"]+)"', html)[-1] == "/static/dashboard/js/analytics_charts.js"
