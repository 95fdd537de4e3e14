"""A group's content rules editors in headless Chromium against real core and web processes: the locks table, the
blocklist (paste, export and import a .txt file, remove), a filter's reply previewed live as it is typed (content.js,
from this origin under the CSP), a note, and the "test a message" box answering without leaving the page. Every page
passes axe-core's WCAG 2.x A/AA checks and keeps its Content Security Policy."""

import re

import httpx
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from tests.e2e.processes import TEST_KEY

from .test_dashboard import AXE_RULES, LIVE

pytestmark = pytest.mark.e2e

REPLY, MESSAGE = re.compile(r"^Reply"), re.compile(r"^Message")


def core(platform, path: str) -> dict:
    response = httpx.get(f"http://127.0.0.1:{platform.core_port}/api{path}", headers={"X-API-Key": TEST_KEY},
                         timeout=10)
    assert response.status_code == 200, response.text
    return response.json()["data"]


def test_the_locks_table_locks_and_unlocks(logged_in_page, dashboard_platform):
    page = logged_in_page
    group = dashboard_platform.group("Locked group")
    page.goto(f"/groups/{group['id']}")
    page.locator("#content-rules").get_by_role("link", name="Edit the locks").click()
    expect(page.get_by_role("heading", name=re.compile(r"^Locks"), level=1)).to_be_visible()
    expect(page.get_by_role("navigation", name="Content rules").get_by_role("link", name="Locks")).to_have_attribute(
        "aria-current", "page")
    page.get_by_label("Lock sticker").check()
    expect(page.locator("#lock-sticker")).to_have_class(re.compile(r"\blocked\b"))  # content.js marks the row
    page.get_by_label("Reason for sticker").fill("no stickers here")
    page.get_by_label("Lock url").check()
    page.get_by_label("Mode for url").select_option("tban")
    page.get_by_label("Length for url").fill("1d")
    page.get_by_role("button", name="Save locks").click()
    expect(page.get_by_role("status")).to_have_text("The locks were saved.")
    locks = core(dashboard_platform, f"/groups/{group['id']}/locks")["locks"]
    assert locks["sticker"]["reason"] == "no stickers here"
    assert (locks["url"]["mode"], locks["url"]["duration_seconds"]) == ("tban", 86400)
    expect(page.get_by_label("Lock sticker")).to_be_checked()
    expect(page.get_by_label("Length for url")).to_have_value("1d")
    # A timed mode without a length: refused on its row, nothing saved.
    page.get_by_label("Lock voice").check()
    page.get_by_label("Mode for voice").select_option("tmute")
    page.get_by_role("button", name="Save locks").click()
    expect(page.locator("#locks_voice_length_error")).to_contain_text("tmute needs a length")
    page.get_by_label("Mode for voice").select_option("delete")
    page.get_by_label("Lock sticker").uncheck()
    page.get_by_role("button", name="Save locks").click()
    expect(page.get_by_role("status")).to_have_text("The locks were saved.")
    assert set(core(dashboard_platform, f"/groups/{group['id']}/locks")["locks"]) == {"url", "voice"}
    assert page.problems.besides(*LIVE) == []


def test_the_blocklist_is_pasted_exported_imported_and_removed(logged_in_page, dashboard_platform, tmp_path):
    page = logged_in_page
    group, other = dashboard_platform.group("Blocklisted group"), dashboard_platform.group("Imported group")
    page.goto(f"/groups/{group['id']}/blocklist")
    page.get_by_label("Patterns, one a line").fill("buy*now\nfree crypto | tban 2d | scam\nspam | warn")
    page.get_by_role("button", name="Add to the blocklist").click()
    expect(page.get_by_role("status")).to_have_text("Blocklist: 3 added, 0 updated.")
    expect(page.get_by_role("rowheader", name="free crypto")).to_be_visible()
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Export as a text file").click()
    download = download_info.value
    assert download.suggested_filename == "blocklist-blocklisted-group.txt"
    saved = tmp_path / "blocklist.txt"
    download.save_as(saved)
    assert saved.read_text().splitlines()[-3:] == ["buy*now", "free crypto | tban 2d | scam", "spam | warn"]

    page.goto(f"/groups/{other['id']}/blocklist")
    page.get_by_label("Blocklist file (.txt)").set_input_files(str(saved))
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_role("status")).to_have_text("Blocklist: 3 added, 0 updated.")
    assert [item["pattern"] for item in core(dashboard_platform, f"/groups/{other['id']}/blocklist")["items"]] == [
        "buy*now", "free crypto", "spam"]
    # Remove one with its own button, then two selected.
    page.get_by_role("button", name="Remove spam").click()
    expect(page.get_by_role("status")).to_have_text("1 removed.")
    page.get_by_label("Select buy*now").check()
    page.get_by_label("Select free crypto").check()
    page.get_by_role("button", name="Remove selected").click()
    expect(page.get_by_role("status")).to_have_text("2 removed.")
    expect(page.get_by_role("cell", name="No blocklist entries.")).to_be_visible()
    assert core(dashboard_platform, f"/groups/{other['id']}/blocklist")["items"] == []
    assert page.problems.besides(*LIVE) == []


def test_a_filter_s_reply_is_previewed_as_it_is_typed_and_saved(logged_in_page, dashboard_platform):
    page = logged_in_page
    group = dashboard_platform.group("Filtered group")
    page.goto(f"/groups/{group['id']}/filters")
    form = page.locator("#filter-form")
    preview = page.get_by_role("region", name="Reply preview")
    expect(preview).to_contain_text("No reply yet")
    form.get_by_label("Trigger").fill("rules please")
    form.get_by_role("textbox", name=REPLY).fill("<b>Our rules</b> for {chatname}\n[Read](buttonurl://https://example.com/r)\n"
                                    "[Ask](buttonurl://https://example.com/a:same)")
    expect(preview.locator(".tg-bubble strong")).to_have_text("Our rules")
    expect(preview.locator(".tg-bubble")).to_contain_text("for Filtered group")
    expect(preview.locator(".tg-row .tg-button")).to_have_text(["Read", "Ask"])
    form.get_by_label("Media:", exact=True).select_option("photo")
    expect(preview).to_contain_text("under a photo")
    form.get_by_label("Media file id").fill("AgACAgIAAxkBAAIC")
    form.get_by_role("button", name="Add the filter").click()
    expect(page.get_by_role("status")).to_have_text("The filter was saved.")
    (item,) = core(dashboard_platform, f"/groups/{group['id']}/filters")["items"]
    assert (item["text"], item["media_type"]) == ("<b>Our rules</b> for {chatname}", "photo")
    assert [button["text"] for button in item["buttons"][0]] == ["Read", "Ask"]
    page.get_by_role("link", name="Edit rules please").click()
    expect(page.get_by_role("heading", name='Edit the filter "rules please"')).to_be_visible()
    expect(page.locator("#filter-form").get_by_role("textbox", name=REPLY)).to_have_value(
        "<b>Our rules</b> for {chatname}\n[Read](buttonurl://https://example.com/r)\n"
        "[Ask](buttonurl://https://example.com/a:same)")
    page.get_by_role("button", name="Remove rules please").click()
    expect(page.get_by_role("status")).to_have_text("1 removed.")
    assert page.problems.besides(*LIVE) == []


def test_a_note_is_saved(logged_in_page, dashboard_platform):
    page = logged_in_page
    group = dashboard_platform.group("Noted group")
    page.goto(f"/groups/{group['id']}/notes")
    form = page.locator("#note-form")
    form.get_by_label("Name").fill("Welcome")
    form.get_by_role("textbox", name=REPLY).fill("Hello <i>{first}</i>")
    expect(page.get_by_role("region", name="Reply preview").locator(".tg-bubble em")).to_have_text("Sam")
    form.get_by_role("button", name="Add the note").click()
    expect(page.get_by_role("status")).to_have_text("The note was saved.")
    expect(page.get_by_role("rowheader", name="#welcome")).to_be_visible()
    assert dashboard_platform.api.note_get(group["id"], "welcome")["text"] == "Hello <i>{first}</i>"
    assert page.problems.besides(*LIVE) == []


def test_the_test_box_answers_without_leaving_the_page(logged_in_page, dashboard_platform):
    page = logged_in_page
    group = dashboard_platform.group("Tested group")
    dashboard_platform.api.locks_update(group["id"], locks={"url": {"mode": "warn", "reason": "no links"}})
    dashboard_platform.api.blocklist_add(group["id"], entries=[{"pattern": "buy*now", "mode": "ban"}])
    page.goto(f"/groups/{group['id']}")
    box = page.locator("#test-form")
    result = page.get_by_role("region", name="Test result")
    box.get_by_role("textbox", name=MESSAGE).fill("BUYNOW at https://example.com")
    box.get_by_role("button", name="Test the message").click()
    expect(result).to_contain_text("The bot would act: url is locked")
    expect(result).to_contain_text("warn")
    expect(result).to_contain_text("buy*now")
    expect(page).to_have_url(re.compile(rf"/groups/{group['id']}$"))  # the page stayed
    box.get_by_role("textbox", name=MESSAGE).fill("hello friends")
    box.get_by_role("button", name="Test the message").click()
    expect(result).to_contain_text("No lock or blocklist entry applies")
    box.get_by_role("textbox", name=MESSAGE).fill("")
    box.get_by_label("Or a Telegram message (JSON)").fill("{not json")
    box.get_by_role("button", name="Test the message").click()
    expect(result.get_by_role("alert")).to_contain_text("Not JSON")
    assert page.problems.besides(*LIVE, "/test") == []  # the refused test is a 400 by design
    assert [problem for problem in page.problems if "/test" in problem] == [
        f"HTTP 400: {dashboard_platform.url}/groups/{group['id']}/test"]


def test_the_editors_pass_axe_and_keep_their_csp(logged_in_page, dashboard_platform):
    page = logged_in_page
    axe = Axe()
    group = dashboard_platform.group("Axe content group")
    dashboard_platform.api.locks_update(group["id"], locks={"sticker": {"mode": "delete"}})
    dashboard_platform.api.blocklist_add(group["id"], entries=[{"pattern": "spam", "mode": "warn"}])
    dashboard_platform.api.filter_save(group["id"], trigger="hi", text="Hello",
                                       buttons=[[{"text": "Go", "url": "https://example.com"}]])
    dashboard_platform.api.note_save(group["id"], name="faq", text="<b>FAQ</b>")

    def audit(label):
        results = axe.run(page, options=AXE_RULES).response
        assert len(results["passes"]) > 10, f"{label}: axe did not run"
        return [(label, violation["id"], [node["target"] for node in violation["nodes"]])
                for violation in results["violations"]]

    violations = []
    for tab in ("locks", "blocklist", "filters", "notes", "test"):
        response = page.goto(f"/groups/{group['id']}/{tab}")
        assert response.status == 200 and "content-security-policy" in response.headers, tab
        violations += audit(tab)
    page.goto(f"/groups/{group['id']}/filters?edit=" + core(dashboard_platform,
                                                             f"/groups/{group['id']}/filters")["items"][0]["id"])
    violations += audit("filters, editing")
    # With errors and a result shown.
    page.goto(f"/groups/{group['id']}/locks")
    page.get_by_label("Lock voice").check()
    page.get_by_label("Mode for voice").select_option("tban")
    page.get_by_role("button", name="Save locks").click()
    expect(page.locator("#locks_voice_length_error")).to_be_visible()
    violations += audit("locks with an error")
    page.goto(f"/groups/{group['id']}/blocklist")
    page.get_by_label("Patterns, one a line").fill("x | explode")
    page.get_by_role("button", name="Add to the blocklist").click()
    expect(page.locator("#blocklist_patterns_error")).to_be_visible()
    violations += audit("blocklist with an error")
    page.goto(f"/groups/{group['id']}")
    page.locator("#test-form").get_by_role("textbox", name=MESSAGE).fill("spam")
    page.locator("#test-form").get_by_role("button", name="Test the message").click()
    expect(page.get_by_role("region", name="Test result")).to_contain_text("The bot would act")
    violations += audit("group page with a test result")
    assert violations == []
    assert [problem for problem in page.problems if "Content Security Policy" in problem] == []
    assert page.problems.besides(*LIVE) == []
