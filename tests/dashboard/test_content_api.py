"""Web's REST API for a group's content rules (locks, blocklist with its text file, filters, notes) and the "test a
message" box, against real core and web processes: relayed to core as the token user (core checks MANAGE_SETTINGS,
audits, bumps the settings version), every JSON answer checked against web's own OpenAPI schema."""

import httpx
import pytest

from apps.common.contentrules import LOCK_TYPES
from tests.e2e.processes import TEST_KEY, free_port, web_process
from tests.e2e.test_web_api import Browser, Schema, error

from .pages_platform import browser_for, dashboard_platform  # noqa: F401 (fixture)

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def web(dashboard_platform):  # noqa: F811
    return dashboard_platform


@pytest.fixture(scope="module")
def schema(web) -> Schema:
    response = httpx.get(f"{web.url}/api/schema?format=json", timeout=10)
    assert response.status_code == 200
    return Schema(response.json())


def core(web, method: str, path: str, **kwargs) -> dict:
    """Core's own answer (the tests' service key): what is stored, whatever web says."""
    response = httpx.request(method, f"http://127.0.0.1:{web.core_port}/api{path}", headers={"X-API-Key": TEST_KEY},
                             timeout=10, **kwargs)
    assert response.status_code == 200, response.text
    return response.json()["data"]


@pytest.fixture(scope="module")
def admin(web, schema):
    user = web.user("admin")
    return user, browser_for(web, schema, user)


@pytest.fixture(scope="module")
def moderator(web, schema):
    """A moderator of one group: VIEW_GROUPS there, not MANAGE_SETTINGS."""
    group = web.group()
    user = web.user("moderator", group=group)
    return group, browser_for(web, schema, user)


def audit_actions(web, group: dict, action: str) -> list[dict]:
    return web.api.audit_events(action=action, group_id=group["id"])["items"]


# -- locks


def test_locks_are_read_locked_changed_and_unlocked_as_the_token_user(web, admin):
    user, browser = admin
    group = web.group()
    first = browser.get(f"/api/groups/{group['id']}/locks")
    assert first.status_code == 200, first.text
    assert first.json()["data"]["locks"] == {}
    version = first.json()["data"]["version"]
    response = browser.request("PATCH", f"/api/groups/{group['id']}/locks", json={
        "expected_version": version, "locks": {
            "sticker": {"mode": "delete"}, "url": {"mode": "tban", "duration_seconds": 86400, "reason": "no links"}}})
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert data["version"] == version + 1
    assert data["locks"]["url"] == {"mode": "tban", "duration_seconds": 86400, "reason": "no links"}
    assert data["locks"]["sticker"]["mode"] == "delete"
    assert core(web, "GET", f"/groups/{group['id']}/locks") == data
    (event,) = audit_actions(web, group, "protection.lock")
    assert event["actor_user_id"] == user["id"]

    unlocked = browser.request("PATCH", f"/api/groups/{group['id']}/locks", json={"locks": {"sticker": None}})
    assert unlocked.status_code == 200, unlocked.text
    assert set(unlocked.json()["data"]["locks"]) == {"url"}
    # The settings view (GET .../protection) shows the same locks.
    assert set(browser.get(f"/api/groups/{group['id']}/protection").json()["data"]["locks"]) == {"url"}


@pytest.mark.parametrize(("body", "field"), [
    ({"locks": {"stickerz": {"mode": "delete"}}}, "locks"),  # unknown type: web names the types
    ({"locks": {"sticker": {"mode": "explode"}}}, "locks"),
    ({"locks": {"sticker": {"mode": "tmute"}}}, "locks"),  # a timed mode needs a length
    ({"locks": {"sticker": {"mode": "ban", "duration_seconds": 3600}}}, "locks"),  # only a timed mode takes one
    ({"locks": {"sticker": {"mode": "tban", "duration_seconds": 5}}}, "locks"),  # Telegram reads < 30 s as forever
    ({"locks": {}}, "locks"),
    ({"locks": {"sticker": {"mode": "delete"}}, "version": 3}, "version"),
])
def test_bad_locks_are_400_naming_the_field_and_write_nothing(web, admin, body, field):
    _, browser = admin
    group = web.group()
    answer = error(browser.request("PATCH", f"/api/groups/{group['id']}/locks", json=body), 400, "validation_error")
    assert field in answer["details"], answer
    assert core(web, "GET", f"/groups/{group['id']}/locks")["locks"] == {}


def test_unknown_lock_type_lists_the_lock_types(web, admin):
    _, browser = admin
    group = web.group()
    answer = error(browser.request("PATCH", f"/api/groups/{group['id']}/locks",
                                   json={"locks": {"stickerz": {"mode": "delete"}}}), 400, "validation_error")
    assert "stickerz" in str(answer["details"]) and "videonote" in str(answer["details"])


def test_a_stale_expected_version_is_409_and_writes_nothing(web, admin):
    _, browser = admin
    group = web.group()
    version = core(web, "GET", f"/groups/{group['id']}/locks")["version"]
    assert browser.request("PATCH", f"/api/groups/{group['id']}/locks",
                           json={"expected_version": version, "locks": {"poll": {"mode": "warn"}}}).status_code == 200
    error(browser.request("PATCH", f"/api/groups/{group['id']}/locks",
                          json={"expected_version": version, "locks": {"dice": {"mode": "warn"}}}), 409, "conflict")
    assert set(core(web, "GET", f"/groups/{group['id']}/locks")["locks"]) == {"poll"}


def test_without_manage_settings_every_write_is_403_naming_it_and_reads_pass(web, moderator):
    group, browser = moderator
    gid = group["id"]
    for path in ("locks", "blocklist", "filters", "notes"):
        assert browser.get(f"/api/groups/{gid}/{path}").status_code == 200, path
    writes = [
        ("PATCH", f"/api/groups/{gid}/locks", {"locks": {"sticker": {"mode": "delete"}}}),
        ("POST", f"/api/groups/{gid}/blocklist", {"entries": [{"pattern": "spam"}]}),
        ("POST", f"/api/groups/{gid}/blocklist/import", {"text": "spam\n"}),
        ("POST", f"/api/groups/{gid}/blocklist/remove", {"patterns": ["spam"]}),
        ("POST", f"/api/groups/{gid}/blocklist/clear", {}),
        ("POST", f"/api/groups/{gid}/filters", {"trigger": "hi", "text": "hello"}),
        ("POST", f"/api/groups/{gid}/filters/remove", {"triggers": ["hi"]}),
        ("POST", f"/api/groups/{gid}/filters/clear", {}),
        ("POST", f"/api/groups/{gid}/notes", {"name": "rules", "text": "be nice"}),
        ("POST", f"/api/groups/{gid}/notes/remove", {"names": ["rules"]}),
        ("POST", f"/api/groups/{gid}/notes/clear", {}),
    ]
    before = core(web, "GET", f"/groups/{gid}/protection")
    for method, path, body in writes:
        answer = error(browser.request(method, path, json=body), 403, "permission_denied")
        assert answer["details"]["permission"] == "MANAGE_SETTINGS", path
    assert core(web, "GET", f"/groups/{gid}/protection") == before
    # The test box only reads: VIEW_GROUPS is enough.
    assert browser.post(f"/api/groups/{gid}/protection/test", {"text": "hello"}).status_code == 200


def test_another_group_s_rules_are_403_naming_view_groups(web, moderator):
    _, browser = moderator
    other = web.group()
    for path in ("locks", "blocklist", "filters", "notes", "blocklist.txt"):
        answer = error(browser.get(f"/api/groups/{other['id']}/{path}"), 403, "permission_denied")
        assert answer["details"]["permission"] == "VIEW_GROUPS", path
    answer = error(browser.post(f"/api/groups/{other['id']}/protection/test", {"text": "x"}), 403,
                   "permission_denied")
    assert answer["details"]["permission"] == "VIEW_GROUPS"


def test_unknown_and_invalid_group_ids(web, admin):
    _, browser = admin
    error(browser.get("/api/groups/999999/locks"), 404, "not_found")
    error(browser.post("/api/groups/999999/blocklist", {"entries": [{"pattern": "x"}]}), 404, "not_found")
    error(browser.get("/api/groups/not-an-id!/filters"), 400, "invalid_id")
    error(browser.get("/api/groups/999999/blocklist.txt"), 404, "not_found")


# -- blocklist


def test_blocklist_add_update_remove_and_clear(web, admin):
    user, browser = admin
    group = web.group()
    gid = group["id"]
    added = browser.post(f"/api/groups/{gid}/blocklist", {"entries": [
        {"pattern": "buy*now"}, {"pattern": "scam", "mode": "tban", "duration_seconds": 7200, "reason": "no scams"}]})
    assert added.status_code == 200, added.text
    assert (added.json()["data"]["added"], added.json()["data"]["updated"]) == (2, 0)
    # The same pattern in another case (and a look-alike letter) is the same entry: updated, not added.
    again = browser.post(f"/api/groups/{gid}/blocklist", {"entries": [{"pattern": "SCAM", "mode": "warn"}]})
    assert (again.json()["data"]["added"], again.json()["data"]["updated"]) == (0, 1)
    items = browser.get(f"/api/groups/{gid}/blocklist").json()["data"]["items"]
    assert [(item["pattern"], item["mode"]) for item in items] == [("buy*now", None), ("SCAM", "warn")]
    assert items == core(web, "GET", f"/groups/{gid}/blocklist")["items"]
    removed = browser.post(f"/api/groups/{gid}/blocklist/remove", {"patterns": ["buy*now", "not there"]})
    assert removed.status_code == 200 and removed.json()["data"]["removed"] == 1
    cleared = browser.post(f"/api/groups/{gid}/blocklist/clear", {})
    assert cleared.status_code == 200 and cleared.json()["data"]["removed"] == 1
    assert core(web, "GET", f"/groups/{gid}/blocklist")["items"] == []
    events = audit_actions(web, group, "protection.blocklist")
    assert len(events) == 4 and {event["actor_user_id"] for event in events} == {user["id"]}


@pytest.mark.parametrize(("entry", "field"), [
    ({"pattern": ""}, "entries"),
    ({"pattern": "x" * 101}, "entries"),
    ({"pattern": "spam", "mode": "tmute"}, "entries"),
    ({"pattern": "spam", "mode": "delete", "duration_seconds": 60}, "entries"),
])
def test_bad_blocklist_entries_are_400(web, admin, entry, field):
    _, browser = admin
    group = web.group()
    answer = error(browser.post(f"/api/groups/{group['id']}/blocklist", {"entries": [entry]}), 400,
                   "validation_error")
    assert field in answer["details"], answer
    assert core(web, "GET", f"/groups/{group['id']}/blocklist")["items"] == []


def test_a_pattern_core_refuses_is_400_with_core_s_reason(web, admin):
    _, browser = admin
    group = web.group()
    answer = error(browser.post(f"/api/groups/{group['id']}/blocklist", {"entries": [{"pattern": "***"}]}), 400,
                   "validation_error")
    assert answer["details"], answer


def test_the_text_file_exports_and_imports_the_same_blocklist(web, admin):
    _, browser = admin
    group, copy = web.group("Export Group!"), web.group()
    imported = browser.post(f"/api/groups/{group['id']}/blocklist/import", {"text": (
        "# my list\nbuy*now\nspam | ban\nscam link | tban 2d | no scams\na\\|b | | bars | too\n")})
    assert imported.status_code == 200, imported.text
    assert imported.json()["data"] == {**imported.json()["data"], "added": 4, "updated": 0, "lines": 4}
    exported = browser.get(f"/api/groups/{group['id']}/blocklist.txt")
    assert exported.status_code == 200
    assert exported.headers["content-type"] == "text/plain; charset=utf-8"
    assert exported.headers["content-disposition"] == 'attachment; filename="blocklist-export-group.txt"'
    lines = exported.text.splitlines()
    assert lines[0] == "# Blocklist of Export Group!: 4 entries."
    assert [line for line in lines if not line.startswith("#")] == [
        "buy*now", "spam | ban", "scam link | tban 2d | no scams", "a\\|b |  | bars | too"]
    asked = browser.get(f"/api/groups/{group['id']}/blocklist.txt", headers={"Accept": "text/plain"})
    assert (asked.status_code, asked.text) == (200, exported.text)
    refused = browser.get("/api/groups/999999/blocklist.txt", headers={"Accept": "text/plain"})
    assert refused.headers["content-type"].startswith("application/json")
    error(refused, 404, "not_found")
    # Imported into another group, the file gives the same entries.
    assert browser.post(f"/api/groups/{copy['id']}/blocklist/import", {"text": exported.text}).status_code == 200

    def entries(gid):
        return [{key: item[key] for key in ("pattern", "mode", "duration_seconds", "reason")}
                for item in core(web, "GET", f"/groups/{gid}/blocklist")["items"]]
    assert entries(copy["id"]) == entries(group["id"])
    assert entries(group["id"])[3] == {"pattern": "a|b", "mode": None, "duration_seconds": None,
                                       "reason": "bars | too"}


def test_an_import_with_a_bad_line_names_it_and_writes_nothing(web, admin):
    _, browser = admin
    group = web.group()
    answer = error(browser.post(f"/api/groups/{group['id']}/blocklist/import",
                                {"text": "fine\nspam | explode\nok | tmute\n"}), 400, "validation_error")
    assert answer["details"]["text"] == [
        'Line 2: unknown mode "explode" (one of delete, warn, mute, tmute, kick, ban, tban) (spam | explode)',
        'Line 3: tmute needs a length, e.g. "tmute 1h" (ok | tmute)']
    error(browser.post(f"/api/groups/{group['id']}/blocklist/import", {"text": "# only a comment\n\n"}), 400,
          "validation_error")
    assert core(web, "GET", f"/groups/{group['id']}/blocklist")["items"] == []


def test_an_import_s_default_mode_applies_to_the_lines_without_one(web, admin):
    _, browser = admin
    group = web.group()
    answer = browser.post(f"/api/groups/{group['id']}/blocklist/import",
                          {"text": "a\nb | kick\n", "mode": "tmute", "duration_seconds": 600})
    assert answer.status_code == 200, answer.text
    items = core(web, "GET", f"/groups/{group['id']}/blocklist")["items"]
    assert [(item["pattern"], item["mode"], item["duration_seconds"]) for item in items] == [
        ("a", "tmute", 600), ("b", "kick", None)]


# -- filters and notes


def test_a_filter_s_buttons_typed_in_its_text_are_stored_apart(web, admin):
    user, browser = admin
    group = web.group()
    saved = browser.post(f"/api/groups/{group['id']}/filters", {
        "trigger": "Rules Please", "match": "prefix",
        "text": "<b>Read them</b>\n[Rules](buttonurl://https://example.com/rules)\n"
                "[Help](buttonurl://https://example.com/help:same)"})
    assert saved.status_code == 200, saved.text
    data = saved.json()["data"]
    assert data["text"] == "<b>Read them</b>"
    assert data["buttons"] == [[{"text": "Rules", "url": "https://example.com/rules"},
                                {"text": "Help", "url": "https://example.com/help"}]]
    assert data["match"] == "prefix"
    (stored,) = core(web, "GET", f"/groups/{group['id']}/filters")["items"]
    assert stored == browser.get(f"/api/groups/{group['id']}/filters").json()["data"]["items"][0]
    # Buttons given apart are kept as given (the text as it is).
    other = browser.post(f"/api/groups/{group['id']}/filters", {
        "trigger": "hello", "text": "hi [x](y)", "buttons": [[{"text": "Go", "url": "tg://resolve?domain=x"}]]})
    assert other.status_code == 200, other.text
    assert other.json()["data"]["text"] == "hi [x](y)"
    assert (audit_actions(web, group, "protection.filter")[0]["actor_user_id"]) == user["id"]
    removed = browser.post(f"/api/groups/{group['id']}/filters/remove", {"triggers": ["prefix:rules please"]})
    assert removed.status_code == 200 and removed.json()["data"]["removed"] == 1
    cleared = browser.post(f"/api/groups/{group['id']}/filters/clear", {})
    assert cleared.json()["data"]["removed"] == 1
    assert core(web, "GET", f"/groups/{group['id']}/filters")["items"] == []


@pytest.mark.parametrize("body", [
    {"trigger": "x"},  # no text, no media
    {"trigger": "x", "text": "   "},
    {"trigger": "x", "media_type": "photo"},  # a media needs its file id
    {"trigger": "x", "text": "y", "match": "regex"},
    {"trigger": "x", "text": "y", "buttons": [[{"text": "Go", "url": "javascript:alert(1)"}]]},
    {"trigger": "", "text": "y"},
])
def test_bad_filters_are_400(web, admin, body):
    _, browser = admin
    group = web.group()
    error(browser.post(f"/api/groups/{group['id']}/filters", body), 400, "validation_error")
    assert core(web, "GET", f"/groups/{group['id']}/filters")["items"] == []


def test_notes_are_saved_read_removed_and_cleared(web, admin):
    _, browser = admin
    group = web.group()
    saved = browser.post(f"/api/groups/{group['id']}/notes", {
        "name": "Rules", "text": "Be nice, {first}\n[Read](buttonurl://https://example.com)",
        "media_type": "photo", "media_file_id": "AgACAgIAAxkBAAIB"})
    assert saved.status_code == 200, saved.text
    data = saved.json()["data"]
    assert (data["name"], data["text"], data["media_type"]) == ("rules", "Be nice, {first}", "photo")
    assert data["buttons"] == [[{"text": "Read", "url": "https://example.com"}]]
    note = browser.get(f"/api/groups/{group['id']}/notes/RULES")
    assert note.status_code == 200 and note.json()["data"]["text"] == "Be nice, {first}"
    assert [item["name"] for item in browser.get(f"/api/groups/{group['id']}/notes").json()["data"]["items"]] == [
        "rules"]
    error(browser.get(f"/api/groups/{group['id']}/notes/missing"), 404, "not_found")
    error(browser.get(f"/api/groups/{group['id']}/notes/bad%20name"), 400, "validation_error")
    error(browser.post(f"/api/groups/{group['id']}/notes", {"name": "bad name", "text": "x"}), 400,
          "validation_error")
    assert browser.post(f"/api/groups/{group['id']}/notes", {"name": "faq", "text": "x"}).status_code == 200
    removed = browser.post(f"/api/groups/{group['id']}/notes/remove", {"names": ["RULES"]})
    assert removed.status_code == 200 and removed.json()["data"]["removed"] == 1
    assert browser.post(f"/api/groups/{group['id']}/notes/clear", {}).json()["data"]["removed"] == 1
    assert core(web, "GET", f"/groups/{group['id']}/notes")["items"] == []


# -- the test box


def test_the_test_box_says_which_rule_would_fire_and_why(web, admin):
    _, browser = admin
    group = web.group()
    gid = group["id"]
    assert browser.request("PATCH", f"/api/groups/{gid}/locks", json={"locks": {
        "sticker": {"mode": "mute", "reason": "no stickers"}, "url": {"mode": "warn"}}}).status_code == 200
    assert browser.post(f"/api/groups/{gid}/blocklist", {"entries": [
        {"pattern": "buy*now", "mode": "ban", "reason": "spam"}]}).status_code == 200
    assert browser.post(f"/api/groups/{gid}/filters", {"trigger": "hello", "text": "Hi!"}).status_code == 200
    assert browser.post(f"/api/groups/{gid}/notes", {"name": "faq", "text": "Q&A"}).status_code == 200

    plain = browser.post(f"/api/groups/{gid}/protection/test", {"text": "hello there"}).json()["data"]
    assert (plain["verdict"], plain["locks"], plain["blocklist"], plain["filter"]) == (None, [], [], "hello")

    # Look-alike letters (Cyrillic U+0443 for y, U+043E for o) still match; * stays within a word.
    spam = browser.post(f"/api/groups/{gid}/protection/test", {"text": "Bu\u0443-n\u043ew!"}).json()["data"]
    assert spam["verdict"]["rule"] == "blocklist" and spam["verdict"]["mode"] == "ban", spam
    assert spam["blocklist"] == ["buy*now"] and "buy*now" in spam["verdict"]["why"]

    # A lock comes before the blocklist; a link is both.
    both = browser.post(f"/api/groups/{gid}/protection/test",
                        {"text": "buynow at https://example.com"}).json()["data"]
    assert (both["verdict"]["rule"], both["verdict"]["kind"], both["locks"], both["blocklist"]) == (
        "locks", "url", ["url"], ["buy*now"])

    sticker = {"message_id": 1, "date": 0, "chat": {"id": group["telegram_chat_id"], "type": "supergroup"},
               "from": {"id": 5, "is_bot": False, "first_name": "M"},
               "sticker": {"file_id": "x", "file_unique_id": "y", "width": 1, "height": 1, "is_animated": False,
                           "is_video": False, "type": "regular"}}
    verdict = browser.post(f"/api/groups/{gid}/protection/test", {"message": sticker}).json()["data"]["verdict"]
    assert (verdict["rule"], verdict["kind"], verdict["mode"], verdict["reason"]) == (
        "locks", "sticker", "mute", "no stickers")
    assert "sticker" in verdict["why"]

    note = browser.post(f"/api/groups/{gid}/protection/test", {"text": "#faq please"}).json()["data"]
    assert note["note"] == "faq"
    words = browser.post(f"/api/groups/{gid}/protection/test", {"text": "buy it now"}).json()["data"]
    assert (words["verdict"], words["blocklist"]) == (None, [])


@pytest.mark.parametrize("body", [{}, {"text": "a", "message": {}}, {"message": []}, {"text": "x" * 4097},
                                  {"texts": "a"}])
def test_a_bad_test_request_is_400(web, admin, body):
    _, browser = admin
    group = web.group()
    error(browser.post(f"/api/groups/{group['id']}/protection/test", body), 400, "validation_error")


# -- schema and core's absence


def test_the_endpoints_are_in_web_s_openapi_schema(schema):
    paths = schema.document["paths"]
    expected = {
        "/api/groups/{group_id}/locks": {"get": "groups_locks_retrieve", "patch": "groups_locks_update"},
        "/api/groups/{group_id}/blocklist": {"get": "groups_blocklist_retrieve", "post": "groups_blocklist_add"},
        "/api/groups/{group_id}/blocklist.txt": {"get": "groups_blocklist_export"},
        "/api/groups/{group_id}/blocklist/import": {"post": "groups_blocklist_import"},
        "/api/groups/{group_id}/blocklist/remove": {"post": "groups_blocklist_remove"},
        "/api/groups/{group_id}/blocklist/clear": {"post": "groups_blocklist_clear"},
        "/api/groups/{group_id}/filters": {"get": "groups_filters_retrieve", "post": "groups_filters_save"},
        "/api/groups/{group_id}/filters/remove": {"post": "groups_filters_remove"},
        "/api/groups/{group_id}/filters/clear": {"post": "groups_filters_clear"},
        "/api/groups/{group_id}/notes": {"get": "groups_notes_retrieve", "post": "groups_notes_save"},
        "/api/groups/{group_id}/notes/{name}": {"get": "groups_notes_get"},
        "/api/groups/{group_id}/notes/remove": {"post": "groups_notes_remove"},
        "/api/groups/{group_id}/notes/clear": {"post": "groups_notes_clear"},
        "/api/groups/{group_id}/protection/test": {"post": "groups_protection_test"},
    }
    for path, operations in expected.items():
        assert path in paths, path
        for method, operation_id in operations.items():
            operation = paths[path][method]
            assert operation["operationId"] == operation_id
            for code in ("200", "400", "401", "403", "503"):
                assert code in operation["responses"], (path, method, code)
            if method != "get" and not path.endswith("/test"):
                assert "MANAGE_SETTINGS" in operation["description"] and "409" in operation["responses"], path
    export = paths["/api/groups/{group_id}/blocklist.txt"]["get"]["responses"]["200"]["content"]
    assert "text/plain" in export
    patch = paths["/api/groups/{group_id}/locks"]["patch"]["requestBody"]["content"]["application/json"]["schema"]
    body = schema.document["components"]["schemas"][patch["$ref"].rsplit("/", 1)[-1]]
    assert set(body["properties"]["locks"]["properties"]) == set(LOCK_TYPES)


@pytest.fixture(scope="module")
def lonely_web(web, tmp_path_factory):
    """A second web instance (same signing key) whose core is not there."""
    port = free_port()
    process = web_process(tmp_path_factory.mktemp("lonely-content"), port, free_port(), name="web-lonely-content",
                          env=web.web_env()).start()
    yield f"http://127.0.0.1:{port}"
    process.stop()


def test_core_down_is_503_in_the_envelope(web, admin, lonely_web):
    _, browser = admin
    lonely = Browser(lonely_web, None)
    lonely.access = browser.access
    for method, path, body in (("GET", "/api/groups/1/locks", None), ("GET", "/api/groups/1/blocklist.txt", None),
                               ("POST", "/api/groups/1/blocklist", {"entries": [{"pattern": "x"}]}),
                               ("POST", "/api/groups/1/protection/test", {"text": "x"})):
        response = lonely.request(method, path, json=body) if body is not None else lonely.request(method, path)
        error(response, 503, "core_unavailable")
        assert response.headers["retry-after"] == "5"
