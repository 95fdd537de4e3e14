"""Web's REST API for ban lists (federations), against real core and web processes: every call relayed to core as the
token user (reads for them, writes with them as the actor: core checks the permissions in the list's own scope and
audits), core's refusals passed through (403 naming the permission, 400 with its faults), the export streamed, and
every JSON answer checked against web's own OpenAPI schema."""

import json

import httpx
import pytest

from tests.e2e.test_web_api import Schema, error

from .pages_platform import browser_for, dashboard_platform  # noqa: F401 (fixture)

pytestmark = pytest.mark.e2e

_telegram_ids = iter(range(7_100_000_001, 7_200_000_000))


def telegram_id() -> int:
    return next(_telegram_ids)


@pytest.fixture(scope="module")
def web(dashboard_platform):  # noqa: F811
    return dashboard_platform


class LiteralFirstSchema(Schema):
    """Web's schema, a path's literal segments matched before a parameter: /api/banlists/bans is not a list's id."""

    def __init__(self, document: dict):
        super().__init__(document)
        self.operations.sort(key=lambda operation: operation[0].pattern.count("[^/]+"))


@pytest.fixture(scope="module")
def schema(web) -> Schema:
    response = httpx.get(f"{web.url}/api/schema?format=json", timeout=10)
    assert response.status_code == 200
    return LiteralFirstSchema(response.json())


@pytest.fixture
def owner(web, schema):
    """A user with no global role (a new one per test: core limits the lists one may own): they own the lists they
    create (banlist_owner in the list's scope)."""
    user = web.user(telegram_user_id=telegram_id(), display_name="Olga Owner")
    return user, browser_for(web, schema, user)


@pytest.fixture(scope="module")
def stranger(web, schema):
    user = web.user(telegram_user_id=telegram_id())
    return user, browser_for(web, schema, user)


def new_list(browser, name: str = "Spam watch") -> dict:
    response = browser.post("/api/banlists", {"name": name})
    assert response.status_code == 201, response.text
    return response.json()["data"]


def audit(web, action: str, ban_list: dict) -> list[dict]:
    return [event for event in web.api.audit_events(action=action, limit=200)["items"]
            if str((event.get("details") or {}).get("ban_list_id")) == ban_list["id"]
            or event.get("target_id") == ban_list["id"]]


# -- the lists


def test_a_list_is_created_by_its_owner_and_only_those_who_may_view_it_see_it(web, owner, stranger):
    user, browser = owner
    ban_list = new_list(browser, "Crypto scams")
    assert ban_list["name"] == "Crypto scams" and ban_list["is_active"] is True
    assert ban_list["owner"]["id"] == user["id"]
    assert ban_list["bans_count"] == 0 and ban_list["groups_count"] == 0
    mine = browser.get("/api/banlists?limit=200")
    assert mine.status_code == 200, mine.text
    assert ban_list["id"] in [item["id"] for item in mine.json()["data"]]
    assert mine.json()["page"] == 1 and mine.json()["limit"] == 200
    found = browser.get("/api/banlists?q=Crypto")
    assert ban_list["id"] in [item["id"] for item in found.json()["data"]]
    # Someone without a role on it neither lists it nor reads it: core's 403 names the permission.
    _, other = stranger
    theirs = other.get("/api/banlists?limit=200")
    assert theirs.status_code == 200
    assert ban_list["id"] not in [item["id"] for item in theirs.json()["data"]]
    body = error(other.get(f"/api/banlists/{ban_list['id']}"), 403, "permission_denied")
    assert "BAN_LIST_VIEW" in body["message"]
    assert browser.get(f"/api/banlists/{ban_list['id']}").json()["data"]["id"] == ban_list["id"]


def test_renaming_setting_the_log_chat_and_deleting_are_the_owner_s(web, owner, stranger):
    _, browser = owner
    ban_list = new_list(browser)
    renamed = browser.request("PATCH", f"/api/banlists/{ban_list['id']}",
                              json={"name": "Renamed", "log_chat_id": -1001234567890})
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["data"]["name"] == "Renamed"
    assert renamed.json()["data"]["log_chat_id"] == -1001234567890
    unset = browser.request("PATCH", f"/api/banlists/{ban_list['id']}", json={"log_chat_id": None})
    assert unset.json()["data"]["log_chat_id"] is None
    error(browser.request("PATCH", f"/api/banlists/{ban_list['id']}", json={}), 400, "validation_error")
    error(browser.request("PATCH", f"/api/banlists/{ban_list['id']}", json={"name": "   "}), 400, "validation_error")
    error(browser.request("PATCH", f"/api/banlists/{ban_list['id']}", json={"name": "x" * 65}), 400,
          "validation_error")
    _, other = stranger
    refused = error(other.request("PATCH", f"/api/banlists/{ban_list['id']}", json={"name": "Mine"}), 403,
                    "permission_denied")
    assert "BAN_LIST_MANAGE" in refused["message"]
    error(other.post(f"/api/banlists/{ban_list['id']}/delete"), 403, "permission_denied")
    deleted = browser.post(f"/api/banlists/{ban_list['id']}/delete")
    assert deleted.status_code == 200, deleted.text
    error(browser.get(f"/api/banlists/{ban_list['id']}"), 404, "not_found")


def test_ids_that_cannot_be_a_list_s_are_refused_before_core_is_asked(owner):
    _, browser = owner
    for path in ("/api/banlists/abc", "/api/banlists/1%2F..%2Fusers", "/api/banlists/0/bans",
                 "/api/banlists/-1/history"):
        error(browser.get(path), 400, "invalid_id")
    error(browser.get("/api/banlists/999999999/bans"), 404, "not_found")
    error(browser.get("/api/banlists?sort=name"), 400, "validation_error")


# -- bans


def test_a_ban_is_listed_searched_lifted_and_audited_with_the_token_user_as_actor(web, owner, stranger):
    user, browser = owner
    ban_list = new_list(browser)
    target = telegram_id()
    banned = browser.post(f"/api/banlists/{ban_list['id']}/bans", {"telegram_user_id": target, "reason": "spam"})
    assert banned.status_code == 200, banned.text
    data = banned.json()["data"]
    assert data["created"] is True and data["ban"]["telegram_user_id"] == target
    assert data["ban"]["reason"] == "spam" and data["propagation"]["groups"] == 0
    again = browser.post(f"/api/banlists/{ban_list['id']}/bans", {"telegram_user_id": target, "reason": "scam"})
    assert again.json()["data"]["created"] is False and again.json()["data"]["ban"]["reason"] == "scam"
    other_target = telegram_id()
    browser.post(f"/api/banlists/{ban_list['id']}/bans", {"telegram_user_id": other_target})

    page = browser.get(f"/api/banlists/{ban_list['id']}/bans")
    assert page.status_code == 200, page.text
    assert {ban["telegram_user_id"] for ban in page.json()["data"]} == {target, other_target}
    assert page.json()["total"] == 2
    one = browser.get(f"/api/banlists/{ban_list['id']}/bans?telegram_user_id={target}")
    assert [ban["telegram_user_id"] for ban in one.json()["data"]] == [target]
    paged = browser.get(f"/api/banlists/{ban_list['id']}/bans?limit=1&page=2")
    assert len(paged.json()["data"]) == 1 and paged.json()["total"] == 2 and paged.json()["page"] == 2

    _, other = stranger
    refused = error(other.post(f"/api/banlists/{ban_list['id']}/bans", {"telegram_user_id": telegram_id()}), 403,
                    "permission_denied")
    assert "BAN_LIST_BAN" in refused["message"]
    error(browser.post(f"/api/banlists/{ban_list['id']}/bans", {"telegram_user_id": "12"}), 400, "validation_error")
    error(browser.post(f"/api/banlists/{ban_list['id']}/bans", {}), 400, "validation_error")

    lifted = browser.post(f"/api/banlists/{ban_list['id']}/bans/remove", {"telegram_user_id": target})
    assert lifted.status_code == 200, lifted.text
    assert lifted.json()["data"]["removed"] is True
    assert [ban["telegram_user_id"] for ban in browser.get(
        f"/api/banlists/{ban_list['id']}/bans").json()["data"]] == [other_target]
    inactive = browser.get(f"/api/banlists/{ban_list['id']}/bans?active=false")
    assert [ban["telegram_user_id"] for ban in inactive.json()["data"]] == [target]
    assert browser.post(f"/api/banlists/{ban_list['id']}/bans/remove",
                        {"telegram_user_id": target}).json()["data"]["removed"] is False

    history = browser.get(f"/api/banlists/{ban_list['id']}/history")
    assert history.status_code == 200, history.text
    kinds = [change["kind"] for change in history.json()["data"]]
    assert kinds[0] == "unban" and kinds.count("ban") >= 2
    assert all(change["actor"]["id"] == user["id"] for change in history.json()["data"])
    only_unbans = browser.get(f"/api/banlists/{ban_list['id']}/history?kind=unban")
    assert [change["kind"] for change in only_unbans.json()["data"]] == ["unban"]
    by_user = browser.get(f"/api/banlists/{ban_list['id']}/history?telegram_user_id={other_target}")
    assert [change["telegram_user_id"] for change in by_user.json()["data"]] == [other_target]
    by_actor = browser.get(f"/api/banlists/{ban_list['id']}/history?actor_user_id={user['id']}")
    assert by_actor.json()["total"] == history.json()["total"]
    error(browser.get(f"/api/banlists/{ban_list['id']}/history?kind=mute"), 400, "validation_error")
    error(browser.get(f"/api/banlists/{ban_list['id']}/history?since=2026-01-02T00:00:00Z"
                      "&until=2026-01-01T00:00:00Z"), 400, "validation_error")
    future = browser.get(f"/api/banlists/{ban_list['id']}/history?since=2099-01-01T00:00:00Z")
    assert future.json()["data"] == []
    assert audit(web, "banlist.ban", ban_list), "the ban is on the audit trail"


def test_the_lists_a_telegram_user_is_on_are_those_the_reader_may_view(web, schema, owner, stranger):
    _, browser = owner
    ban_list = new_list(browser)
    banned, lifted = telegram_id(), telegram_id()
    for target in (banned, lifted):
        browser.post(f"/api/banlists/{ban_list['id']}/bans", {"telegram_user_id": target, "reason": "spam"})
    browser.post(f"/api/banlists/{ban_list['id']}/bans/remove", {"telegram_user_id": lifted})
    staff = browser_for(web, schema, web.user("admin"))  # the global admin role holds BAN_LIST_VIEW
    on = staff.get(f"/api/banlists/bans?telegram_user_id={banned}")
    assert on.status_code == 200, on.text
    (ban,) = on.json()["data"]["bans"]
    assert (ban["ban_list"]["id"], ban["reason"]) == (ban_list["id"], "spam")
    assert staff.get(f"/api/banlists/bans?telegram_user_id={lifted}").json()["data"]["bans"] == []
    error(staff.get("/api/banlists/bans"), 400, "validation_error")
    error(staff.get("/api/banlists/bans?telegram_user_id=0"), 400, "validation_error")
    assert [ban["ban_list"]["id"] for ban in browser.get(f"/api/banlists/bans?telegram_user_id={banned}")
            .json()["data"]["bans"]] == [ban_list["id"]]  # the list's owner, no global role
    _, other = stranger
    assert other.get(f"/api/banlists/bans?telegram_user_id={banned}").json()["data"]["bans"] == []


# -- governance


def test_admins_are_promoted_and_demoted_by_the_owner_and_may_ban(web, schema, owner):
    _, browser = owner
    ban_list = new_list(browser)
    admin = web.user(telegram_user_id=telegram_id())
    admin_browser = browser_for(web, schema, admin)
    error(admin_browser.post(f"/api/banlists/{ban_list['id']}/bans", {"telegram_user_id": telegram_id()}), 403,
          "permission_denied")
    promoted = browser.post(f"/api/banlists/{ban_list['id']}/admins",
                            {"telegram_user_id": admin["telegram_user_id"]})
    assert promoted.status_code == 200, promoted.text
    admins = browser.get(f"/api/banlists/{ban_list['id']}/admins").json()["data"]
    assert {entry["user"]["id"]: entry["role"] for entry in admins["admins"]}.get(admin["id"]) == "banlist_admin"
    assert admin_browser.post(f"/api/banlists/{ban_list['id']}/bans",
                              {"telegram_user_id": telegram_id()}).status_code == 200
    # A list admin may not promote (MANAGE_ROLES is the owner's).
    third = web.user(telegram_user_id=telegram_id())
    error(admin_browser.post(f"/api/banlists/{ban_list['id']}/admins", {"user_id": third["id"]}), 403,
          "permission_denied")
    error(browser.post(f"/api/banlists/{ban_list['id']}/admins", {"user_id": third["id"],
                                                                  "telegram_user_id": 5}), 400, "validation_error")
    error(browser.post(f"/api/banlists/{ban_list['id']}/admins", {"user_id": "nope"}), 400, "invalid_id")
    demoted = browser.post(f"/api/banlists/{ban_list['id']}/admins/remove", {"user_id": admin["id"]})
    assert demoted.status_code == 200, demoted.text
    error(admin_browser.post(f"/api/banlists/{ban_list['id']}/bans", {"telegram_user_id": telegram_id()}), 403,
          "permission_denied")


def test_a_group_s_owner_subscribes_it_and_lists_follow_each_other(web, schema, owner):
    user, browser = owner
    ban_list = new_list(browser)
    group = web.group()
    # Not the group's owner: core names the group-scope permission.
    refused = error(browser.post(f"/api/banlists/{ban_list['id']}/subscriptions", {"group_id": group["id"]}), 403,
                    "permission_denied")
    assert "BAN_LIST_SUBSCRIBE" in refused["message"]
    web.api.member_set(group["id"], user_id=user["id"])
    web.api.assign_role(user_id=user["id"], role="owner", group_id=group["id"])
    joined = browser.post(f"/api/banlists/{ban_list['id']}/subscriptions",
                          {"telegram_chat_id": group["telegram_chat_id"]})
    assert joined.status_code == 200, joined.text
    groups = browser.get(f"/api/banlists/{ban_list['id']}/subscriptions")
    assert [item["group_id"] for item in groups.json()["data"]] == [group["id"]]
    assert groups.json()["total"] == 1
    assert browser.get(f"/api/banlists/{ban_list['id']}").json()["data"]["groups_count"] == 1
    error(browser.post(f"/api/banlists/{ban_list['id']}/subscriptions", {}), 400, "validation_error")

    source = new_list(browser, "Source")
    followed = browser.post(f"/api/banlists/{ban_list['id']}/follows", {"source_id": source["id"]})
    assert followed.status_code == 200, followed.text
    follows = browser.get(f"/api/banlists/{ban_list['id']}/follows").json()["data"]
    assert [item["id"] for item in follows["follows"]] == [source["id"]]
    assert [item["id"] for item in browser.get(f"/api/banlists/{source['id']}/follows").json()["data"][
        "followers"]] == [ban_list["id"]]
    cycle = error(browser.post(f"/api/banlists/{source['id']}/follows", {"source_id": ban_list["id"]}), 400,
                  "validation_error")
    assert cycle["message"]
    error(browser.post(f"/api/banlists/{ban_list['id']}/follows", {"source_id": "x1"}), 400, "invalid_id")
    browser.post(f"/api/banlists/{ban_list['id']}/follows/remove", {"source_id": source["id"]})
    assert browser.get(f"/api/banlists/{ban_list['id']}/follows").json()["data"]["follows"] == []

    # A ban reaches the subscribed group: the propagation counts say how far it got.
    member = web.user(telegram_user_id=telegram_id(), group=group)["telegram_user_id"]
    ban = browser.post(f"/api/banlists/{ban_list['id']}/bans", {"telegram_user_id": member, "reason": "spam"})
    assert ban.json()["data"]["propagation"]["groups"] == 1
    progress = browser.get(f"/api/banlists/{ban_list['id']}/propagation")
    assert progress.status_code == 200, progress.text
    counts = progress.json()["data"]
    assert counts["pending"] + counts["done"] + counts["failed"] + counts["notify"] >= 1

    left = browser.post(f"/api/banlists/{ban_list['id']}/subscriptions/remove", {"group_id": group["id"]})
    assert left.status_code == 200, left.text
    assert browser.get(f"/api/banlists/{ban_list['id']}/subscriptions").json()["data"] == []


# -- import and export


def test_an_import_lands_all_or_nothing_and_the_export_streams_it_back(web, owner, stranger):
    _, browser = owner
    ban_list = new_list(browser)
    first, second, third = telegram_id(), telegram_id(), telegram_id()
    csv_text = f"telegram_user_id,reason,date\n{first},spam,2026-01-02T03:04:05Z\n{second},,\n{third},bot,1700000000\n"
    imported = browser.post(f"/api/banlists/{ban_list['id']}/import", {"format": "csv", "content": csv_text})
    assert imported.status_code == 200, imported.text
    assert imported.json()["data"]["added"] == 3
    version = imported.json()["data"]["version"]
    again = browser.post(f"/api/banlists/{ban_list['id']}/import",
                         {"format": "json", "content": json.dumps([first, {"telegram_user_id": 42, "reason": "x"}])})
    assert again.status_code == 200, again.text
    assert again.json()["data"]["added"] == 1 and again.json()["data"]["version"] == version + 1

    bad = error(browser.post(f"/api/banlists/{ban_list['id']}/import",
                             {"format": "csv", "content": f"{telegram_id()}\nnot-an-id\n"}), 400, "validation_error")
    assert bad.get("details"), bad
    assert browser.get(f"/api/banlists/{ban_list['id']}").json()["data"]["bans_count"] == 4  # nothing written
    error(browser.post(f"/api/banlists/{ban_list['id']}/import", {"format": "xml", "content": "1"}), 400,
          "validation_error")
    _, other = stranger
    error(other.post(f"/api/banlists/{ban_list['id']}/import", {"format": "csv", "content": "1\n"}), 403,
          "permission_denied")

    exported = browser.get(f"/api/banlists/{ban_list['id']}/export")
    assert exported.status_code == 200, exported.text
    assert exported.headers["content-type"].startswith("text/csv")
    assert f'filename="banlist-{ban_list["id"]}.csv"' in exported.headers["content-disposition"]
    lines = exported.text.strip().splitlines()
    assert lines[0] == "telegram_user_id,reason,date"
    assert {int(line.split(",")[0]) for line in lines[1:]} == {first, second, third, 42}
    as_json = browser.get(f"/api/banlists/{ban_list['id']}/export?format=json")
    assert as_json.status_code == 200, as_json.text
    assert f'banlist-{ban_list["id"]}.json' in as_json.headers["content-disposition"]
    rows = as_json.json()
    assert {row["telegram_user_id"] for row in rows} == {first, second, third, 42}
    assert {row["reason"] for row in rows if row["telegram_user_id"] == first} == {"spam"}
    error(browser.get(f"/api/banlists/{ban_list['id']}/export?format=xml"), 400, "validation_error")
    error(browser.get(f"/api/banlists/{ban_list['id']}/export?limit=1"), 400, "validation_error")
    error(other.get(f"/api/banlists/{ban_list['id']}/export"), 403, "permission_denied")
