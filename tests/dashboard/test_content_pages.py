"""A group's content rules pages without JavaScript, against real core and web processes: the locks table, the
blocklist (bulk paste, a .txt file imported and exported, removal, clearing), filters and notes with their replies
previewed, and the "test a message" box; every change saved in core as the signed-in user (MANAGE_SETTINGS)."""

import re

import httpx
import pytest

from apps.common.contentrules import LOCK_TYPES
from tests.e2e.processes import TEST_KEY, free_port, web_process

from .pages_platform import PageClient, dashboard_platform, signed_in, visible_text  # noqa: F401 (fixture)
from .test_pages import check_page

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def web(dashboard_platform):  # noqa: F811
    return dashboard_platform


def core(web, path: str) -> dict:
    response = httpx.get(f"http://127.0.0.1:{web.core_port}/api{path}", headers={"X-API-Key": TEST_KEY}, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()["data"]


@pytest.fixture(scope="module")
def admin(web):
    return web.user("admin", display_name="Cora Content")


@pytest.fixture(scope="module")
def browser(web, admin):
    return signed_in(web, admin)


def field_error(html: str, field_id: str) -> str:
    match = re.search(rf'<ul class="errorlist" id="{field_id}_error">(.*?)</ul>', html, re.S)
    assert match, f"no error on {field_id}"
    return visible_text(match.group(1)).strip()


def locks_form(html: str) -> dict:
    """The locks form as a browser would send it untouched: every row's values, ticked boxes only."""
    form = html.split('id="locks-form"', 1)[1].split("</form>", 1)[0]
    data = {}
    for match in re.finditer(r"<input ([^>]*)>", form):
        attrs = dict(re.findall(r'(\w[\w-]*)="([^"]*)"', match.group(1)))
        if attrs.get("type") == "checkbox":
            if " checked" in match.group(1):
                data[attrs["name"]] = "on"
        elif attrs.get("name") and attrs["name"] != "csrfmiddlewaretoken":
            data[attrs["name"]] = attrs.get("value", "")
    for match in re.finditer(r'<select name="([^"]+)"[^>]*>(.*?)</select>', form, re.S):
        selected = re.search(r'<option value="([^"]*)"[^>]*selected', match.group(2))
        data[match.group(1)] = selected.group(1) if selected else "delete"
    return data


# -- the group page


def test_the_group_page_counts_the_rules_and_links_every_editor(web, browser):
    group = web.group()
    web.api.locks_update(group["id"], locks={"sticker": {"mode": "delete"}, "poll": {"mode": "warn"}})
    web.api.blocklist_add(group["id"], entries=[{"pattern": "spam"}])
    response = browser.get(f"/groups/{group['id']}")
    assert response.status_code == 200
    text = check_page(response)
    section = response.text.split('id="content-rules"', 1)[1]
    for tab in ("locks", "blocklist", "filters", "notes"):
        assert f'href="/groups/{group["id"]}/{tab}"' in section, tab
    assert "2 locks" in text and "1 blocklist entry" in text and "0 filters" in text
    assert 'id="test-form"' in section and "/static/dashboard/js/content.js" in response.text


# -- locks


def test_the_locks_table_has_a_row_per_lock_type_and_saves_what_changed(web, admin, browser):
    group = web.group()
    page = browser.get(f"/groups/{group['id']}/locks")
    assert page.status_code == 200
    text = check_page(page)
    for kind in LOCK_TYPES:
        assert f'id="lock-{kind}"' in page.text, kind
        assert f'name="{kind}_locked"' in page.text and f'name="{kind}_mode"' in page.text, kind
    assert "Test a message" in text
    data = locks_form(page.text)
    data.update({"sticker_locked": "on", "sticker_reason": "no stickers", "url_locked": "on", "url_mode": "tban",
                 "url_length": "2d", "forward_locked": "on", "forward_mode": "warn"})
    saved = browser.post_form(f"/groups/{group['id']}/locks", {**data, "action": "save"})
    assert saved.status_code == 302, visible_text(saved.text)[:2000]
    assert saved.headers["location"] == f"/groups/{group['id']}/locks?done=locks"
    locks = core(web, f"/groups/{group['id']}/locks")["locks"]
    assert locks == {"sticker": {"mode": "delete", "duration_seconds": None, "reason": "no stickers"},
                     "url": {"mode": "tban", "duration_seconds": 172800, "reason": ""},
                     "forward": {"mode": "warn", "duration_seconds": None, "reason": ""}}
    (event,) = web.api.audit_events(action="protection.lock", group_id=group["id"])["items"]
    assert event["actor_user_id"] == admin["id"]
    # The page shows them as saved: boxes ticked, the length as typed.
    after = browser.get(saved.headers["location"])
    assert "The locks were saved." in check_page(after)
    assert re.search(r'name="url_length"[^>]*value="2d"', after.text)
    again = locks_form(after.text)
    assert {name for name in again if name.endswith("_locked")} == {"sticker_locked", "url_locked",
                                                                  "forward_locked"}
    # The same form again changes nothing; unticking unlocks.
    same = browser.post_form(f"/groups/{group['id']}/locks", {**again, "action": "save"})
    assert same.headers["location"].endswith("done=locks-unchanged")
    del again["sticker_locked"]
    again["expected_version"] = str(core(web, f"/groups/{group['id']}/locks")["version"])
    unlocked = browser.post_form(f"/groups/{group['id']}/locks", {**again, "action": "save"})
    assert unlocked.status_code == 302
    assert set(core(web, f"/groups/{group['id']}/locks")["locks"]) == {"url", "forward"}


def test_a_timed_lock_without_a_length_is_refused_on_its_row(web, browser):
    group = web.group()
    data = locks_form(browser.get(f"/groups/{group['id']}/locks").text)
    data.update({"voice_locked": "on", "voice_mode": "tmute", "gif_locked": "on", "gif_mode": "ban",
                 "gif_length": "soon"})
    response = browser.post_form(f"/groups/{group['id']}/locks", {**data, "action": "save"})
    assert response.status_code == 400
    check_page(response)
    assert "tmute needs a length" in field_error(response.text, "locks_voice_length")
    assert "A length: 30m, 2h, 1d, 1w, or seconds." in field_error(response.text, "locks_gif_length")
    assert core(web, f"/groups/{group['id']}/locks")["locks"] == {}


def test_a_stale_locks_form_is_a_conflict_and_a_moderator_is_refused(web, browser):
    group = web.group()
    data = locks_form(browser.get(f"/groups/{group['id']}/locks").text)
    web.api.locks_update(group["id"], locks={"dice": {"mode": "delete"}})  # another admin, meanwhile
    response = browser.post_form(f"/groups/{group['id']}/locks", {**data, "game_locked": "on", "action": "save"})
    assert response.status_code == 409
    assert "Someone else changed this group&#x27;s settings while you were editing" in check_page(response)
    assert set(core(web, f"/groups/{group['id']}/locks")["locks"]) == {"dice"}
    # Sent again from the form it came back with (now based on the saved version): saved.
    resent = locks_form(response.text)
    assert resent.get("game_locked") == "on" and "dice_locked" not in resent
    assert browser.post_form(f"/groups/{group['id']}/locks", {**resent, "action": "save"},
                             form_page=f"/groups/{group['id']}/locks").status_code == 302
    assert set(core(web, f"/groups/{group['id']}/locks")["locks"]) == {"game"}

    moderator = signed_in(web, web.user("moderator", group=group))
    data = locks_form(moderator.get(f"/groups/{group['id']}/locks").text)
    refused = moderator.post_form(f"/groups/{group['id']}/locks", {**data, "poll_locked": "on", "action": "save"})
    assert refused.status_code == 403
    assert "MANAGE_SETTINGS" in check_page(refused)
    assert set(core(web, f"/groups/{group['id']}/locks")["locks"]) == {"game"}


# -- blocklist


def test_bulk_paste_remove_one_remove_selected_and_clear(web, browser):
    group = web.group()
    path = f"/groups/{group['id']}/blocklist"
    added = browser.post_form(path, {"action": "add", "mode": "", "length": "",
                                     "patterns": "buy*now\nspam | ban | no spam\n\nfree crypto\n# a comment\n"})
    assert added.status_code == 302, visible_text(added.text)[:2000]
    page = browser.get(added.headers["location"])
    text = check_page(page)
    assert "Blocklist: 3 added, 0 updated." in text
    items = core(web, f"/groups/{group['id']}/blocklist")["items"]
    assert [(item["pattern"], item["mode"], item["reason"]) for item in items] == [
        ("buy*now", None, ""), ("spam", "ban", "no spam"), ("free crypto", None, "")]
    for pattern in ("buy*now", "spam", "free crypto"):
        assert f"<code>{pattern}</code>" in page.text
    # A default mode for the lines without one.
    browser.post_form(path, {"action": "add", "mode": "tmute", "length": "1h", "patterns": "scam\n"})
    assert next(item for item in core(web, f"/groups/{group['id']}/blocklist")["items"]
                if item["pattern"] == "scam")["duration_seconds"] == 3600
    one = browser.post_form(path, {"action": "remove", "pattern": "spam"})
    assert one.headers["location"].endswith("done=removed-1")
    selected = browser.http.post(path, data={"csrfmiddlewaretoken": browser.csrf_token(path), "action": "remove",
                                             "patterns": ["buy*now", "scam"]},
                                 headers={"Referer": f"{web.url}{path}"})
    assert selected.status_code == 302 and selected.headers["location"].endswith("done=removed-2")
    unconfirmed = browser.post_form(path, {"action": "clear"})
    assert unconfirmed.status_code == 400 and "Tick the box" in check_page(unconfirmed)
    cleared = browser.post_form(path, {"action": "clear", "confirm": "yes"})
    assert cleared.headers["location"].endswith("done=cleared")
    assert core(web, f"/groups/{group['id']}/blocklist")["items"] == []


def test_a_pasted_line_that_cannot_be_read_is_named_and_nothing_is_added(web, browser):
    group = web.group()
    path = f"/groups/{group['id']}/blocklist"
    response = browser.post_form(path, {"action": "add", "mode": "", "length": "",
                                        "patterns": "fine\nbad | tban\n"})
    assert response.status_code == 400
    check_page(response)
    assert "Line 2: tban needs a length" in field_error(response.text, "blocklist_patterns")
    assert "fine\nbad | tban" in response.text  # the paste comes back as typed
    core_refused = browser.post_form(path, {"action": "add", "mode": "", "length": "", "patterns": "***\n"})
    assert core_refused.status_code == 400 and 'class="errornote"' in core_refused.text  # core's reason
    assert core(web, f"/groups/{group['id']}/blocklist")["items"] == []


def test_the_file_is_exported_and_imported(web, browser):
    group, other = web.group("Spam Fighters"), web.group()
    web.api.blocklist_add(group["id"], entries=[{"pattern": "buy*now"}, {"pattern": "a|b", "mode": "warn",
                                                                          "reason": "bars"}])
    exported = browser.get(f"/groups/{group['id']}/blocklist.txt")
    assert exported.status_code == 200
    assert exported.headers["content-disposition"] == 'attachment; filename="blocklist-spam-fighters.txt"'
    assert exported.text.splitlines()[-2:] == ["buy*now", "a\\|b | warn | bars"]
    path = f"/groups/{other['id']}/blocklist"
    imported = browser.http.post(f"{path}/import", data={"csrfmiddlewaretoken": browser.csrf_token(path)},
                                 files={"file": ("list.txt", exported.content, "text/plain")},
                                 headers={"Referer": f"{web.url}{path}"})
    assert imported.status_code == 302, visible_text(imported.text)[:2000]
    assert imported.headers["location"].endswith("done=added-2-0")
    assert [(i["pattern"], i["mode"], i["reason"]) for i in core(web, f"/groups/{other['id']}/blocklist")["items"]] \
        == [("buy*now", None, ""), ("a|b", "warn", "bars")]
    for content, problem in ((b"ok\nx | explode\n", 'Line 2: unknown mode "explode"'),
                             (b"\xff\xfe not utf-8", "The file is not UTF-8 text."),
                             (b"# nothing\n", "The file holds no entry")):
        refused = browser.http.post(f"{path}/import", data={"csrfmiddlewaretoken": browser.csrf_token(path)},
                                    files={"file": ("list.txt", content, "text/plain")},
                                    headers={"Referer": f"{web.url}{path}"})
        assert refused.status_code == 400
        check_page(refused)
        assert problem in field_error(refused.text, "import_file").replace("&quot;", '"')
    assert len(core(web, f"/groups/{other['id']}/blocklist")["items"]) == 2


def test_the_blocklist_settings_are_saved_from_its_page(web, browser):
    group = web.group()
    path = f"/groups/{group['id']}/blocklist"
    version = core(web, f"/groups/{group['id']}/protection")["version"]
    saved = browser.post_form(path, {"action": "settings", "expected_version": str(version),
                                     "blocklist_action": "tban", "blocklist_action_duration_seconds": "3d",
                                     "blocklist_delete": "on", "blocklist_joiner_names": "on"})
    assert saved.status_code == 302, visible_text(saved.text)[:2000]
    settings = core(web, f"/groups/{group['id']}/protection")
    assert (settings["blocklist_action"], settings["blocklist_action_duration_seconds"],
            settings["blocklist_joiner_names"]) == ("tban", 259200, True)
    # Entries without a mode of their own show the group's.
    web.api.blocklist_add(group["id"], entries=[{"pattern": "spam"}])
    assert "the group's (tban)" in check_page(browser.get(path))


# -- filters and notes


def test_a_filter_is_added_previewed_edited_and_removed(web, browser):
    group = web.group("Filter Group")
    path = f"/groups/{group['id']}/filters"
    reply = "<b>Hello</b> {first}, welcome to {chatname}\n[Rules](buttonurl://https://example.com/r)\n" \
            "[FAQ](buttonurl://https://example.com/f:same)"
    preview = browser.post_form(path, {"action": "preview", "trigger": "hi there", "match": "word", "text": reply,
                                       "media_type": "", "media_file_id": ""})
    assert preview.status_code == 200
    text = check_page(preview)
    bubble = preview.text.split('id="filter-preview"', 1)[1]
    assert "<strong>Hello</strong> Sam, welcome to Filter Group" in bubble  # the sample member: no Telegram link
    assert re.search(r'<div class="tg-row"><span class="tg-button" title="https://example.com/r">Rules</span>'
                     r'<span class="tg-button" title="https://example.com/f">FAQ</span></div>', bubble)
    assert "buttonurl" not in bubble.split("</div>", 1)[0]
    assert core(web, f"/groups/{group['id']}/filters")["items"] == []  # a preview saves nothing
    assert "As Sam Sample (a sample member) would see it" in text

    saved = browser.post_form(path, {"action": "save", "trigger": "hi there", "match": "word", "text": reply,
                                     "media_type": "", "media_file_id": ""})
    assert saved.status_code == 302, visible_text(saved.text)[:2000]
    (item,) = core(web, f"/groups/{group['id']}/filters")["items"]
    assert item["text"] == "<b>Hello</b> {first}, welcome to {chatname}"
    assert item["buttons"] == [[{"text": "Rules", "url": "https://example.com/r"},
                                {"text": "FAQ", "url": "https://example.com/f"}]]
    listed = browser.get(path)
    assert "<code>hi there</code>" in listed.text and "1 row of buttons" in check_page(listed)
    # Editing shows the text with its buttons typed back in.
    edit = browser.get(f"{path}?edit={item['id']}")
    assert "Edit the filter" in check_page(edit)
    assert ("[Rules](buttonurl://https://example.com/r)\n[FAQ](buttonurl://https://example.com/f:same)"
            in edit.text.replace("&#x27;", "'"))
    removed = browser.post_form(path, {"action": "remove", "trigger": "hi there"})
    assert removed.status_code == 302
    assert core(web, f"/groups/{group['id']}/filters")["items"] == []
    # A row's Remove stops that filter only when another match of the same trigger is there.
    web.api.filter_save(group["id"], trigger="hey", match="word", text="word")
    web.api.filter_save(group["id"], trigger="hey", match="prefix", text="prefix")
    listed = browser.get(path).text
    assert 'name="trigger" value="prefix:hey"' in listed and 'name="trigger" value="hey"' in listed
    browser.post_form(path, {"action": "remove", "trigger": "prefix:hey"})
    assert [item["match"] for item in core(web, f"/groups/{group['id']}/filters")["items"]] == ["word"]


def test_a_filter_without_a_reply_or_with_half_a_media_is_refused(web, browser):
    group = web.group()
    path = f"/groups/{group['id']}/filters"
    empty = browser.post_form(path, {"action": "save", "trigger": "x", "match": "word", "text": " ",
                                     "media_type": "", "media_file_id": ""})
    assert empty.status_code == 400 and "A reply needs a text or a media." in field_error(empty.text, "filter_text")
    half = browser.post_form(path, {"action": "save", "trigger": "x", "match": "word", "text": "",
                                    "media_type": "photo", "media_file_id": ""})
    assert half.status_code == 400 and "file id" in field_error(half.text, "filter_media_file_id")
    bad_url = browser.post_form(path, {"action": "save", "trigger": "x", "match": "word",
                                       "text": "hi\n[Go](buttonurl://javascript:alert(1))", "media_type": "",
                                       "media_file_id": ""})
    assert bad_url.status_code in (200, 302, 400)  # not a button (only http(s) and tg://): left as text or refused
    assert "Traceback" not in bad_url.text


def test_a_note_is_saved_with_media_previewed_and_removed(web, browser):
    group = web.group()
    path = f"/groups/{group['id']}/notes"
    saved = browser.post_form(path, {"action": "save", "name": "Rules", "text": "Be <i>nice</i>",
                                     "media_type": "photo", "media_file_id": "AgACAgIAAx"})
    assert saved.status_code == 302, visible_text(saved.text)[:2000]
    note = web.api.note_get(group["id"], "rules")
    assert (note["text"], note["media_type"], note["media_file_id"]) == ("Be <i>nice</i>", "photo", "AgACAgIAAx")
    edit = browser.get(f"{path}?edit=rules")
    text = check_page(edit)
    assert "Edit the note #rules" in text and "under a photo" in text
    assert "<em>nice</em>" in edit.text.split('id="note-preview"', 1)[1]
    bad = browser.post_form(path, {"action": "save", "name": "no spaces", "text": "x", "media_type": "",
                                   "media_file_id": ""})
    assert bad.status_code == 400 and "Letters, digits" in field_error(bad.text, "note_name")
    assert browser.get(f"{path}?edit=missing").status_code == 400
    assert browser.post_form(path, {"action": "remove", "name": "rules"}).status_code == 302
    assert core(web, f"/groups/{group['id']}/notes")["items"] == []


def test_the_reply_preview_fragment(web, browser):
    group = web.group()
    fragment = browser.get(f"/groups/{group['id']}/replies/preview",
                           params={"text": "<b>x</b> <a href='https://example.com'>y</a>", "media_type": "sticker"})
    assert fragment.status_code == 200
    assert "<strong>x</strong>" in fragment.text and "under a sticker" in fragment.text
    assert '<a href="https://example.com" rel="noopener noreferrer nofollow">y</a>' in fragment.text
    # A tag Telegram does not know: it would refuse the text, which is shown as typed, escaped.
    refused = browser.get(f"/groups/{group['id']}/replies/preview", params={"text": "<script>alert(1)</script>"})
    assert "<script>" not in refused.text and "&lt;script&gt;" in refused.text
    assert "Telegram would refuse this text." in refused.text
    assert browser.get(f"/groups/{group['id']}/replies/preview", params={"media_type": "tank"}).status_code == 400
    assert browser.get(f"/groups/{group['id']}/replies/preview", params={"text": "x" * 9000}).status_code == 400


# -- the test box


def test_the_test_box_shows_the_verdict_and_why(web, browser):
    group = web.group()
    web.api.locks_update(group["id"], locks={"url": {"mode": "tmute", "duration_seconds": 3600, "reason": "no ads"}})
    web.api.blocklist_add(group["id"], entries=[{"pattern": "buy*now", "mode": "ban"}])
    path = f"/groups/{group['id']}/test"
    assert "Test a message" in check_page(browser.get(path))
    fired = browser.post_form(path, {"text": "buynow at https://example.com", "message_json": ""})
    assert fired.status_code == 200
    text = check_page(fired)
    assert "The bot would act: url is locked" in text and "tmute for 1h" in text and "no ads" in text
    assert "Blocklist entries it matches buy*now" in text
    passes = browser.post_form(path, {"text": "hello", "message_json": ""})
    assert "No lock or blocklist entry applies" in check_page(passes)
    # content.js asks for the result alone.
    token = browser.csrf_token(path)
    fragment = browser.http.post(path, data={"csrfmiddlewaretoken": token, "text": "buy-now", "message_json": ""},
                                 headers={"Referer": f"{web.url}{path}", "X-Fragment": "1"})
    assert fragment.status_code == 200 and "<main" not in fragment.text
    assert 'matches blocklist entry "buy*now"' in visible_text(fragment.text).replace("&quot;", '"')
    sticker = '{"message_id": 1, "date": 0, "chat": {"id": 1, "type": "supergroup"}, "sticker": {"file_id": "x"}}'
    web.api.locks_update(group["id"], locks={"sticker": {"mode": "delete"}})
    by_json = browser.post_form(path, {"text": "", "message_json": sticker})
    assert "sticker is locked" in check_page(by_json)
    for data, problem in (({"text": "", "message_json": ""}, "Type a message to test"),
                          ({"text": "", "message_json": "{nope"}, "Not JSON"),
                          ({"text": "", "message_json": "[1]"}, "A Telegram message is a JSON object")):
        refused = browser.post_form(path, data)
        assert refused.status_code == 400 and problem in check_page(refused), problem


def test_core_down_is_a_503_page_with_a_banner(web, browser, tmp_path_factory):
    port = free_port()
    process = web_process(tmp_path_factory.mktemp("lonely-content-pages"), port, free_port(),
                          name="web-lonely-content-pages", env=web.web_env()).start()
    try:
        lonely = PageClient(f"http://127.0.0.1:{port}").copy_session(browser)
        for path in ("/groups/1/locks", "/groups/1/blocklist", "/groups/1/blocklist.txt", "/groups/1/filters",
                     "/groups/1/notes", "/groups/1/test"):
            response = lonely.get(path)
            assert response.status_code == 503, path
            assert response.headers["retry-after"] == "5"
            assert "Core unavailable" in check_page(response)
    finally:
        process.stop()
