"""Web's REST API for a group's protection settings (JWT), against real core and web processes: GET and PATCH relayed
to core as the token user, every JSON answer checked against web's own OpenAPI schema."""

import httpx
import pytest

from tests.e2e.processes import TEST_KEY
from tests.e2e.test_web_api import Schema, error

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


def core_settings(web, group: dict) -> dict:
    response = httpx.get(f"http://127.0.0.1:{web.core_port}/api/groups/{group['id']}/protection",
                         headers={"X-API-Key": TEST_KEY}, timeout=10)
    return response.json()["data"]


@pytest.fixture(scope="module")
def admin(web, schema):
    user = web.user("admin")
    return user, browser_for(web, schema, user)


def test_get_relays_core_s_settings(web, admin):
    _, browser = admin
    group = web.group()
    response = browser.get(f"/api/groups/{group['id']}/protection")
    assert response.status_code == 200
    data = response.json()["data"]
    assert data == core_settings(web, group)
    assert (data["group_id"], data["welcome_enabled"], data["flood_limit"], data["raid_until"]) == (
        group["id"], False, 0, None)


def test_patch_changes_the_fields_given_as_the_token_user(web, admin):
    user, browser = admin
    group = web.group()
    version = core_settings(web, group)["version"]
    response = browser.request("PATCH", f"/api/groups/{group['id']}/protection", json={
        "expected_version": version, "welcome_enabled": True, "welcome_text": "Hi {first}", "flood_limit": 4,
        "flood_window_seconds": None, "captcha_mode": "emoji", "log_chat_id": -1001234})
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert (data["version"], data["welcome_text"], data["flood_limit"], data["captcha_mode"], data["log_chat_id"]) \
        == (version + 1, "Hi {first}", 4, "emoji", -1001234)
    assert core_settings(web, group) == data
    (event,) = web.api.audit_events(action="protection.update", group_id=group["id"])["items"]
    assert event["actor_user_id"] == user["id"]


def test_a_stale_expected_version_is_409_and_writes_nothing(web, admin):
    _, browser = admin
    group = web.group()
    version = core_settings(web, group)["version"]
    assert browser.request("PATCH", f"/api/groups/{group['id']}/protection",
                           json={"expected_version": version, "flood_limit": 5}).status_code == 200
    stale = browser.request("PATCH", f"/api/groups/{group['id']}/protection",
                            json={"expected_version": version, "flood_limit": 9})
    error(stale, 409, "conflict")
    assert core_settings(web, group)["flood_limit"] == 5


def test_without_manage_settings_the_patch_is_403_naming_it(web, schema):
    group = web.group()
    moderator = web.user("moderator", group=group)
    browser = browser_for(web, schema, moderator)
    assert browser.get(f"/api/groups/{group['id']}/protection").status_code == 200  # VIEW_GROUPS is enough to read
    before = core_settings(web, group)
    body = error(browser.request("PATCH", f"/api/groups/{group['id']}/protection", json={"flood_limit": 5}),
                 403, "permission_denied")
    assert "MANAGE_SETTINGS" in body["message"] and body["details"]["permission"] == "MANAGE_SETTINGS"
    assert core_settings(web, group) == before


def test_reading_another_group_s_settings_is_403_naming_view_groups(web, schema):
    group, other = web.group(), web.group()
    browser = browser_for(web, schema, web.user("moderator", group=group))
    body = error(browser.get(f"/api/groups/{other['id']}/protection"), 403, "permission_denied")
    assert body["details"]["permission"] == "VIEW_GROUPS"


@pytest.mark.parametrize(("body", "field"), [
    ({"flood_limit": 1000}, "flood_limit"),  # core's range
    ({"captcha_mode": "riddle"}, "captcha_mode"),  # core's choices
    ({"flood_limit": "5"}, "flood_limit"),  # web's types
    ({"raid_until": None}, "raid_until"),  # not editable here
    ({"version": 3}, "version"),
    ({"welcome": True}, "welcome"),  # misspelt
])
def test_bad_values_are_400_naming_the_field_and_write_nothing(web, admin, body, field):
    _, browser = admin
    group = web.group()
    before = core_settings(web, group)
    answer = error(browser.request("PATCH", f"/api/groups/{group['id']}/protection", json=body), 400,
                   "validation_error")
    assert field in answer["details"], answer
    assert core_settings(web, group) == before


def test_unknown_and_invalid_group_ids(web, admin):
    _, browser = admin
    error(browser.get("/api/groups/999999/protection"), 404, "not_found")
    error(browser.request("PATCH", "/api/groups/999999/protection", json={"flood_limit": 5}), 404, "not_found")
    error(browser.get("/api/groups/not-an-id!/protection"), 400, "invalid_id")


def test_the_endpoints_are_in_web_s_openapi_schema(schema):
    paths = schema.document["paths"]
    operations = paths["/api/groups/{group_id}/protection"]
    assert operations["get"]["operationId"] == "groups_protection_retrieve"
    patch = operations["patch"]
    assert patch["operationId"] == "groups_protection_update" and "MANAGE_SETTINGS" in patch["description"]
    for code in ("200", "400", "401", "403", "404", "409", "503"):
        assert code in patch["responses"], code
    body_ref = patch["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    body = schema.document["components"]["schemas"][body_ref]["properties"]
    assert {"welcome_text", "flood_limit", "raid_action", "log_chat_id", "expected_version"} <= set(body)
    assert not {"version", "raid_until", "group_id"} & set(body)
