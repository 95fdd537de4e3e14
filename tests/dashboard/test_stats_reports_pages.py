"""The overview against real core and web processes: a member's /report (a moderation record of type report) is
shown as a report, never counted among the moderation actions."""

import json

import pytest

from .pages_platform import dashboard_platform  # noqa: F401 (fixture)
from .test_pages import check_page

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def web(dashboard_platform):  # noqa: F811
    return dashboard_platform


def test_the_overview_shows_reports_apart_from_moderation_actions(web):
    admin = web.user("admin", display_name="Rita Reader")
    browser = web.browser()
    assert browser.login(admin["username"]).status_code == 302
    group = web.group()
    reporter = web.user(group=group, display_name="Rob Reporter", telegram_user_id=777000441)
    reported = web.user(group=group, display_name="Sam Spammer", telegram_user_id=777000442)
    before = web.api.system_stats()
    for _ in range(2):
        report = web.api.moderation_record(type="report", group_id=group["id"], actor_user_id=reporter["id"],
                                           target_user_id=reported["id"], reason="spam")
        web.api.moderation_complete(report.action.id, status="executed")
    after = web.api.system_stats()
    assert after["reports_24h"] == before["reports_24h"] + 2
    assert (after["moderation_actions_24h"], after["manual_actions_24h"]) == (
        before["moderation_actions_24h"], before["manual_actions_24h"])

    html = browser.get("/").text
    assert "Reports by members (24 h)" in check_page(browser.get("/"))
    assert f'data-stat="reports_24h">{after["reports_24h"]}<' in html
    assert f'data-stat="moderation_actions_24h">{after["moderation_actions_24h"]}<' in html
    # The group's chart: its hours (the reports' one among them) count no moderation action.
    page = browser.get(f"/groups/{group['id']}").text
    chart = json.loads(page.split('id="chart-group-data" type="application/json">', 1)[1].split("</script>", 1)[0])
    (moderation,) = [series["data"] for series in chart["series"] if series["key"] == "moderation"]
    assert moderation and set(moderation) == {0}
