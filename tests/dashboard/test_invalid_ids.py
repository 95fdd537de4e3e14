"""Ids in web's URLs, against real core and web processes: garbage is 400 invalid_id before core is asked
anything, and a read of one group is authorized on that group (resolved first), never on another resource.

Requests go out through http.client so that dot segments, '?' and '#' reach web exactly as a hostile client
sends them (httpx would normalize them away).
"""

import http.client
import json
import re
from urllib.parse import quote

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from apps.common.errors import PermissionDeniedError
from apps.coreclient import CoreClient, CoreError, InvalidId
from apps.dashboard import services
from apps.dashboard.tokens import DashboardUser
from tests.e2e.processes import TEST_KEY

from .pages_platform import PASSWORD, dashboard_platform, unique  # noqa: F401 (fixture)

pytestmark = pytest.mark.e2e

GARBAGE = [
    "..", ".", "../users", "x/../../rbac/assignments", "../../audit/events", "1/..", "?", "?limit=200", "1?x=1",
    "#", "1#x", "%", "%2e%2e", "1%2F..", "1;x", "\x00", "1\x00", "\x01", "\x7f", "\n", "1\r\n", "\t", " 1", "1 ",
    "+1", "-1", "0", "01", "1.0", "0x1", "é", "\u0661", "\uff11", "\U0001d7d9", "\u202e1", "\ufeff1",
    "9223372036854775808", "9" * 400, "x" * 5000, "f" * 23, "F" * 24, "g" * 24, "null", "<script>", "'", "a/b",
]


# Sent as they are (dot segments and a slash); everything else percent-encoded, as a browser would send it.
LITERAL = {"..", ".", "1/..", "a/b"}


def web_id_routes() -> list[tuple[str, str]]:
    """(method, route template) for every route of web's JSON API with an id in its path."""
    found = []

    def walk(patterns, prefix: str):
        for entry in patterns:
            route = prefix + str(entry.pattern)
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, route)
            elif isinstance(entry, URLPattern) and "<" in route and route.startswith("api/"):
                view = entry.callback.view_class
                found.extend((method.upper(), route) for method in ("get", "post") if hasattr(view, method))

    walk(get_resolver("config.urls.web").url_patterns, "")
    return found


ROUTES = web_id_routes()


def test_the_routes_with_ids_are_all_here():
    content_rules = {f"api/groups/<anyid:group_id>/{path}" for path in (
        "protection/test", "locks", "blocklist", "blocklist.txt", "blocklist/import", "blocklist/remove",
        "blocklist/clear", "filters", "filters/remove", "filters/clear", "notes", "notes/remove", "notes/clear",
        "notes/<str:name>")}
    ban_lists = {"api/banlists/<anyid:ban_list_id>", *(f"api/banlists/<anyid:ban_list_id>/{path}" for path in (
        "admins", "admins/remove", "bans", "bans/remove", "delete", "export", "follows", "follows/remove", "history",
        "import", "propagation", "subscriptions", "subscriptions/remove"))}
    assert {route for _, route in ROUTES} == {"api/groups/<anyid:group_id>", "api/groups/<anyid:group_id>/members",
                                              "api/groups/<anyid:group_id>/protection",
                                              "api/users/<anyid:user_id>",
                                              "api/assignments/<anyid:assignment_id>/revoke", *content_rules,
                                              *ban_lists, "api/groups/<anyid:group_id>/analytics",
                                              "api/groups/<anyid:group_id>/analytics/members/<anyid:user_id>"}


def _raw(platform, method: str, path: str, token: str | None, body: dict | None = None):
    connection = http.client.HTTPConnection("127.0.0.1", platform.web_port, timeout=10)
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    connection.request(method, path, body=json.dumps(body or {}) if method == "POST" else None, headers=headers)
    response = connection.getresponse()
    status, content_type, content = response.status, response.getheader("Content-Type", ""), response.read()
    connection.close()
    return status, content_type, content


def _login(platform, user: dict) -> str:
    status, _, content = _raw(platform, "POST", "/api/auth/login", None,
                              {"username": user["username"], "password": PASSWORD})
    assert status == 200, content
    return json.loads(content)["data"]["access"]


@pytest.fixture(scope="module")
def world(dashboard_platform):  # noqa: F811
    web = dashboard_platform
    own, other = web.group(unique("Own ")), web.group(unique("Other "))
    admin = web.user("admin")
    group_moderator = web.user("moderator", group=own)  # VIEW_GROUPS and VIEW_STATS in `own` only
    global_moderator = web.user("moderator")  # VIEW_GROUPS and VIEW_STATS everywhere; no ADMIN_DASHBOARD
    nobody = web.user()
    return {"web": web, "own": own, "other": other, "admin": admin, "group_moderator": group_moderator,
            "global_moderator": global_moderator, "nobody": nobody,
            "tokens": {name: _login(web, user) for name, user in
                       [("admin", admin), ("group_moderator", group_moderator),
                        ("global_moderator", global_moderator), ("nobody", nobody)]}}


def _checks_by(world, user: dict) -> int:
    page = world["web"].api.audit_events(action="permission.check", actor_user_id=user["id"], limit=200)
    return len(page["items"])


def _error(status: int, content_type: str, content: bytes) -> dict:
    assert content_type.startswith("application/json"), (status, content_type, content[:200])
    body = json.loads(content)
    assert body["success"] is False and body["status_code"] == status, body
    return body


@pytest.mark.parametrize(("method", "route"), ROUTES)
def test_garbage_ids_are_400_invalid_id_before_core_is_asked(world, method, route):
    web, admin, token = world["web"], world["admin"], world["tokens"]["admin"]
    before = _checks_by(world, admin)
    for garbage in GARBAGE:
        segment = garbage if garbage in LITERAL else quote(garbage, safe="")
        path = "/" + re.sub(r"<[^>]+>", segment, route)
        status, content_type, content = _raw(web, method, path, token, {"reason": "x"})
        body = _error(status, content_type, content)
        assert (status, body["error"]) == (400, "invalid_id"), (path[:80], status, body)
    # The admin holds every permission: had any of these reached core, a permission check would be on the trail.
    assert _checks_by(world, admin) == before


def test_the_dashboard_pages_refuse_garbage_ids_too(world):
    web = world["web"]
    browser = web.browser()
    assert browser.login(world["admin"]["username"]).status_code == 302
    for route in ("/groups/{}", "/users/{}", "/assignments/{}/revoke"):
        for garbage in ("\x00", "..", "?", "é", "1\r\n", "x" * 5000, "../users"):
            # Dots encoded too: httpx would resolve a literal ".." segment before sending.
            response = browser.get(route.format(quote(garbage, safe="").replace(".", "%2E")))
            assert response.status_code == 400, (route, garbage, response.status_code)
            assert "text/html" in response.headers["content-type"]


def test_a_group_id_cannot_reach_other_core_endpoints(world):
    """The hole: a moderator everywhere (VIEW_STATS, no ADMIN_DASHBOARD, MANAGE_ROLES or VIEW_AUDIT) asked for the
    stats of the "group" ../../users/<id>; web's check passed (VIEW_STATS is global) and its client, resolving the
    dot segments, read GET /api/users/<id> with web's own key. Likewise assignments and the audit trail."""
    web, token = world["web"], world["tokens"]["global_moderator"]
    for target in (f"../../users/{world['admin']['id']}", "../../rbac/assignments", "../../audit/events",
                   "../../users?limit=200"):
        status, content_type, content = _raw(web, "GET", f"/api/stats?group_id={quote(target, safe='')}", token)
        body = _error(status, content_type, content)
        assert (status, body["error"]) == (400, "invalid_id"), body
        assert world["admin"]["username"] not in content.decode()
    # The users list itself stays refused to them, as it was.
    status, content_type, content = _raw(web, "GET", "/api/users", token)
    assert _error(status, content_type, content)["error"] == "permission_denied"


# -- group-scoped reads: the group in the URL is resolved first, and the decision is about it


@pytest.mark.parametrize("path", ["/api/groups/{}", "/api/groups/{}/members", "/api/stats?group_id={}"])
def test_a_group_moderator_reads_their_group_and_not_another(world, path):
    web, token = world["web"], world["tokens"]["group_moderator"]
    status, _, content = _raw(web, "GET", path.format(world["own"]["id"]), token)
    assert status == 200, content
    status, content_type, content = _raw(web, "GET", path.format(world["other"]["id"]), token)
    assert (status, _error(status, content_type, content)["error"]) == (403, "permission_denied")


@pytest.mark.parametrize("path", ["/api/groups/{}", "/api/groups/{}/members", "/api/stats?group_id={}"])
def test_a_group_that_does_not_exist_is_404_for_anyone(world, path):
    web = world["web"]
    missing = "987654321" if world["own"]["id"].isdigit() else "0123456789abcdef01234567"
    for who in ("group_moderator", "nobody", "admin"):
        status, content_type, content = _raw(web, "GET", path.format(missing), world["tokens"][who])
        assert (status, _error(status, content_type, content)["error"]) == (404, "not_found"), who


def test_a_decision_for_one_group_is_never_used_for_another(world, monkeypatch):
    """Within one request (one DashboardUser), what core allowed in group A answers for group A only."""
    web = world["web"]
    client = CoreClient(f"http://127.0.0.1:{web.core_port}", TEST_KEY, timeout=10)
    monkeypatch.setattr(services, "core", lambda: client)
    own, other = world["own"]["id"], world["other"]["id"]
    user = DashboardUser({"user_id": world["group_moderator"]["id"]})
    assert services.group_get(user, own)["id"] == own
    assert services.group_members(user, own)["total"] == 1
    for read in (services.group_get, services.group_members, services.stats_group):
        with pytest.raises(PermissionDeniedError):
            read(user, other)
    with pytest.raises(PermissionDeniedError):  # a group's grant is not a global one
        services.user_get(user, world["admin"]["id"])
    with pytest.raises(InvalidId):
        services.group_get(user, f"{own}/../{other}")
    with pytest.raises(CoreError) as missing:
        services.group_get(user, "987654321" if own.isdigit() else "0123456789abcdef01234567")
    assert missing.value.status_code == 404
    assert user.granted == {("VIEW_GROUPS", own)}
    client.close()
