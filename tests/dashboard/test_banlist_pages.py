"""The ban-list pages without JavaScript, against real core and web processes: the lists the user may view and a new
one, a list's overview (summary, propagation, admins promoted and demoted, groups, follows, settings, deletion), its
bans (search, filter, add, unban), its history with filters, a CSV or JSON file imported (or refused with its rows at
fault) and exported through web, and on a user's page the lists they are on. Every write is core's, made as the
signed-in user; every refusal shows core's words."""

import html
import json
import re

import httpx
import pytest

from tests.e2e.processes import TEST_KEY

from .pages_platform import dashboard_platform, signed_in, visible_text  # noqa: F401 (fixture)
from .test_pages import check_page

pytestmark = pytest.mark.e2e

_telegram_ids = iter(range(7_300_000_001, 7_400_000_000))


def telegram_id() -> int:
    return next(_telegram_ids)


@pytest.fixture(scope="module")
def web(dashboard_platform):  # noqa: F811
    return dashboard_platform


def core(web, path: str, **params) -> dict:
    response = httpx.get(f"http://127.0.0.1:{web.core_port}/api{path}", params=params,
                         headers={"X-API-Key": TEST_KEY}, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()["data"]


@pytest.fixture
def owner(web):
    """A new user per test (core limits the lists one may own), with no global role."""
    return web.user(telegram_user_id=telegram_id(), display_name="Petra Pages")


@pytest.fixture
def browser(web, owner):
    return signed_in(web, owner)


def create(browser, name: str) -> str:
    response = browser.post_form("/banlists", {"name": name})
    assert response.status_code == 302, visible_text(response.text)[:2000]
    match = re.fullmatch(r"/banlists/([0-9a-f]+)\?done=created", response.headers["location"])
    assert match, response.headers["location"]
    return match.group(1)


def error_text(html: str) -> str:
    return " ".join(visible_text(part.split("</div>", 1)[0])
                    for part in html.split('class="errornote" role="alert"')[1:])


def test_the_nav_links_the_ban_lists_and_a_new_list_is_created_and_shown(web, owner, browser):
    home = browser.get("/")
    assert '<a href="/banlists"' in home.text
    empty = browser.get("/banlists")
    assert empty.status_code == 200
    text = check_page(empty)
    assert "Create a ban list" in text and 'aria-current="page">Ban lists' in empty.text
    list_id = create(browser, "Page spam watch")
    page = browser.get(f"/banlists/{list_id}?done=created")
    text = check_page(page)
    assert "The ban list was created. You are its owner." in text
    assert "Page spam watch" in text and "Petra Pages" in text and f"/joinfed {list_id}" in text
    assert 'id="propagation-progress"' in page.text
    for tab in ("bans", "history", "import"):
        assert f'href="/banlists/{list_id}/{tab}"' in page.text
    listed = browser.get("/banlists?q=Page+spam")
    assert f'href="/banlists/{list_id}"' in check_page(listed) or f'href="/banlists/{list_id}"' in listed.text
    # A blank name is refused on the form, nothing created.
    refused = browser.post_form("/banlists", {"name": ""})
    assert refused.status_code == 400
    assert "This field is required." in check_page(refused)


def test_a_ban_is_added_searched_and_lifted_on_the_bans_tab(web, owner, browser):
    list_id = create(browser, "Bans tab list")
    target, other = telegram_id(), telegram_id()
    added = browser.post_form(f"/banlists/{list_id}/bans", {"action": "ban", "telegram_user_id": str(target),
                                                            "reason": "crypto spam"})
    assert added.status_code == 302, visible_text(added.text)[:2000]
    assert added.headers["location"] == f"/banlists/{list_id}/bans?done=banned-0"
    browser.post_form(f"/banlists/{list_id}/bans", {"action": "ban", "telegram_user_id": str(other)})
    page = browser.get(added.headers["location"])
    text = check_page(page)
    assert "Banned. The ban reaches 0 groups" in text
    assert str(target) in text and "crypto spam" in text and str(other) in text
    (ban,) = core(web, f"/banlists/{list_id}/bans", telegram_user_id=target)["items"]
    assert ban["banned_by"]["id"] == owner["id"]

    found = browser.get(f"/banlists/{list_id}/bans?q={target}")
    text = check_page(found)
    assert str(target) in text and str(other) not in text
    by_reason = browser.get(f"/banlists/{list_id}/bans?q=crypto")
    assert str(target) in visible_text(by_reason.text) and str(other) not in visible_text(by_reason.text)

    # Banning again updates the reason; a bad id is refused on its field.
    again = browser.post_form(f"/banlists/{list_id}/bans", {"action": "ban", "telegram_user_id": str(target),
                                                            "reason": "scam"})
    assert again.headers["location"].endswith("done=updated")
    bad = browser.post_form(f"/banlists/{list_id}/bans", {"action": "ban", "telegram_user_id": "abc"})
    assert bad.status_code == 400 and "Enter a whole number." in check_page(bad)

    lifted = browser.post_form(f"/banlists/{list_id}/bans", {"action": "unban", "telegram_user_id": str(target)})
    assert lifted.status_code == 302
    assert lifted.headers["location"] == f"/banlists/{list_id}/bans?done=unbanned-0"
    after = visible_text(browser.get(f"/banlists/{list_id}/bans").text)
    assert str(target) not in after and str(other) in after
    lifted_page = browser.get(f"/banlists/{list_id}/bans?active=false")
    text = check_page(lifted_page)
    assert "Lifted bans" in text and str(target) in text and str(other) not in text
    assert browser.get(f"/banlists/{list_id}/bans?active=maybe").status_code == 400

    history = browser.get(f"/banlists/{list_id}/history")
    text = check_page(history)
    assert "Unban" in text and "Ban" in text and "crypto spam" in text
    unbans = visible_text(browser.get(f"/banlists/{list_id}/history?kind=unban").text)
    assert str(target) in unbans and str(other) not in unbans
    by_user = visible_text(browser.get(f"/banlists/{list_id}/history?telegram_user_id={other}").text)
    assert str(other) in by_user and "crypto spam" not in by_user
    mine = browser.get(f"/banlists/{list_id}/history?actor_user_id={owner['id']}&since=2020-01-01T00:00")
    assert mine.status_code == 200 and str(target) in visible_text(mine.text)
    assert browser.get(f"/banlists/{list_id}/history?kind=mute").status_code == 400
    assert browser.get(f"/banlists/{list_id}/history?actor_user_id=bad").status_code == 400


def test_someone_without_the_permission_sees_core_s_refusal_naming_it(web, browser):
    list_id = create(browser, "Guarded list")
    stranger = signed_in(web, web.user(telegram_user_id=telegram_id()))
    page = stranger.get(f"/banlists/{list_id}")
    assert page.status_code == 403
    assert "BAN_LIST_VIEW" in check_page(page)
    assert f'href="/banlists/{list_id}"' not in stranger.get("/banlists").text
    # A list admin may ban but not promote: the refusal names MANAGE_ROLES on the form.
    admin = web.user(telegram_user_id=telegram_id())
    promoted = browser.post_form(f"/banlists/{list_id}", {"action": "promote",
                                                          "telegram_user_id": str(admin["telegram_user_id"])})
    assert promoted.status_code == 302 and promoted.headers["location"].endswith("done=promoted#admins")
    overview = browser.get(f"/banlists/{list_id}")
    assert str(admin["telegram_user_id"]) in overview.text and "banlist_admin" in overview.text
    admin_browser = signed_in(web, admin)
    refused = admin_browser.post_form(f"/banlists/{list_id}", {"action": "promote",
                                                               "telegram_user_id": str(telegram_id())})
    assert refused.status_code == 403
    assert "MANAGE_ROLES" in error_text(refused.text)
    assert admin_browser.post_form(f"/banlists/{list_id}/bans", {"action": "ban",
                                                                 "telegram_user_id": str(telegram_id())}
                                   ).status_code == 302
    demoted = browser.post_form(f"/banlists/{list_id}", {"action": "demote", "user_id": admin["id"]})
    assert demoted.status_code == 302 and "done=demoted" in demoted.headers["location"]
    banned = admin_browser.post_form(f"/banlists/{list_id}/bans", {"action": "ban",
                                                                   "telegram_user_id": str(telegram_id())})
    assert banned.status_code == 403 and "BAN_LIST_VIEW" in check_page(banned)  # not even the list, now


def test_groups_follows_settings_and_deletion_on_the_overview(web, owner, browser):
    list_id = create(browser, "Overview list")
    group = web.group("Following group")
    refused = browser.post_form(f"/banlists/{list_id}", {"action": "subscribe", "group": group["id"]})
    assert refused.status_code == 403 and "BAN_LIST_SUBSCRIBE" in error_text(refused.text)
    web.api.member_set(group["id"], user_id=owner["id"])
    web.api.assign_role(user_id=owner["id"], role="owner", group_id=group["id"])
    joined = browser.post_form(f"/banlists/{list_id}", {"action": "subscribe",
                                                        "group": str(group["telegram_chat_id"])})
    assert joined.status_code == 302, error_text(joined.text)
    assert joined.headers["location"] == f"/banlists/{list_id}?done=subscribed#groups"
    overview = browser.get(joined.headers["location"].split("#")[0])
    text = html.unescape(check_page(overview))
    assert "The group now follows this list's bans." in text and "Following group" in text
    bad = browser.post_form(f"/banlists/{list_id}", {"action": "subscribe", "group": "chat"})
    assert bad.status_code == 400

    source = create(browser, "Source list")
    followed = browser.post_form(f"/banlists/{list_id}", {"action": "follow", "source_id": source})
    assert followed.status_code == 302, error_text(followed.text)
    assert "Source list" in visible_text(browser.get(f"/banlists/{list_id}").text)
    cycle = browser.post_form(f"/banlists/{source}", {"action": "follow", "source_id": list_id})
    assert cycle.status_code == 400
    assert 'id="follow_source_id_error"' in cycle.text or error_text(cycle.text), "core's refusal is shown"
    check_page(cycle)
    unfollowed = browser.post_form(f"/banlists/{list_id}", {"action": "unfollow", "source_id": source})
    assert unfollowed.status_code == 302
    left = browser.post_form(f"/banlists/{list_id}", {"action": "unsubscribe", "group_id": group["id"]})
    assert left.status_code == 302
    assert core(web, f"/banlists/{list_id}")["groups_count"] == 0

    saved = browser.post_form(f"/banlists/{list_id}", {"action": "settings", "name": "Renamed list",
                                                       "log_chat_id": "-1001234567890"})
    assert saved.status_code == 302, error_text(saved.text)
    stored = core(web, f"/banlists/{list_id}")
    assert (stored["name"], stored["log_chat_id"]) == ("Renamed list", -1001234567890)
    not_confirmed = browser.post_form(f"/banlists/{list_id}", {"action": "delete"})
    assert not_confirmed.status_code == 400 and "Tick the box" in error_text(not_confirmed.text)
    deleted = browser.post_form(f"/banlists/{list_id}", {"action": "delete", "confirm": "yes"})
    assert deleted.headers["location"] == "/banlists?done=deleted"
    assert "The ban list was deleted." in check_page(browser.get(deleted.headers["location"]))
    assert browser.get(f"/banlists/{list_id}").status_code == 404


def post_file(browser, path: str, name: str, content: bytes, format: str) -> httpx.Response:
    token = browser.csrf_token(path)
    return browser.http.post(path, data={"csrfmiddlewaretoken": token, "format": format},
                             files={"file": (name, content, "text/plain")},
                             headers={"Referer": f"{browser.http.base_url}{path}"})


def test_a_file_is_imported_or_refused_with_its_rows_at_fault_and_exported(web, browser):
    list_id = create(browser, "Imported list")
    ids = [telegram_id() for _ in range(3)]
    csv_file = f"telegram_user_id,reason,date\n{ids[0]},spam,2026-01-02T03:04:05Z\n{ids[1]},,\n{ids[2]},bot,\n"
    done = post_file(browser, f"/banlists/{list_id}/import", "cas.csv", csv_file.encode(), "csv")
    assert done.status_code == 302, error_text(done.text)
    assert done.headers["location"] == f"/banlists/{list_id}/import?done=imported-3-0-0"
    assert "Imported: 3 added, 0 updated, 0 unchanged." in check_page(browser.get(done.headers["location"]))

    refused = post_file(browser, f"/banlists/{list_id}/import", "bad.csv", f"{telegram_id()}\nabc\n-5\n".encode(),
                        "csv")
    assert refused.status_code == 400
    faults = visible_text(refused.text.split('id="import-faults"', 1)[1].split("</div>", 1)[0])
    assert "Nothing was imported" in faults and "Row 2" in faults and "Row 3" in faults
    check_page(refused)
    assert core(web, f"/banlists/{list_id}")["bans_count"] == 3

    as_json = post_file(browser, f"/banlists/{list_id}/import", "list.json",
                        json.dumps([ids[0], {"telegram_user_id": telegram_id(), "reason": "json"}]).encode(), "json")
    assert as_json.headers["location"] == f"/banlists/{list_id}/import?done=imported-1-0-1"
    not_json = post_file(browser, f"/banlists/{list_id}/import", "x.json", b"[1,", "json")
    assert not_json.status_code == 400 and "Not JSON" in visible_text(not_json.text)
    no_file = browser.post_form(f"/banlists/{list_id}/import", {"format": "csv"})
    assert no_file.status_code == 400

    page = browser.get(f"/banlists/{list_id}/import")
    assert f'href="/banlists/{list_id}/export.csv"' in page.text and f'href="/banlists/{list_id}/export.json"' \
        in page.text
    exported = browser.get(f"/banlists/{list_id}/export.csv")
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    assert f'attachment; filename="banlist-{list_id}.csv"' == exported.headers["content-disposition"]
    lines = exported.text.strip().splitlines()
    assert lines[0] == "telegram_user_id,reason,date" and len(lines) == 5
    rows = browser.get(f"/banlists/{list_id}/export.json").json()
    assert {row["telegram_user_id"] for row in rows} >= set(ids)
    assert browser.get(f"/banlists/{list_id}/export.xml").status_code == 404


def test_a_user_s_page_shows_the_lists_they_are_on(web, browser):
    list_id = create(browser, "Listed on user page")
    person = web.user("admin", telegram_user_id=telegram_id())  # an admin may read users' pages
    banned = browser.post_form(f"/banlists/{list_id}/bans", {"action": "ban",
                                                             "telegram_user_id": str(person["telegram_user_id"]),
                                                             "reason": "seen spamming"})
    assert banned.status_code == 302
    viewer = signed_in(web, web.user("admin"))
    page = viewer.get(f"/users/{person['id']}")
    text = check_page(page)
    section = visible_text(page.text.split('id="banlists-title"', 1)[1].split("</section>", 1)[0])
    assert "Listed on user page" in section and "seen spamming" in section
    assert f'href="/banlists/{list_id}"' in page.text
    clean = viewer.get(f"/users/{web.user(telegram_user_id=telegram_id())['id']}")
    assert "On no ban list you can see." in check_page(clean)
    assert "Ban lists" in text
