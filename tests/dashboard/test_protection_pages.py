"""The group page's Protection section against real core and web processes: every setting shown by section, saved
through core as the signed-in user (core checks MANAGE_SETTINGS), a stale form refused with a conflict message
instead of overwriting another admin's save, core's validation messages on their fields, the welcome previewed as
Telegram would show it, raid mode switched, approved members listed and revoked; the overview's automated actions."""

import json
import re
from urllib.parse import urlencode

import httpx
import pytest

from tests.e2e.processes import TEST_KEY

from .pages_platform import dashboard_platform, signed_in, unique, visible_text  # noqa: F401 (fixture)
from .test_pages import check_page

pytestmark = pytest.mark.e2e

LEGENDS = ["Welcome and goodbye", "Rules", "Join verification", "Antiflood", "Anti-raid", "Log channel"]


@pytest.fixture(scope="module")
def web(dashboard_platform):  # noqa: F811
    return dashboard_platform


def core(web, method: str, path: str, **kwargs) -> httpx.Response:
    """Core's API as another service (the tests' key): what the settings are, whatever web shows."""
    return httpx.request(method, f"http://127.0.0.1:{web.core_port}{path}", headers={"X-API-Key": TEST_KEY},
                         timeout=10, **kwargs)


def settings_of(web, group: dict) -> dict:
    response = core(web, "GET", f"/api/groups/{group['id']}/protection")
    assert response.status_code == 200, response.text
    return response.json()["data"]


@pytest.fixture(scope="module")
def admin(web):
    return web.user("admin", display_name="Pat Protector")


@pytest.fixture(scope="module")
def admin_browser(web, admin):
    return signed_in(web, admin)


def form_values(settings: dict, **changes) -> dict:
    """The Protection form as a browser sends it: core's values, checkboxes only when on, empty for null."""
    values = {**settings, "expected_version": settings["version"], **changes}
    data = {}
    for name, value in values.items():
        if name in ("group_id", "telegram_chat_id", "title", "version", "raid_until"):
            continue
        if isinstance(value, bool):
            if value:
                data[name] = "on"
        else:
            data[name] = "" if value is None else str(value)
    return data


def post_protection(browser, group: dict, data: dict, action: str = "save") -> httpx.Response:
    return browser.post_form(f"/groups/{group['id']}/protection", {**data, "action": action},
                             form_page=f"/groups/{group['id']}")


def field_error(html: str, name: str) -> str:
    """The error text Django renders for the field protection_<name>."""
    match = re.search(rf'<ul class="errorlist" id="protection_{name}_error">(.*?)</ul>', html, re.S)
    assert match, f"no error on {name}"
    return visible_text(match.group(1)).strip()


def test_the_group_page_shows_every_protection_setting_by_section(web, admin_browser):
    group = web.group()
    response = admin_browser.get(f"/groups/{group['id']}")
    assert response.status_code == 200
    text = check_page(response)
    html = response.text
    section = html.split('id="protection"', 1)[1].split('id="approvals"', 1)[0]
    for legend in LEGENDS:
        assert f"<legend>{legend}</legend>" in section, legend
    settings = settings_of(web, group)
    editable = [name for name in settings if name not in ("group_id", "telegram_chat_id", "title", "version",
                                                           "raid_until", "locks", "blocklist", "filters", "notes",
                                                           "ban_lists")]
    for name in editable:
        assert f'name="{name}"' in section, name
    assert f'name="expected_version" value="{settings["version"]}"' in section
    assert "Raid mode: off" in text and "Turn raid mode on for 360 minutes" in text
    # Every protection is off: no switch is checked, and the welcome preview is the bot's default text.
    assert not re.search(r'type="checkbox" name="(welcome|goodbye|captcha|raid)_\w+"[^>]* checked', section)
    assert "No text set: the bot's default." in text and "Hey Sam, how are you?" in text
    # The old settings form no longer edits what moved here: one place for the welcome, rules and log chat.
    old_form = html.split('class="settings-form"', 1)[1].split("</form>", 1)[0]
    assert 'name="welcome_text"' not in old_form and 'name="log_chat_id"' not in old_form
    assert "/static/dashboard/js/protection.js" in html


def test_saving_changes_only_what_was_changed_as_the_signed_in_user(web, admin, admin_browser):
    group = web.group()
    before = settings_of(web, group)
    data = form_values(before, welcome_enabled=True, welcome_text="Hi <b>{first}</b>!", flood_limit=5,
                       flood_window_seconds=10, flood_action="tmute", flood_action_duration_seconds=600,
                       captcha_enabled=True, captcha_mode="math", log_chat_id=-1001234567890, rules_text="Be kind")
    response = post_protection(admin_browser, group, data)
    assert response.status_code == 302, visible_text(response.text)[:1500]
    assert response.headers["location"] == f"/groups/{group['id']}?done=protection#protection"
    after = settings_of(web, group)
    assert after["version"] == before["version"] + 1
    assert (after["welcome_enabled"], after["welcome_text"], after["flood_limit"], after["flood_window_seconds"],
            after["flood_action"], after["flood_action_duration_seconds"], after["captcha_mode"],
            after["log_chat_id"], after["rules_text"]) == (True, "Hi <b>{first}</b>!", 5, 10, "tmute", 600, "math",
                                                           -1001234567890, "Be kind")
    (event,) = web.api.audit_events(action="protection.update", group_id=group["id"])["items"]
    assert event["actor_user_id"] == admin["id"]
    assert set(event["details"]["changed"]) == {"welcome_enabled", "welcome_text", "flood_limit",
                                                "flood_window_seconds", "flood_action",
                                                "flood_action_duration_seconds", "captcha_enabled", "captcha_mode",
                                                "log_chat_id", "rules_text"}
    page = admin_browser.get(response.headers["location"].split("#")[0])
    assert "The protection settings were saved." in check_page(page)
    # The same form again: nothing to save, core is not asked, the version stays.
    again = post_protection(admin_browser, group, form_values(after))
    assert again.headers["location"] == f"/groups/{group['id']}?done=protection-unchanged#protection"
    assert settings_of(web, group)["version"] == after["version"]
    # An emptied log chat clears it (null), as an emptied window means consecutive messages.
    cleared = post_protection(admin_browser, group, form_values(after, log_chat_id=None, flood_window_seconds=None))
    assert cleared.status_code == 302
    final = settings_of(web, group)
    assert (final["log_chat_id"], final["flood_window_seconds"]) == (None, None)


def test_a_member_without_manage_settings_is_refused_and_nothing_is_written(web):
    group = web.group()
    moderator = web.user("moderator", group=group)  # VIEW_GROUPS there, not MANAGE_SETTINGS
    browser = signed_in(web, moderator)
    page = browser.get(f"/groups/{group['id']}")
    assert page.status_code == 200 and "Protection" in check_page(page)
    before = settings_of(web, group)
    response = post_protection(browser, group, form_values(before, welcome_enabled=True))
    assert response.status_code == 403
    text = check_page(response)
    assert "You need the MANAGE_SETTINGS permission" in text
    assert re.search(r'<div class="errornote" role="alert"><p>You need the MANAGE_SETTINGS', response.text)
    assert settings_of(web, group) == before


def test_a_stale_form_is_a_conflict_not_a_silent_overwrite(web, admin_browser):
    group = web.group()
    opened = settings_of(web, group)  # this admin opened the page at this version
    # Another admin saves in between (through core, as the bot's /setflood would).
    other = core(web, "PATCH", f"/api/groups/{group['id']}/protection", json={"flood_limit": 7})
    assert other.status_code == 200
    response = post_protection(admin_browser, group, form_values(opened, welcome_text="Mine", flood_limit=0))
    assert response.status_code == 409
    text = check_page(response)
    assert f"Someone else saved these settings while you were editing (version {opened['version']} is now " \
           f"{opened['version'] + 1}). Nothing was saved." in text
    assert "The saved values differ from yours in: Welcome message, Messages that make a flood." in text
    stored = settings_of(web, group)
    assert (stored["flood_limit"], stored["welcome_text"]) == (7, "")  # the other admin's save stands
    # The form keeps what was typed, now based on the saved version: saving again is a deliberate choice.
    assert re.search(r">\s*Mine</textarea>", response.text)
    assert f'name="expected_version" value="{opened["version"] + 1}"' in response.text
    again = post_protection(admin_browser, group, form_values(stored, welcome_text="Mine", flood_limit=0))
    assert again.status_code == 302
    assert (settings_of(web, group)["welcome_text"], settings_of(web, group)["flood_limit"]) == ("Mine", 0)


def test_core_s_validation_messages_are_shown_next_to_their_fields(web, admin_browser):
    group = web.group()
    before = settings_of(web, group)
    response = post_protection(admin_browser, group, form_values(before, flood_limit=1000,
                                                                 captcha_timeout_seconds=5))
    assert response.status_code == 400
    check_page(response)
    assert "100" in field_error(response.text, "flood_limit")
    assert "30" in field_error(response.text, "captcha_timeout_seconds")
    assert 'aria-invalid="true"' in response.text
    assert settings_of(web, group) == before
    # A shape the form itself refuses (not a number): its own message, core is not asked.
    typed = post_protection(admin_browser, group, form_values(before, raid_join_limit="many"))
    assert typed.status_code == 400 and "Enter a whole number." in field_error(typed.text, "raid_join_limit")
    unversioned = post_protection(admin_browser, group, form_values(before, expected_version=""))
    assert unversioned.status_code == 400
    assert "The form lacks the version it was filled from" in check_page(unversioned)
    assert settings_of(web, group) == before


def test_the_welcome_preview_as_telegram_would_show_it(web, admin_browser):
    group = web.group(unique("Cats & <Dogs> "))
    url = f"/groups/{group['id']}/protection/preview"
    query = {"kind": "welcome", "text": "<b>Hi {first}</b>, welcome to {chatname}! <i>{count}</i>\n{rules}"}
    response = admin_browser.get(f"{url}?{urlencode(query)}")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    html = response.text
    title = group["title"].replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    assert f"<strong>Hi Sam</strong>, welcome to {title}! <em>0</em>" in html
    assert '<span class="tg-button">Rules</span>' in html and "{rules}" not in html
    # What Telegram refuses is shown as typed, with why; nothing the moderator typed runs on the page.
    bad = admin_browser.get(f"{url}?{urlencode({'kind': 'goodbye', 'text': '<script>alert(1)</script> {bogus}'})}")
    assert bad.status_code == 200
    assert "<script>" not in bad.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in bad.text
    assert "Telegram would refuse this text." in bad.text and "Unknown placeholder {bogus}" in bad.text
    script_link = '<a href="javascript:alert(1)">x</a> {mention}'
    link = admin_browser.get(f"{url}?{urlencode({'text': script_link})}")
    assert 'href="javascript' not in link.text and '<span class="tg-link" title="tg://user?id=123456789">Sam' \
        in link.text
    assert admin_browser.get(f"{url}?kind=sticker").status_code == 400


def test_the_preview_greets_the_viewer_when_their_telegram_account_is_linked(web):
    group = web.group()
    viewer = web.user("admin", display_name="Tia Telegram", telegram_user_id=777000111, telegram_username="tia_t")
    browser = signed_in(web, viewer)
    query = urlencode({"text": "{fullname} {username} {id}"})
    html = browser.get(f"/groups/{group['id']}/protection/preview?{query}").text
    assert "Tia Telegram @tia_t 777000111" in html and "Tia Telegram (you)" in html


def test_without_javascript_the_preview_button_shows_the_typed_text_and_saves_nothing(web, admin_browser):
    group = web.group()
    before = settings_of(web, group)
    response = post_protection(admin_browser, group, form_values(before, welcome_text="Yo <u>{first}</u>",
                                                                 goodbye_text="Bye {first}"), action="preview")
    assert response.status_code == 200
    check_page(response)
    welcome = response.text.split('id="welcome-preview"', 1)[1].split('id="protection_goodbye_enabled"', 1)[0]
    assert "Yo <u>Sam</u>" in welcome
    assert "Bye Sam" in response.text.split('id="goodbye-preview"', 1)[1]
    assert settings_of(web, group) == before


def test_raid_mode_is_switched_on_and_off_from_the_page(web, admin, admin_browser):
    group = web.group()
    on = admin_browser.post_form(f"/groups/{group['id']}/protection/raid", {"active": "1"},
                                 form_page=f"/groups/{group['id']}")
    assert on.status_code == 302 and on.headers["location"].endswith("?done=raid-on#protection")
    assert settings_of(web, group)["raid_until"] is not None
    text = check_page(admin_browser.get(on.headers["location"].split("#")[0]))
    assert "Raid mode is on." in text and re.search(r"Raid mode: on until \d{4}-\d\d-\d\d", text)
    assert "Turn raid mode off" in text
    (event,) = web.api.audit_events(action="protection.raid", group_id=group["id"])["items"]
    assert event["actor_user_id"] == admin["id"]
    off = admin_browser.post_form(f"/groups/{group['id']}/protection/raid", {"active": "0"},
                                  form_page=f"/groups/{group['id']}")
    assert off.status_code == 302 and settings_of(web, group)["raid_until"] is None


def test_raid_mode_needs_manage_settings(web):
    group = web.group()
    helper = web.user("helper", group=group)
    response = signed_in(web, helper).post_form(f"/groups/{group['id']}/protection/raid", {"active": "1"},
                                                form_page=f"/groups/{group['id']}")
    assert response.status_code == 403
    assert "You need the MANAGE_SETTINGS permission" in check_page(response)
    assert settings_of(web, group)["raid_until"] is None


def test_approved_members_are_listed_and_revoked(web, admin_browser):
    group = web.group()
    member = web.user(group=group, display_name="Abe Approved", telegram_user_id=777000222)
    web.api.assign_role(user_id=member["id"], role="approved", group_id=group["id"])
    html = admin_browser.get(f"/groups/{group['id']}").text
    approvals = html.split('id="approvals"', 1)[1]
    assert ">Abe Approved</a>" in approvals and "777000222" in approvals
    assert "Revoke<span class=\"visually-hidden\"> the approval of Abe Approved</span>" in approvals
    response = admin_browser.post_form(f"/groups/{group['id']}/approvals/revoke", {"user_id": member["id"]},
                                       form_page=f"/groups/{group['id']}")
    assert response.status_code == 302, visible_text(response.text)[:1000]
    assert web.api.assignments(user_id=member["id"], active=True)["total"] == 0
    page = check_page(admin_browser.get(f"/groups/{group['id']}?done=unapproved"))
    assert "The member is no longer approved." in page and "No approved members." in page


def test_the_overview_shows_automated_actions_beside_manual_ones(web, admin, admin_browser):
    group = web.group()
    target = web.user(group=group, display_name="Flo Flooder", telegram_user_id=777000333)
    manual = web.api.moderation_record(type="warn", group_id=group["id"], actor_user_id=admin["id"],
                                       target_user_id=target["id"], reason="manual one")
    web.api.moderation_complete(manual.action.id, status="executed")
    automated = core(web, "POST", "/api/protection/actions", json={
        "telegram_chat_id": group["telegram_chat_id"], "rule": "antiflood", "type": "mute",
        "target_telegram_user_id": 777000333, "reason": "flood"})
    assert automated.status_code == 201, automated.text
    assert automated.json()["data"]["rule"] == "antiflood"
    web.api.moderation_complete(automated.json()["data"]["id"], status="executed")
    stats = web.api.system_stats()
    html = admin_browser.get("/").text
    text = check_page(admin_browser.get("/"))
    assert "By moderators (24 h)" in text and "Automated (24 h)" in text
    assert f'data-stat="automated_actions_24h">{stats["automated_actions_24h"]}<' in html
    assert f'data-stat="manual_actions_24h">{stats["manual_actions_24h"]}<' in html
    assert stats["automated_actions_24h"] >= 1 and stats["manual_actions_24h"] >= 1
    feed = html.split('id="live-feed"', 1)[1].split("</ol>", 1)[0]
    assert 'by <code class="automated">system:antiflood</code>' in feed  # the audit trail's automated events
    recent = html.split('id="actions-title"', 1)[1].split("</table>", 1)[0]
    rows = {row.split("</tr>")[0] for row in recent.split("<tr>") if "Flo Flooder" in row}
    assert any('<code class="automated">system:antiflood</code>' in row and "flood" in row for row in rows), rows
    assert any(f'>{admin["display_name"]}</a>' in row and "manual one" in row for row in rows), rows
    # The group's hourly chart (and its table) count the automated action among the moderation actions.
    group_page = admin_browser.get(f"/groups/{group['id']}").text
    chart = json.loads(re.search(r'<script id="chart-group-data" type="application/json">(.*?)</script>',
                                 group_page, re.S).group(1))
    totals = {series["key"]: sum(series["data"]) for series in chart["series"]}
    assert (totals["moderation"], totals["automated"]) == (2, 1)
    assert "<th scope=\"col\">Automated (of those)</th>" in group_page
    moderation = admin_browser.get("/moderation", params={"group_id": group["id"]}).text
    assert '<code class="automated">system:antiflood</code>' in moderation and "manual one" in moderation
    automated_only = check_page(admin_browser.get("/moderation", params={"group_id": group["id"], "automated": "true"}))
    assert "system:antiflood" in automated_only and "manual one" not in automated_only
    manual_only = check_page(admin_browser.get("/moderation", params={"group_id": group["id"], "automated": "false"}))
    assert "system:antiflood" not in manual_only and "manual one" in manual_only and "By origin" in manual_only
