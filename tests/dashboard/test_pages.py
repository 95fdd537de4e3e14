"""The dashboard's server-rendered pages against real core and web processes (gunicorn): a browser without
JavaScript (cookies, forms with their CSRF token) signs in, reads every page, changes things, and meets core's
rules and core's absence."""

import json
import re
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest

from tests.e2e.processes import free_port, web_process

from .pages_platform import PageClient, dashboard_platform, unique, visible_text  # noqa: F401 (fixture)

pytestmark = pytest.mark.e2e

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self' ws://{host}; "
       "frame-ancestors 'none'; base-uri 'self'; form-action 'self'")


@pytest.fixture(scope="module")
def web(dashboard_platform):  # noqa: F811
    return dashboard_platform


@pytest.fixture(scope="module")
def world(web):
    """A platform admin, a group with members, messages, a moderation action and a warning."""
    admin = web.user("admin", display_name="Ada Admin")
    group = web.group(unique("World "))
    member = web.user(group=group, display_name="Mia Member")
    banned = web.user(group=group, display_name="Ben Banned")
    web.api.member_update(group["id"], banned["id"], status="banned")
    web.messages(group, 7)
    web.api.moderation_record(type="warn", group_id=group["id"], actor_user_id=admin["id"],
                              target_user_id=member["id"], reason="be nice")
    return {"admin": admin, "group": group, "member": member, "banned": banned}


@pytest.fixture(scope="module")
def admin_browser(web, world) -> PageClient:
    browser = web.browser()
    response = browser.login(world["admin"]["username"])
    assert response.status_code == 302, visible_text(response.text)
    return browser


@pytest.fixture(scope="module")
def nobody_browser(web) -> PageClient:
    """Signed in, with no role anywhere."""
    browser = web.browser()
    assert browser.login(web.user()["username"]).status_code == 302
    return browser


class PageAudit(HTMLParser):
    """What a rendered page must not contain under the CSP (inline scripts, style attributes or elements, on...=
    handlers) and what it must (a label for every form control)."""

    def __init__(self):
        super().__init__()
        self.problems: list[str] = []
        self.labels: set[str] = set()
        self.controls: list[tuple[str, dict]] = []
        self.open_labels = 0
        self.ids: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.append(attrs["id"])
        for name in attrs:
            if name.startswith("on"):
                self.problems.append(f"inline handler {name} on <{tag}>")
        if "style" in attrs:
            self.problems.append(f"style attribute on <{tag}>")
        if tag == "style":
            self.problems.append("<style> element")
        if tag == "script" and "src" not in attrs and attrs.get("type") != "application/json":
            self.problems.append("inline <script>")
        if tag == "script" and "src" in attrs and not re.match(r"/[^/]", attrs["src"]):
            self.problems.append(f"script from elsewhere: {attrs['src']}")
        if tag == "link" and attrs.get("href", "").startswith(("http:", "https:", "//")):
            self.problems.append(f"stylesheet from elsewhere: {attrs['href']}")
        if tag == "label":
            self.open_labels += 1
            if attrs.get("for"):
                self.labels.add(attrs["for"])
        if tag in ("input", "select", "textarea") and attrs.get("type") not in ("hidden", "submit"):
            self.controls.append((tag, {**attrs, "_wrapped": self.open_labels > 0}))

    def handle_endtag(self, tag):
        if tag == "label":
            self.open_labels -= 1

    def unlabelled(self) -> list[str]:
        return [f"<{tag} name={attrs.get('name')}>" for tag, attrs in self.controls
                if not (attrs.get("id") in self.labels or attrs["_wrapped"] or attrs.get("aria-label"))]


def check_page(response: httpx.Response, *, dashboard: bool = True) -> str:
    assert response.headers["content-security-policy"] == CSP.format(host=response.request.headers["host"])
    assert response.headers["content-type"].startswith("text/html")
    audit = PageAudit()
    audit.feed(response.text)
    assert audit.problems == [], audit.problems
    assert audit.unlabelled() == [], audit.unlabelled()
    assert len(audit.ids) == len(set(audit.ids)), sorted({i for i in audit.ids if audit.ids.count(i) > 1})
    assert "Traceback" not in response.text
    if dashboard:
        assert "<main" in response.text and '<a class="skip-link" href="#content-start">' in response.text
    return visible_text(response.text)


# -- signing in and out


@pytest.mark.parametrize("path", ["/", "/groups", "/users/1", "/assignments", "/audit", "/audit.csv", "/moderation"])
def test_signed_out_pages_redirect_to_the_login_page(web, path):
    response = web.browser().get(path)
    assert response.status_code == 302
    location = urlsplit(response.headers["location"])
    assert location.path == "/login" and parse_qs(location.query)["next"] == [path]


def test_login_sets_httponly_cookies_and_logout_revokes_the_session(web, world):
    browser = web.browser()
    login_page = browser.get("/login?next=/groups")
    assert "Log in" in check_page(login_page)
    response = browser.login(world["admin"]["username"], next_url="/groups")
    assert response.status_code == 302 and response.headers["location"] == "/groups"
    cookies = {header.split("=", 1)[0]: header.lower() for header in response.headers.get_list("set-cookie")}
    for name in ("dashboard_access", "dashboard_refresh"):
        assert "httponly" in cookies[name] and "samesite=lax" in cookies[name] and "path=/" in cookies[name]
    refresh = browser.http.cookies["dashboard_refresh"]
    assert browser.get("/groups").status_code == 200
    response = browser.post_form("/logout", {}, form_page="/groups")
    assert response.status_code == 302 and response.headers["location"] == "/login?logged_out=1"
    assert "dashboard_access" not in browser.http.cookies and "dashboard_refresh" not in browser.http.cookies
    jti = jwt.decode(refresh, options={"verify_signature": False})["jti"]
    assert web.api.token_revocation(jti)["revoked"] is True
    assert browser.get("/groups").status_code == 302
    assert "You are logged out" in visible_text(browser.get("/login?logged_out=1").text)


def test_a_wrong_password_is_shown_on_the_form(web, world):
    browser = web.browser()
    response = browser.login(world["admin"]["username"], "not-the-password")
    assert response.status_code == 401
    assert "Invalid username or password" in check_page(response)
    assert "dashboard_access" not in browser.http.cookies


def test_login_goes_only_to_a_local_next_address(web, world):
    response = web.browser().login(world["admin"]["username"], next_url="https://evil.example/steal")
    assert response.status_code == 302, visible_text(response.text)
    assert response.headers["location"] == "/"


def test_an_expired_access_cookie_is_renewed_with_the_refresh_cookie(web, world):
    browser = web.browser()
    browser.login(world["admin"]["username"])
    first_refresh = browser.http.cookies["dashboard_refresh"]
    browser.http.cookies.delete("dashboard_access")  # the browser dropped it when it expired
    response = browser.get("/groups")
    assert response.status_code == 200
    assert browser.http.cookies["dashboard_refresh"] != first_refresh  # rotated
    assert "dashboard_access" in browser.http.cookies
    old_jti = jwt.decode(first_refresh, options={"verify_signature": False})["jti"]
    assert web.api.token_revocation(old_jti)["revoked"] is True


def test_a_revoked_refresh_cookie_means_logging_in_again(web, world):
    browser = web.browser()
    browser.login(world["admin"]["username"])
    stale = browser.http.cookies["dashboard_refresh"]
    browser.http.cookies.delete("dashboard_access")
    assert browser.get("/").status_code == 200  # rotates; `stale` is spent
    other = web.browser()
    other.http.cookies.set("dashboard_refresh", stale, domain="127.0.0.1")
    response = other.get("/groups")
    assert response.status_code == 302 and response.headers["location"].startswith("/login")


# -- every page


def test_every_page_renders_with_core_s_data(web, world, admin_browser):
    group, member = world["group"], world["member"]
    pages = {
        "/": ["Overview", "Groups", "Users", "Moderation actions (24 h)", "Latest audit events"],
        "/groups": [group["title"]],
        f"/groups/{group['id']}": [group["title"], "Settings", "Members", "Mia Member"],
        "/users": [member["username"]],
        f"/users/{member['id']}": ["Mia Member", "Roles", "Warnings", "be nice"],
        "/roles": ["owner", "admin", "moderator", "MANAGE_ROLES"],
        "/assignments": ["Grant a role", "admin"],
        "/audit": ["Audit log", "Hash chain", "Download CSV"],
        "/moderation": ["Moderation log", "warn", "be nice"],
    }
    for path, expected in pages.items():
        response = admin_browser.get(path)
        assert response.status_code == 200, (path, response.text[:500])
        text = check_page(response)
        for snippet in expected:
            assert snippet in text, (path, snippet)
        assert 'aria-label="Breadcrumbs"' in response.text or path == "/"
        assert 'data-live-url="/ws/live"' in response.text and "/static/dashboard/js/live.js" in response.text


def test_the_overview_carries_cards_chart_data_and_the_live_feed(web, world, admin_browser):
    html = admin_browser.get("/").text
    stats = web.api.system_stats()
    for key in ("groups", "users", "denials_24h"):
        assert f'data-stat="{key}">{stats[key]}<' in html
    assert 'data-stat="moderation_actions_24h">' in html
    # The chart: core's hourly series of the busiest groups, summed.
    chart = json.loads(re.search(r'<script id="chart-overview-data" type="application/json">(.*?)</script>', html,
                                 re.S).group(1))
    busiest = web.api.group_list(sort="-messages", limit=8)["items"]
    expected = sum(point["messages"] for group in busiest for point in web.api.group_stats(group["id"])["series"])
    (messages,) = [series["data"] for series in chart["series"] if series["key"] == "messages"]
    assert sum(messages) == expected >= 7
    assert len(chart["labels"]) == len(messages) >= 24
    assert "/static/dashboard/vendor/chart.umd.min.js" in html and "/static/dashboard/js/charts.js" in html
    # The live feed: the latest audit events, newest first, each with its sequence for live.js.
    assert '<ol id="live-feed" aria-live="polite"' in html and '<span id="live-status"' in html
    sequences = [int(number) for number in re.findall(r'<li data-sequence="(\d+)">', html)]
    assert len(sequences) == 10 and sequences == sorted(sequences, reverse=True)
    assert sequences[0] <= int(web.api.audit_events(limit=1)["items"][0]["sequence"])


def test_static_files_are_served_by_web_itself(web):
    for path in ("/static/dashboard/css/dashboard.css", "/static/dashboard/js/charts.js",
                 "/static/dashboard/vendor/chart.umd.min.js"):
        response = httpx.get(f"{web.url}{path}", timeout=10)
        assert response.status_code == 200, path
    assert "Chart.js v4" in httpx.get(f"{web.url}/static/dashboard/vendor/chart.umd.min.js", timeout=10).text[:200]


def test_the_api_docs_load_nothing_from_another_host(web):
    response = httpx.get(f"{web.url}/api/docs", timeout=10)
    assert response.status_code == 200
    check_page(response, dashboard=False)
    assert "cdn" not in response.text.lower()
    init = httpx.get(f"{web.url}/api/docs?script=", timeout=10)
    assert init.status_code == 200 and "SwaggerUIBundle" in init.text
    for asset in re.findall(r'(?:src|href)="(/static/[^"]+)"', response.text):
        assert httpx.get(f"{web.url}{asset}", timeout=10).status_code == 200, asset


# -- lists: search, filters, sorting, pages


def test_group_list_search_sort_and_pages_reach_core(web, world, admin_browser):
    prefix = unique("Sortable ")
    groups = [web.group(f"{prefix} {letter}") for letter in "cab"]
    web.messages(groups[0], 3)
    web.messages(groups[1], 1)
    text = visible_text(admin_browser.get("/groups", params={"q": prefix, "o": "title"}).text)
    assert text.index(f"{prefix} a") < text.index(f"{prefix} b") < text.index(f"{prefix} c")
    assert "3 groups" in text
    html = admin_browser.get("/groups", params={"q": prefix, "o": "-messages"}).text
    text = visible_text(html)
    assert text.index(f"{prefix} c") < text.index(f"{prefix} a") < text.index(f"{prefix} b")
    assert 'aria-sort="descending"' in html
    page2 = visible_text(admin_browser.get("/groups", params={"q": prefix, "o": "title", "limit": 2, "page": 2}).text)
    assert f"{prefix} c" in page2 and f"{prefix} a" not in page2 and "page 2 of 2" in page2
    assert world["group"]["title"] not in page2


@pytest.mark.parametrize(("path", "message"), [
    ("/groups?o=bogus", 'sort: "bogus" is not a valid choice.'),
    ("/groups?color=red", "color: Unknown query parameter."),
    ("/users?page=0", "page: Ensure this value is greater than or equal to 1."),
    ("/audit?action=nope", 'action: "nope" is not a valid choice.'),
])
def test_bad_list_parameters_are_a_400_page_with_the_message(admin_browser, path, message):
    response = admin_browser.get(path)
    assert response.status_code == 400
    assert message in check_page(response).replace("&quot;", '"')


def test_members_status_filter(world, admin_browser):
    group = world["group"]
    banned = visible_text(admin_browser.get(f"/groups/{group['id']}", params={"status": "banned"}).text)
    assert "Ben Banned" in banned and "Mia Member" not in banned
    everyone = visible_text(admin_browser.get(f"/groups/{group['id']}", params={"status": "any"}).text)
    assert "Ben Banned" in everyone and "Mia Member" in everyone
    assert admin_browser.get(f"/groups/{group['id']}", params={"status": "nonsense"}).status_code == 400


def test_the_member_count_and_the_member_list_agree(web, world, admin_browser):
    """member_count counts present members (member, restricted); the list used to show banned ones too."""
    group = world["group"]
    html = admin_browser.get(f"/groups/{group['id']}").text
    text = visible_text(html)
    count = int(re.search(r"<dt>Members</dt><dd>(\d+) ", html).group(1))
    assert count == web.api.group_get(group["id"])["member_count"]
    listed = re.findall(r'<tr>\s*<th scope="row"><a href="/users/', html.split('id="members-title"')[1])
    assert len(listed) == count and "Mia Member" in text and "Ben Banned" not in text.split("Members")[-1]


def test_user_search(world, admin_browser):
    text = visible_text(admin_browser.get("/users", params={"q": world["member"]["username"]}).text)
    results = text.split("Username Display name")[1]
    assert world["member"]["username"] in results and world["admin"]["username"] not in results


def test_audit_filters_csv_and_chain_verification(web, world, admin_browser):
    html = admin_browser.get("/audit", params={"action": "moderation.request"}).text
    text = visible_text(html)
    assert "moderation.request" in text and "auth.login" not in text.split("Older events")[0].split("Reason")[-1]
    assert "Not verified on this page yet" in text
    verified = visible_text(admin_browser.get("/audit", params={"verify": 1}).text)
    assert "Intact: all" in verified
    csv = admin_browser.get("/audit.csv", params={"action": "auth.login"})
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    lines = csv.text.strip().splitlines()
    assert lines[0].startswith("sequence,created_at") and len(lines) > 1
    assert all(",auth.login," in line for line in lines[1:])
    older = admin_browser.get("/audit", params={"limit": 2})
    next_link = [part for part in older.text.split('"') if "cursor=" in part]
    assert next_link, "no link to older events"


def _audit_rows(html: str) -> list[str]:
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [row for row in body.split("<tr>")[1:] if "<th scope=\"row\">" in row]


def test_pages_show_names_titles_and_permissions_not_ids(web, world, admin_browser):
    admin, group, member = world["admin"], world["group"], world["member"]
    moderation = admin_browser.get("/moderation", params={"group_id": group["id"]}).text
    (row,) = [row for row in moderation.split("<tr>") if "be nice" in row]
    assert f'>{admin["display_name"]}</a>' in row and f'>{member["display_name"]}</a>' in row
    assert f'>{group["title"]}</a>' in row and re.search(r'<time datetime="[^"]+">[^<]+ UTC</time>', row)
    audit = admin_browser.get("/audit", params={"action": "moderation.request", "group_id": group["id"]}).text
    (row,) = _audit_rows(audit)
    assert f'>{admin["display_name"]}</a>' in row and f'>{group["title"]}</a>' in row
    checks = admin_browser.get("/audit", params={"action": "permission.check", "dashboard_reads": 1}).text
    assert '<code class="permission">VIEW_AUDIT</code>' in checks and f'>{admin["display_name"]}</a>' in checks
    target = web.user(display_name="Gina Granted")
    web.api.assign_role(user_id=target["id"], role="helper", group_id=group["id"])
    assignments = admin_browser.get("/assignments", params={"user_id": target["id"]}).text
    assert ">Gina Granted</a>" in assignments and f'>{group["title"]}</a>' in assignments
    assert "/static/dashboard/js/localtime.js" in assignments


def test_the_audit_views_hide_the_dashboards_own_reads_unless_asked(web, world, admin_browser):
    admin_browser.get(f"/groups/{world['group']['id']}")  # web's reads for this page: checks by service "web"
    shown = _audit_rows(admin_browser.get("/audit", params={"limit": 200}).text)
    assert shown and not [row for row in shown if "<code>permission.check</code>" in row and "<td>web</td>" in row]
    page = admin_browser.get("/audit", params={"limit": 200, "dashboard_reads": 1}).text
    assert [row for row in _audit_rows(page) if "<code>permission.check</code>" in row and "<td>web</td>" in row]
    assert "Hide dashboard reads" in page and "Show dashboard reads" in admin_browser.get("/audit").text
    hidden_csv = admin_browser.get("/audit.csv", params={"action": "permission.check"}).text.splitlines()[1:]
    assert not [line for line in hidden_csv if ",web," in line]
    full_csv = admin_browser.get("/audit.csv", params={"action": "permission.check", "dashboard_reads": 1}).text
    assert [line for line in full_csv.splitlines()[1:] if ",web," in line]


def test_a_global_admin_on_a_group_page_writes_no_denial(web, world, admin_browser):
    """The platform admin is no member of the group: before, each group page wrote two not_a_member denials."""
    before = web.api.audit_events(limit=1)["items"][0]["sequence"]
    assert admin_browser.get(f"/groups/{world['group']['id']}").status_code == 200
    after = web.api.audit_events(after=before, limit=200)["items"]
    checks = [event for event in after if event["action"] == "permission.check"]
    assert checks and all(event["result"] == "allowed" for event in checks), checks


def test_a_live_feed_row_is_the_first_pages_row(web, world, admin_browser):
    """live.js inserts the html each audit message carries: the overview's own partial, rendered by web."""
    from apps.dashboard.live.rows import feed_item_html

    html = admin_browser.get("/").text
    first = re.search(r'<li data-sequence="(\d+)">.*?</li>', html, re.S)
    (event,) = [item for item in web.api.audit_events(limit=50, hide_checks_by="web")["items"]
                if item["sequence"] == int(first.group(1))]
    assert feed_item_html(event) == first.group(0)
    assert "<time datetime=" in first.group(0)


BUFFERED = "must consume synchronous iterators"


def test_the_audit_csv_is_streamed_not_buffered(web, admin_browser, tmp_path_factory):
    """Under the ASGI server Django reads a synchronous streaming body whole into memory, and warns (once per
    process). A fresh web instance: the CSV must not set the warning off; a static file (WhiteNoise's synchronous
    file iterator) then does, which shows the check sees it."""
    port = free_port()
    fresh = web_process(tmp_path_factory.mktemp("fresh"), port, web.core_port, name="web-fresh",
                        env=web.web_env()).start()
    try:
        browser = PageClient(f"http://127.0.0.1:{port}").copy_session(admin_browser)
        csv = browser.get("/audit.csv")
        assert csv.status_code == 200 and csv.text.startswith("sequence,")
        assert BUFFERED not in fresh.log_path.read_text(errors="replace")
        assert browser.get("/static/dashboard/css/dashboard.css").status_code == 200
        assert BUFFERED in fresh.log_path.read_text(errors="replace")
    finally:
        fresh.stop()


def test_moderation_filters(world, admin_browser):
    warned = visible_text(admin_browser.get("/moderation", params={"type": "warn",
                                                                    "group_id": world["group"]["id"]}).text)
    assert "be nice" in warned and "1 action " in warned
    assert "No moderation actions match" in visible_text(admin_browser.get("/moderation", params={"type": "ban"}).text)


# -- forms


def test_grant_a_role_and_see_core_s_rank_rule(web, world, admin_browser):
    target = web.user()
    response = admin_browser.post_form("/assignments", {"user_id": target["id"], "role": "moderator",
                                                        "group_id": world["group"]["id"], "reason": "helps out"})
    assert response.status_code == 302, response.text[:2000]
    granted = parse_qs(urlsplit(response.headers["location"]).query)["granted"][0]
    (assignment,) = web.api.assignments(user_id=target["id"])["items"]
    assert (assignment["id"], assignment["role"], assignment["group_id"]) == (granted, "moderator",
                                                                               world["group"]["id"])
    refused = admin_browser.post_form("/assignments", {"user_id": target["id"], "role": "owner", "reason": "x"})
    assert refused.status_code == 403
    text = check_page(refused)
    assert "rank" in text.lower()
    assert [a["role"] for a in web.api.assignments(user_id=target["id"])["items"]] == ["moderator"]


def test_the_grant_form_picks_people_by_name_and_defaults_low(web, world, admin_browser):
    page = admin_browser.get("/assignments").text
    assert '<datalist id="grant-users">' in page and 'list="grant-users"' in page
    assert re.search(r'<option value="member" selected>', page) and not re.search(r'value="owner" selected', page)
    scope = page.split('name="group_id"', 1)[1].split("</select>", 1)[0]
    assert " selected>" in scope and '<option value="" selected>' not in scope  # a group scope, not global
    named = web.user(display_name=unique("Nora Named "), telegram_username=unique("nora")[:30])
    for typed in (named["display_name"], f"@{named['telegram_username']}", named["id"],
                  f"{named['display_name']} (@{named['telegram_username']})"):
        response = admin_browser.post_form("/assignments", {"user_id": typed, "role": "helper",
                                                            "group_id": world["group"]["id"]})
        assert response.status_code == 302, (typed, visible_text(response.text)[:500])
    assert [a["role"] for a in web.api.assignments(user_id=named["id"])["items"]] == ["helper"]
    twin = unique("Twin ")
    web.user(display_name=twin)
    web.user(display_name=twin)
    ambiguous = admin_browser.post_form("/assignments", {"user_id": twin, "role": "helper",
                                                         "group_id": world["group"]["id"]})
    assert ambiguous.status_code == 400 and "names several users" in visible_text(ambiguous.text)
    nobody = admin_browser.post_form("/assignments", {"user_id": "No Such Person", "role": "helper"})
    assert nobody.status_code == 400 and "No user is called" in visible_text(nobody.text)


def test_grant_form_shows_core_s_validation_messages(web, admin_browser):
    response = admin_browser.post_form("/assignments", {"user_id": "999999999", "role": "helper"})
    assert response.status_code == 404
    assert "not found" in check_page(response).lower()
    empty = admin_browser.post_form("/assignments", {"user_id": "", "role": "helper"})
    assert empty.status_code == 400 and "This field is required." in visible_text(empty.text)


def test_revoke_asks_for_confirmation_then_revokes(web, world, admin_browser):
    target = web.user()
    assignment = web.api.assign_role(user_id=target["id"], role="helper", group_id=world["group"]["id"])
    listing = admin_browser.get("/assignments", params={"user_id": target["id"]}).text
    link = next(part for part in listing.split('"') if part.startswith(f"/assignments/{assignment['id']}/revoke"))
    confirm = admin_browser.get(link.replace("&amp;", "&"))
    text = check_page(confirm)
    assert "Are you sure?" in text and "Role helper" in text and world["group"]["title"] in text
    crafted = check_page(admin_browser.get(f"/assignments/{assignment['id']}/revoke",
                                           params={"user_id": target["id"], "role": "owner"}))
    assert "Role helper" in crafted and "owner" not in crafted  # the page shows core's record, not the link's
    assert web.api.assignments(user_id=target["id"], active=True)["total"] == 1  # nothing happened yet
    response = admin_browser.post_form(f"/assignments/{assignment['id']}/revoke",
                                       {"reason": "no longer needed", "group_id": world["group"]["id"]},
                                       form_page=link.replace("&amp;", "&"))
    assert response.status_code == 302
    assert web.api.assignments(user_id=target["id"], active=True)["total"] == 0
    (revoked,) = web.api.assignments(user_id=target["id"])["items"]
    assert revoked["revoke_reason"] == "no longer needed"
    missing_reason = admin_browser.post_form(f"/assignments/{assignment['id']}/revoke", {"reason": ""},
                                             form_page=link.replace("&amp;", "&"))
    assert missing_reason.status_code == 400


def test_group_settings_form_saves_and_shows_core_s_messages(web, world, admin_browser):
    group = web.group()
    path = f"/groups/{group['id']}"
    form = {"title": group["title"], "is_active": "on", "warn_limit": "5", "warn_action": "mute"}
    response = admin_browser.post_form(path, form)
    assert response.status_code == 302 and response.headers["location"] == f"{path}?saved=1"
    stored = web.api.group_get(group["id"])
    assert (stored["warn_limit"], stored["warn_action"]) == (5, "mute")
    refused = admin_browser.post_form(path, {**form, "warn_action_duration_seconds": "1"})
    assert refused.status_code == 400
    audit = PageAudit()
    audit.feed(refused.text)
    assert 'id="id_warn_action_duration_seconds_error"' in refused.text  # core's message, on its field
    assert 'aria-invalid="true"' in refused.text


def test_the_welcome_rules_and_log_chat_are_not_in_the_settings_form(web, world, admin_browser):
    """They moved to the Protection section (tests/dashboard/test_protection_pages.py): one place for them. Sent to
    the settings form anyway, they change nothing."""
    group = web.group()
    path = f"/groups/{group['id']}"
    form = {"title": group["title"], "is_active": "on", "warn_limit": "3", "warn_action": "ban",
            "welcome_text": "Hello!", "log_chat_id": "-1001234567890"}
    assert admin_browser.post_form(path, form).headers["location"] == f"{path}?saved=0"
    stored = web.api.group_get(group["id"])
    assert (stored["welcome_text"], stored["log_chat_id"]) == ("", None)


def test_posting_without_the_csrf_token_is_refused(web, world, admin_browser):
    for path, data in (("/assignments", {"user_id": world["member"]["id"], "role": "helper"}), ("/logout", {})):
        response = admin_browser.http.post(path, data=data)
        assert response.status_code == 403
        assert "CSRF" in check_page(response)
    assert web.api.assignments(user_id=world["member"]["id"], role="helper")["total"] == 0
    assert admin_browser.get("/").status_code == 200  # still signed in


def test_read_only_pages_refuse_other_methods(admin_browser):
    token = admin_browser.csrf_token("/groups")
    for path in ("/", "/groups", "/users", "/roles", "/audit", "/moderation"):
        response = admin_browser.http.post(path, data={"csrfmiddlewaretoken": token})
        assert response.status_code == 405, path
        assert response.headers["allow"] in ("GET, HEAD", "HEAD, GET"), path


# -- permissions and core down


@pytest.mark.parametrize(("path", "permission"), [("/users", "ADMIN_DASHBOARD"), ("/roles", "MANAGE_ROLES"),
                                                  ("/audit", "VIEW_AUDIT"), ("/groups", "VIEW_GROUPS")])
def test_a_page_core_refuses_is_a_403_naming_the_permission(nobody_browser, path, permission):
    response = nobody_browser.get(path)
    assert response.status_code == 403
    text = check_page(response)
    assert f"Missing permission: {permission}" in text


def test_the_overview_of_a_user_without_dashboard_rights_says_so(nobody_browser):
    response = nobody_browser.get("/")
    assert response.status_code == 200
    assert "You need the ADMIN_DASHBOARD permission" in check_page(response)


@pytest.fixture(scope="module")
def lonely_web(web, tmp_path_factory):
    """A second web instance (same signing key) whose core is not there."""
    port = free_port()
    process = web_process(tmp_path_factory.mktemp("lonely"), port, free_port(), name="web-lonely",
                          env=web.web_env()).start()
    yield f"http://127.0.0.1:{port}"
    process.stop()


def test_core_down_is_a_503_page_with_a_banner(web, world, admin_browser, lonely_web):
    browser = PageClient(lonely_web).copy_session(admin_browser)
    for path in ("/", "/groups", f"/groups/{world['group']['id']}", "/audit"):
        response = browser.get(path)
        assert response.status_code == 503, path
        assert response.headers["retry-after"] == "5"
        assert "Core unavailable" in check_page(response)
    login = PageClient(lonely_web).login("anyone")
    assert login.status_code == 503 and "Core unavailable" in visible_text(login.text)


def test_unknown_things_are_404_pages_and_unknown_api_paths_stay_json(web, admin_browser):
    # (An unknown page path is Django's debug 404 here: the test instances run with DEBUG on.)
    for path in ("/groups/999999", "/users/999999"):
        response = admin_browser.get(path)
        assert response.status_code == 404, path
        assert "not found" in check_page(response).lower(), path
    api = httpx.get(f"{web.url}/api/no-such-endpoint", timeout=10)
    assert api.status_code == 404 and api.json()["error"] == "not_found"


# -- production settings


def test_production_profile_secures_the_pages(tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    from apps.dashboard.keys import generate_private_pem

    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.web", "APP_ENV": "production",
           "SECRET_KEY": "p" * 60, "ALLOWED_HOSTS": "dash.example.org", "CORE_API_KEY": "k",
           "JWT_PRIVATE_KEY": generate_private_pem("EdDSA"), "DATA_DIR": str(tmp_path)}
    script = ("import json, django; django.setup(); from django.conf import settings as s; print(json.dumps({"
              "'hsts': s.SECURE_HSTS_SECONDS, 'csrf_secure': s.CSRF_COOKIE_SECURE, "
              "'cookie_secure': s.DASHBOARD_COOKIE_SECURE, 'ssl_redirect': s.SECURE_SSL_REDIRECT, "
              "'middleware': s.MIDDLEWARE, 'csrf_sessions': s.CSRF_USE_SESSIONS, "
              "'swagger': s.SPECTACULAR_SETTINGS['SWAGGER_UI_DIST']}))")
    result = subprocess.run([sys.executable, "-c", script], cwd=Path(__file__).resolve().parents[2], env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert found["hsts"] >= 31_536_000 and found["csrf_secure"] and found["cookie_secure"] and found["ssl_redirect"]
    assert found["csrf_sessions"] is False and found["swagger"] == "SIDECAR"
    middleware = found["middleware"]
    assert middleware.index("django.middleware.security.SecurityMiddleware") \
        < middleware.index("whitenoise.middleware.WhiteNoiseMiddleware")
    assert "apps.dashboard.pages.security.ContentSecurityPolicyMiddleware" in middleware
    assert "django.middleware.csrf.CsrfViewMiddleware" in middleware


def test_token_cookies_are_secure_when_configured(settings):
    from datetime import timedelta

    from django.http import HttpResponse

    from apps.dashboard.pages.auth import set_token_cookies

    settings.DASHBOARD_ACCESS_COOKIE, settings.DASHBOARD_REFRESH_COOKIE = "dashboard_access", "dashboard_refresh"
    settings.DASHBOARD_COOKIE_SECURE = True
    settings.SIMPLE_JWT = {"ACCESS_TOKEN_LIFETIME": timedelta(minutes=5), "REFRESH_TOKEN_LIFETIME": timedelta(days=1)}
    response = HttpResponse()
    set_token_cookies(response, {"access": "a", "refresh": "r"})
    for name, max_age in (("dashboard_access", 300), ("dashboard_refresh", 86_400)):
        cookie = response.cookies[name]
        assert cookie["secure"] and cookie["httponly"] and cookie["samesite"] == "Lax" and cookie["path"] == "/"
        assert cookie["max-age"] == max_age
