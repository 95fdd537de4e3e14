"""The ban-list pages in headless Chromium against real core and web processes: a list created from the navigation,
a user banned and unbanned on its bans tab, a CSV file imported (and one refused with its rows at fault), the list
exported as a download, its history filtered, an admin promoted, and a user's page naming the lists they are on.
Every page passes axe-core's WCAG 2.x A/AA checks and keeps its Content Security Policy."""

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from .test_dashboard import AXE_RULES, LIVE

pytestmark = pytest.mark.e2e

_telegram_ids = iter(range(7_500_000_001, 7_600_000_000))


def create_list(page, name: str) -> str:
    page.goto("/")
    page.get_by_role("navigation", name="Sections").get_by_role("link", name="Ban lists").click()
    expect(page.get_by_role("heading", name="Ban lists", level=1)).to_be_visible()
    page.locator("#banlist-create-form").get_by_label("Name").fill(name)
    page.get_by_role("button", name="Create the list").click()
    expect(page.get_by_role("status")).to_have_text("The ban list was created. You are its owner.")
    expect(page.get_by_role("heading", name=name, level=1)).to_be_visible()
    return re.search(r"/banlists/([0-9a-f]+)", page.url).group(1)


def test_a_list_is_created_a_user_banned_and_unbanned_and_its_history_filtered(logged_in_page, dashboard_platform):
    page = logged_in_page
    list_id = create_list(page, "Browser spam watch")
    tabs = page.get_by_role("navigation", name="Ban list")
    expect(tabs.get_by_role("link", name="Overview")).to_have_attribute("aria-current", "page")
    tabs.get_by_role("link", name="Bans").click()
    target = next(_telegram_ids)
    page.locator("#ban-form").get_by_label("Telegram user id").fill(str(target))
    page.locator("#ban-form").get_by_label("Reason").fill("crypto spam")
    page.get_by_role("button", name="Ban on this list").click()
    expect(page.get_by_role("status")).to_contain_text("Banned. The ban reaches 0 groups")
    expect(page.get_by_role("rowheader", name=str(target))).to_be_visible()
    expect(page.get_by_role("cell", name="crypto spam")).to_be_visible()
    (ban,) = dashboard_platform.api.ban_list_bans(list_id)["items"]
    assert (ban["telegram_user_id"], ban["reason"]) == (target, "crypto spam")

    page.get_by_label("Search by Telegram id, name or reason").fill("nobody-like-this")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("cell", name='No ban matches "nobody-like-this".')).to_be_visible()
    page.get_by_label("Search by Telegram id, name or reason").fill(str(target))
    page.get_by_role("button", name="Search").click()
    page.get_by_role("button", name=f"Unban {target}").click()
    expect(page.get_by_role("status")).to_have_text("Unbanned. The unban reaches 0 groups.")
    expect(page.get_by_role("cell", name="No one is banned on this list.")).to_be_visible()
    page.get_by_role("navigation", name="Filter").get_by_role("link", name="Lifted").click()
    expect(page.get_by_role("rowheader", name=str(target))).to_be_visible()

    tabs.get_by_role("link", name="History").click()
    expect(page.get_by_role("cell", name="Unban")).to_be_visible()
    page.get_by_label("Kind").select_option("ban")
    page.get_by_role("button", name="Apply filters").click()
    expect(page.get_by_role("cell", name="Ban", exact=True)).to_be_visible()
    expect(page.get_by_role("cell", name="Unban")).to_have_count(0)
    assert page.problems.besides(*LIVE) == []


def test_a_csv_file_is_imported_refused_with_its_faults_and_exported(logged_in_page, dashboard_platform, tmp_path):
    page = logged_in_page
    list_id = create_list(page, "Browser imported list")
    ids = [next(_telegram_ids) for _ in range(3)]
    good = tmp_path / "cas.csv"
    good.write_text("".join(f"{value}\n" for value in ids))
    page.get_by_role("navigation", name="Ban list").get_by_role("link", name="Import and export").click()
    page.get_by_label("File (.csv or .json)").set_input_files(str(good))
    page.get_by_label("CSV (telegram_user_id,reason,date)").check()
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_role("status")).to_have_text("Imported: 3 added, 0 updated, 0 unchanged.")

    bad = tmp_path / "bad.csv"
    bad.write_text(f"{next(_telegram_ids)}\nnot an id\n")
    page.get_by_label("File (.csv or .json)").set_input_files(str(bad))
    page.get_by_role("button", name="Import").click()
    alert = page.locator("#import-faults")
    expect(alert).to_contain_text("Nothing was imported")
    expect(alert).to_contain_text("Row 2")
    assert dashboard_platform.api.ban_list_get(list_id)["bans_count"] == 3

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Export as CSV").click()
    download = download_info.value
    assert download.suggested_filename == f"banlist-{list_id}.csv"
    saved = tmp_path / "export.csv"
    download.save_as(saved)
    lines = saved.read_text().splitlines()
    assert lines[0] == "telegram_user_id,reason,date"
    assert sorted(int(line.split(",")[0]) for line in lines[1:]) == sorted(ids)
    assert page.problems.besides(*LIVE, "/import") == []  # the refused file is a 400 by design


def test_the_ban_list_pages_pass_axe_and_keep_their_csp(logged_in_page, dashboard_platform, dashboard_admin):
    page = logged_in_page
    axe = Axe()
    list_id = create_list(page, "Axe ban list")
    api = dashboard_platform.api
    admin_user = dashboard_admin["user"]
    person = dashboard_platform.user(telegram_user_id=next(_telegram_ids), display_name="Listed Person")
    api.ban_list_ban(list_id, telegram_user_id=person["telegram_user_id"], reason="spam",
                     actor_user_id=admin_user["id"])
    api.ban_list_admin_add(list_id, telegram_user_id=person["telegram_user_id"], actor_user_id=admin_user["id"])

    def audit(label):
        results = axe.run(page, options=AXE_RULES).response
        assert len(results["passes"]) > 10, f"{label}: axe did not run"
        return [(label, violation["id"], [node["target"] for node in violation["nodes"]])
                for violation in results["violations"]]

    violations = []
    for path in ("/banlists", f"/banlists/{list_id}", f"/banlists/{list_id}/bans", f"/banlists/{list_id}/history",
                 f"/banlists/{list_id}/import", f"/users/{person['id']}"):
        response = page.goto(path)
        assert response.status == 200 and "content-security-policy" in response.headers, path
        violations += audit(path)
    expect(page.get_by_role("region", name="Ban lists").get_by_role("link", name="Axe ban list")).to_be_visible()
    # With errors shown: a refused promotion and a refused ban.
    page.goto(f"/banlists/{list_id}")
    expect(page.get_by_role("cell", name="banlist_admin")).to_be_visible()
    page.locator("#promote-form").get_by_label("Telegram user id").fill("abc")
    page.get_by_role("button", name="Promote to list admin").click()
    expect(page.locator("#promote-form .errorlist")).to_be_visible()
    violations += audit("overview with an error")
    page.goto(f"/banlists/{list_id}/bans")
    page.get_by_role("button", name="Ban on this list").click()
    expect(page.locator("#ban-form .errorlist")).to_be_visible()
    violations += audit("bans with an error")
    assert violations == []
