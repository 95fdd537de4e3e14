"""The web role's API end to end: real core and web processes (gunicorn), a browser's view of it over HTTP.

Every JSON answer is checked against web's own OpenAPI schema (/api/schema). Each test logs in from its own
address (X-Forwarded-For, from a trusted proxy at 127.0.0.1) so the per-address login limit of one test never meets
another's.
"""

import base64
import hashlib
import hmac
import itertools
import json
import re
import socket
import time
import uuid
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from functools import cached_property

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from apps.coreclient import CoreError
from apps.dashboard.keys import generate_private_pem
from tests.openapi import _rewrite_refs, _to_json_schema

from .processes import free_port, web_process

pytestmark = pytest.mark.e2e

PASSWORD = "correct-Horse-battery-9"
AUDIENCE, ISSUER = "tgmod-dashboard", "tgmod-web"
_numbers = itertools.count(1)


def unique(prefix: str) -> str:
    return f"{prefix}{next(_numbers)}_{uuid.uuid4().hex[:6]}"


class Schema:
    """Web's OpenAPI document, as JSON Schema per operation and status."""

    def __init__(self, document: dict):
        self.document = document
        components = _to_json_schema(document["components"])
        self.registry = Registry().with_resource(
            "urn:components", Resource.from_contents({"components": components}, DRAFT202012))
        self.operations = []
        for path, item in document["paths"].items():
            pattern = re.compile("^" + re.sub(r"\{[^}]+\}", r"[^/]+", path) + "$")
            for method, operation in item.items():
                self.operations.append((pattern, method.lower(), operation))

    def validate(self, method: str, path: str, status: int, body) -> None:
        for pattern, op_method, operation in self.operations:
            if op_method == method.lower() and pattern.match(path):
                response = operation["responses"].get(str(status))
                assert response is not None, f"{method} {path}: status {status} is not documented"
                content = response.get("content", {}).get("application/json")
                if content is None:
                    return
                validator = Draft202012Validator(_rewrite_refs(_to_json_schema(content["schema"])),
                                                 registry=self.registry)
                errors = [f"{'/'.join(map(str, e.path))}: {e.message}" for e in validator.iter_errors(body)]
                assert not errors, f"{method} {path} -> {status} does not match the schema: {errors[:5]}"
                return
        raise AssertionError(f"{method} {path} is not in web's OpenAPI schema")


class Browser:
    """A browser at its own address, talking to web; every JSON answer validated against web's schema."""

    def __init__(self, base_url: str, schema: Schema | None, ip: str | None = None):
        self.http = httpx.Client(base_url=base_url, timeout=10)
        self.schema = schema
        self.ip = ip or f"198.51.100.{next(_numbers) % 250 + 1}"
        self.access: str | None = None
        self.refresh: str | None = None

    def request(self, method: str, path: str, *, token: str | None = None, **kwargs) -> httpx.Response:
        headers = {"X-Forwarded-For": self.ip, **kwargs.pop("headers", {})}
        token = token if token is not None else self.access
        if token:
            headers["Authorization"] = f"Bearer {token}"
        response = self.http.request(method, path, headers=headers, **kwargs)
        if self.schema and response.headers.get("content-type", "").startswith("application/json"):
            self.schema.validate(method, path.split("?")[0], response.status_code, response.json())
        return response

    def get(self, path, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path, body=None, **kwargs):
        return self.request("POST", path, json=body if body is not None else {}, **kwargs)

    def login(self, username: str, password: str = PASSWORD) -> httpx.Response:
        response = self.post("/api/auth/login", {"username": username, "password": password}, token="")
        if response.status_code == 200:
            data = response.json()["data"]
            self.access, self.refresh = data["access"], data["refresh"]
        return response


def error(response: httpx.Response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["success"] is False and body["error"] == code and body["status_code"] == status, body
    assert len(body["message"]) >= 5
    return body


REUSE_GRACE_SECONDS = 1.0


class WebPlatform:
    def __init__(self, platform, tmp):
        self.platform = platform
        self.core = platform.api
        self.private_pem = generate_private_pem("EdDSA")
        self.port = free_port()
        self.web = web_process(tmp, self.port, platform.core_port, env={
            "JWT_PRIVATE_KEY": self.private_pem,
            "TRUSTED_PROXIES": "127.0.0.1",
            "LOGIN_MAX_FAILURES_PER_ACCOUNT": "3",
            "LOGIN_MAX_FAILURES_PER_IP": "6",
            "LOGIN_LOCKOUT_SECONDS": "60",
            "JWT_REFRESH_REUSE_GRACE_SECONDS": str(REUSE_GRACE_SECONDS),
        })
        self.url = f"http://127.0.0.1:{self.port}"

    @cached_property
    def schema(self) -> Schema:
        response = httpx.get(f"{self.url}/api/schema?format=json", timeout=10)
        assert response.status_code == 200, response.text
        return Schema(response.json())

    def browser(self, **kwargs) -> Browser:
        return Browser(self.url, self.schema, **kwargs)

    def user(self, role: str | None = None, *, group: dict | None = None, member: bool = True, **fields) -> dict:
        user = self.core.user_create(username=unique("u"), password=PASSWORD, **fields)
        if group is not None and member:
            self.core.member_set(group["id"], user_id=user["id"])
        if role:
            self.core.assign_role(user_id=user["id"], role=role, group_id=group["id"] if group else None)
        return user

    def group(self, title: str | None = None) -> dict:
        # Far from the sandbox's chat ids (-1002000000001 up): the bot's tests share this core.
        return asdict(self.core.group_register(telegram_chat_id=-1009000000000 - next(_numbers),
                                               title=title or unique("Web group "), type="supergroup"))

    def token(self, claims: dict | None = None, *, key=None, algorithm: str = "EdDSA", headers=None, **overrides):
        now = int(time.time())
        payload = {"token_type": "access", "user_id": "1", "username": "x", "jti": uuid.uuid4().hex, "iat": now,
                   "exp": now + 300, "aud": AUDIENCE, "iss": ISSUER, **(claims or {})}
        payload.update(overrides)
        payload = {name: value for name, value in payload.items() if value is not None}
        return jwt.encode(payload, key if key is not None else self.private_pem, algorithm=algorithm, headers=headers)

    def audit(self, **filters) -> list[dict]:
        return self.core.audit_events(**filters)["items"]


@pytest.fixture(scope="module")
def web(platform, tmp_path_factory):
    web = WebPlatform(platform, tmp_path_factory.mktemp("web"))
    web.web.start()
    yield web
    web.web.stop()


@pytest.fixture
def admin(web):
    """A platform admin: the global admin role (rank 80), not a member of any group."""
    user = web.user("admin")
    browser = web.browser()
    assert browser.login(user["username"]).status_code == 200
    return user, browser


def _claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


# -- logging in


def test_login_returns_an_asymmetrically_signed_pair_and_core_audits_it(web):
    user = web.user(display_name="Dana")
    browser = web.browser()
    response = browser.login(user["username"])
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert data["token_type"] == "Bearer"
    assert data["user"] == {"id": user["id"], "username": user["username"], "display_name": "Dana",
                            "is_staff": False}
    assert jwt.get_unverified_header(data["access"])["alg"] == "EdDSA"
    access, refresh = _claims(data["access"]), _claims(data["refresh"])
    assert (access["token_type"], refresh["token_type"]) == ("access", "refresh")
    assert access["user_id"] == refresh["user_id"] == user["id"]
    assert (access["aud"], access["iss"]) == (AUDIENCE, ISSUER)
    assert access["sid"] == refresh["sid"] == refresh["jti"]
    assert access["exp"] - access["iat"] == 300
    (event,) = web.audit(action="auth.login", actor_user_id=user["id"])
    assert (event["result"], event["service"]) == ("success", "web")
    assert event["details"]["client_ip"] == browser.ip
    me = browser.get("/api/me").json()["data"]
    assert me == {"user": {"id": user["id"], "username": user["username"], "display_name": "Dana",
                           "is_active": True, "is_staff": False}, "permissions": []}


def test_a_wrong_password_and_an_unknown_user_get_the_same_401_and_are_audited(web):
    user = web.user()
    browser = web.browser()
    wrong = error(browser.login(user["username"], "not-the-password"), 401, "invalid_credentials")
    nobody_name = unique("nobody")
    nobody = error(browser.login(nobody_name), 401, "invalid_credentials")
    assert wrong["message"] == nobody["message"]
    failures = [event for event in web.audit(action="auth.login", result="failure", limit=50)
                if event["details"].get("username") in (user["username"], nobody_name)]
    assert sorted(event["reason"] for event in failures) == ["unknown_user", "wrong_password"]
    assert all(event["details"]["client_ip"] == browser.ip for event in failures)


def test_an_inactive_user_cannot_log_in(web):
    user = web.user()
    web.core.user_update(user["id"], is_active=False)
    error(web.browser().login(user["username"]), 401, "invalid_credentials")


def test_failed_logins_are_limited_per_account(web):
    user = web.user()
    for _ in range(3):  # LOGIN_MAX_FAILURES_PER_ACCOUNT=3, each from another address
        error(web.browser().login(user["username"], "guess"), 401, "invalid_credentials")
    response = web.browser().login(user["username"])  # the right password, from a fresh address: still locked
    body = error(response, 429, "rate_limited")
    assert body["details"]["scope"] == "account"
    assert 0 < int(response.headers["Retry-After"]) <= 60
    assert "account" in body["message"]
    # The refused attempt never reached core: three failures on the trail, no success.
    attempts = [event for event in web.audit(action="auth.login", actor_user_id=user["id"])]
    assert [event["result"] for event in attempts] == ["failure"] * 3


def test_failed_logins_are_limited_per_address(web):
    browser = web.browser()
    for _ in range(6):  # LOGIN_MAX_FAILURES_PER_IP=6, each against another name
        error(browser.login(unique("ghost")), 401, "invalid_credentials")
    someone = web.user()
    response = browser.login(someone["username"])
    assert error(response, 429, "rate_limited")["details"]["scope"] == "ip"
    assert int(response.headers["Retry-After"]) >= 1
    assert web.browser().login(someone["username"]).status_code == 200  # the same account from elsewhere


def test_a_successful_login_clears_the_accounts_failures(web):
    user = web.user()
    browser = web.browser()
    for _ in range(2):
        error(browser.login(user["username"], "guess"), 401, "invalid_credentials")
    assert browser.login(user["username"]).status_code == 200
    for _ in range(2):
        error(browser.login(user["username"], "guess"), 401, "invalid_credentials")
    assert browser.login(user["username"]).status_code == 200


def test_login_input_is_strict(web):
    browser = web.browser()
    error(browser.post("/api/auth/login", {"username": "a"}, token=""), 400, "validation_error")
    error(browser.post("/api/auth/login", {"username": "a", "password": "b", "otp": 1}, token=""), 400,
          "validation_error")
    error(browser.post("/api/auth/login", {"username": ["a"], "password": "b"}, token=""), 400, "validation_error")
    response = browser.request("POST", "/api/auth/login", content=b"{not json", token="",
                               headers={"Content-Type": "application/json"})
    error(response, 400, "malformed_request")


# -- refresh and logout


def test_refresh_rotates_and_the_old_refresh_token_is_refused(web):
    user = web.user()
    browser = web.browser()
    browser.login(user["username"])
    first_refresh, first_sid = browser.refresh, _claims(browser.refresh)["sid"]
    response = browser.post("/api/auth/refresh", {"refresh": first_refresh}, token="")
    assert response.status_code == 200, response.text
    pair = response.json()["data"]
    assert pair["refresh"] != first_refresh and pair["access"] != browser.access
    assert _claims(pair["refresh"])["sid"] == first_sid  # the same login session
    assert web.core.token_revocation(_claims(first_refresh)["jti"])["revoked"] is True
    again = browser.post("/api/auth/refresh", {"refresh": pair["refresh"]}, token="")
    assert again.status_code == 200
    assert browser.get("/api/me", token=again.json()["data"]["access"]).status_code == 200
    # A rotated token presented again (past the grace for concurrent refreshes) is refused, and revokes its
    # session: the latest pair goes with it (tests/dashboard/test_refresh_reuse.py).
    time.sleep(REUSE_GRACE_SECONDS)
    error(browser.post("/api/auth/refresh", {"refresh": first_refresh}, token=""), 401, "token_revoked")
    error(browser.post("/api/auth/refresh", {"refresh": again.json()["data"]["refresh"]}, token=""), 401,
          "token_revoked")


def test_concurrent_refreshes_with_one_token_yield_one_new_pair(web):
    from concurrent.futures import ThreadPoolExecutor

    user = web.user()
    browser = web.browser()
    browser.login(user["username"])
    with ThreadPoolExecutor(4) as pool:
        statuses = list(pool.map(
            lambda _: httpx.post(f"{web.url}/api/auth/refresh", json={"refresh": browser.refresh}, timeout=10,
                                 headers={"X-Forwarded-For": browser.ip}).status_code, range(4)))
    assert sorted(statuses) == [200, 401, 401, 401]
    # The repeats came within the grace: refused, but the session lives on, so the pair one tab got works.
    assert web.core.token_family_revocation(_claims(browser.refresh)["sid"])["revoked"] is False


def test_logout_makes_the_refresh_token_unusable(web):
    user = web.user()
    browser = web.browser()
    browser.login(user["username"])
    response = browser.post("/api/auth/logout", {"refresh": browser.refresh}, token="")
    assert response.status_code == 200 and response.json()["data"] == {"revoked": True}
    error(browser.post("/api/auth/refresh", {"refresh": browser.refresh}, token=""), 401, "token_revoked")
    assert browser.post("/api/auth/logout", {"refresh": browser.refresh}, token="").status_code == 200  # idempotent
    events = web.audit(action="auth.token_revoke", actor_user_id=user["id"])
    assert [(event["result"], event["reason"]) for event in events][-1] == ("success", "logout")


def test_refresh_and_logout_refuse_an_access_token(web):
    user = web.user()
    browser = web.browser()
    browser.login(user["username"])
    error(browser.post("/api/auth/refresh", {"refresh": browser.access}, token=""), 401, "invalid_token")
    error(browser.post("/api/auth/logout", {"refresh": browser.access}, token=""), 401, "invalid_token")


def test_refresh_for_a_deactivated_user_is_refused(web):
    user = web.user()
    browser = web.browser()
    browser.login(user["username"])
    web.core.user_update(user["id"], is_active=False)
    error(browser.post("/api/auth/refresh", {"refresh": browser.refresh}, token=""), 401, "invalid_token")


# -- bad tokens


def _tampered(token: str) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["user_id"] = "999999"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


def _part(value) -> str:
    raw = value if isinstance(value, bytes) else json.dumps(value).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unsigned(claims: dict) -> str:
    return f"{_part({'alg': 'none', 'typ': 'JWT'})}.{_part(claims)}."


def _hs256_with_public_key(web, user) -> str:
    """The algorithm-confusion attack: HMAC "signed" with the (public) verifying key as the secret."""
    claims = _claims(web.token({"user_id": user["id"]}))
    signing_input = f"{_part({'alg': 'HS256', 'typ': 'JWT'})}.{_part(claims)}"
    digest = hmac.new(_public_pem(web.private_pem).encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_part(digest)}"


BAD_TOKENS = {
    "expired": lambda web, user: web.token({"user_id": user["id"]}, exp=int(time.time()) - 60,
                                           iat=int(time.time()) - 400),
    "malformed": lambda web, user: "not-a-jwt",
    "three garbage parts": lambda web, user: "abc.def.ghi",
    "tampered": lambda web, user: _tampered(web.token({"user_id": user["id"]})),
    "alg none": lambda web, user: _unsigned({"token_type": "access", "user_id": user["id"], "jti": "x",
                                             "exp": int(time.time()) + 300, "aud": AUDIENCE, "iss": ISSUER}),
    "wrong key": lambda web, user: web.token({"user_id": user["id"]}, key=generate_private_pem("EdDSA")),
    "wrong audience": lambda web, user: web.token({"user_id": user["id"]}, aud="another-app"),
    "no audience": lambda web, user: web.token({"user_id": user["id"]}, aud=None),
    "wrong issuer": lambda web, user: web.token({"user_id": user["id"]}, iss="someone-else"),
    "HS256 keyed with the public key": lambda web, user: _hs256_with_public_key(web, user),
    "a refresh token": lambda web, user: web.token({"user_id": user["id"]}, token_type="refresh"),
    "no expiry": lambda web, user: web.token({"user_id": user["id"]}, exp=None),
    "no user": lambda web, user: web.token({"user_id": None}),
}


def _public_pem(private_pem: str) -> str:
    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo).decode()


@pytest.mark.parametrize("kind", list(BAD_TOKENS))
def test_bad_tokens_are_401_in_the_envelope(web, kind):
    user = web.user("owner")
    token = _forge(web, user, kind)
    response = web.browser().get("/api/groups", token=token)
    expected = "token_expired" if kind == "expired" else "invalid_token"
    error(response, 401, expected)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def _forge(web, user, kind):
    forge = BAD_TOKENS[kind]
    return forge(web, user)


def test_a_well_formed_token_signed_with_the_right_key_is_accepted(web):
    """The forging helper itself makes valid tokens: the bad-token cases differ in one thing only."""
    user = web.user("owner")
    assert web.browser().get("/api/groups", token=web.token({"user_id": user["id"]})).status_code == 200


def test_missing_or_misshapen_authorization_header(web):
    browser = web.browser()
    response = browser.get("/api/groups", token="")
    error(response, 401, "unauthenticated")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    error(browser.get("/api/groups", token="", headers={"Authorization": "Token abc"}), 401, "invalid_token")
    error(browser.get("/api/groups", token="", headers={"Authorization": "Bearer"}), 401, "invalid_token")
    error(browser.get("/api/groups", token="", headers={"Authorization": "Bearer a b"}), 401, "invalid_token")


# -- permissions


@pytest.mark.parametrize(("path", "permission"), [
    ("/api/groups", "VIEW_GROUPS"),
    ("/api/users", "ADMIN_DASHBOARD"),
    ("/api/roles", "MANAGE_ROLES"),
    ("/api/assignments", "MANAGE_ROLES"),
    ("/api/audit", "VIEW_AUDIT"),
    ("/api/audit.csv", "VIEW_AUDIT"),
    ("/api/moderation", "VIEW_AUDIT"),
    ("/api/stats", "ADMIN_DASHBOARD"),
])
def test_a_user_without_the_permission_gets_403_naming_it(web, path, permission):
    user = web.user()
    browser = web.browser()
    browser.login(user["username"])
    body = error(browser.get(path), 403, "permission_denied")
    assert permission in body["message"]
    assert body["details"] == {"permission": permission, "reason": "permission_not_granted"}


def test_group_requests_accept_a_role_in_that_group(web):
    group, other = web.group(), web.group()
    moderator = web.user("moderator", group=group)
    browser = web.browser()
    browser.login(moderator["username"])
    assert browser.get(f"/api/groups/{group['id']}").json()["data"]["id"] == group["id"]
    members = browser.get(f"/api/groups/{group['id']}/members").json()
    assert [member["user_id"] for member in members["data"]] == [moderator["id"]]
    assert browser.get(f"/api/stats?group_id={group['id']}").status_code == 200  # moderators hold VIEW_STATS
    body = error(browser.get(f"/api/groups/{other['id']}"), 403, "permission_denied")
    assert body["details"] == {"permission": "VIEW_GROUPS", "reason": "permission_not_granted"}
    error(browser.get("/api/groups"), 403, "permission_denied")  # listing every group takes a global grant


def test_a_global_admin_sees_groups_without_being_a_member(web, admin):
    _, browser = admin
    group = web.group()
    assert browser.get(f"/api/groups/{group['id']}").status_code == 200
    assert browser.get(f"/api/groups/{group['id']}/members").json()["data"] == []


def test_a_deactivated_user_loses_access_at_once(web):
    user = web.user("admin")
    browser = web.browser()
    browser.login(user["username"])
    assert browser.get("/api/groups").status_code == 200
    web.core.user_update(user["id"], is_active=False)
    assert error(browser.get("/api/groups"), 403, "permission_denied")["details"]["reason"] == "user_inactive"


# -- lists


def test_lists_have_webs_shape_sort_and_pages(web, admin):
    _, browser = admin
    prefix = unique("Sorted ")
    for letter in "cab":
        web.group(f"{prefix} {letter}")
    body = browser.get("/api/groups", params={"q": prefix, "sort": "-title", "limit": 2}).json()
    assert set(body) == {"success", "data", "total", "page", "limit"}
    assert (body["success"], body["total"], body["page"], body["limit"]) == (True, 3, 1, 2)
    assert [group["title"][-1] for group in body["data"]] == ["c", "b"]
    second = browser.get("/api/groups", params={"q": prefix, "sort": "-title", "limit": 2, "page": 2}).json()
    assert [group["title"][-1] for group in second["data"]] == ["a"]
    roles = browser.get("/api/roles").json()
    assert roles["total"] == len(roles["data"]) >= 5


@pytest.mark.parametrize(("path", "field"), [
    ("/api/groups?sort=popularity", "sort"),
    ("/api/groups?sort=", "sort"),
    ("/api/groups?order=title", "order"),
    ("/api/groups?limit=0", "limit"),
    ("/api/groups?limit=500", "limit"),
    ("/api/groups?page=abc", "page"),
    ("/api/users?sort=username", "sort"),
    ("/api/users?is_active=maybe", "is_active"),
    ("/api/assignments?active=perhaps", "active"),
    ("/api/audit?action=made.up", "action"),
    ("/api/audit?result=meh", "result"),
    ("/api/audit?since=2030-01-01T00:00:00Z&until=2020-01-01T00:00:00Z", "non_field_errors"),
    ("/api/audit.csv?action=made.up", "action"),
    ("/api/moderation?status=pending", "status"),
    ("/api/stats?bucket=day", "non_field_errors"),
    ("/api/stats?group_id=1&bucket=minute", "bucket"),
])
def test_list_parameters_are_validated(web, admin, path, field):
    _, browser = admin
    response = browser.get(path)
    body = error(response, 400, "validation_error")
    assert field in body["details"], body
    assert response.headers["content-type"].startswith("application/json")


def test_members_and_users_filters(web, admin):
    _, browser = admin
    group = web.group()
    banned, member = web.user(group=group), web.user(group=group)
    web.core.member_update(group["id"], banned["id"], status="banned")
    statuses = browser.get(f"/api/groups/{group['id']}/members", params={"status": "banned"}).json()["data"]
    assert [row["user_id"] for row in statuses] == [banned["id"]]
    users = browser.get("/api/users", params={"username": member["username"]}).json()
    assert users["total"] == 1 and users["data"][0]["id"] == member["id"]
    assert browser.get(f"/api/users/{member['id']}").json()["data"]["username"] == member["username"]
    error(browser.get("/api/users/999999999"), 404, "not_found")


# -- roles and the rank rule


def test_grant_and_revoke_as_the_token_user_with_core_s_rank_rule(web, admin):
    actor, browser = admin
    target = web.user()
    group = web.group()
    response = browser.post("/api/assignments", {"user_id": target["id"], "role": "moderator",
                                                  "group_id": group["id"], "reason": "helps a lot"})
    assert response.status_code == 200, response.text
    assignment = response.json()["data"]
    assert (assignment["role"], assignment["group_id"], assignment["granted_by_user_id"]) == (
        "moderator", group["id"], actor["id"])
    # An admin (rank 80) may not grant owner (100), nor admin (80): core's rule, core's words.
    refused = error(browser.post("/api/assignments", {"user_id": target["id"], "role": "owner"}), 403,
                    "rank_violation")
    try:
        web.core.assign_role(user_id=target["id"], role="owner", actor_user_id=actor["id"])
    except CoreError as exc:
        assert refused["message"] == exc.message
    else:
        raise AssertionError("core granted owner to an admin's request")
    listed = browser.get("/api/assignments", params={"user_id": target["id"]}).json()
    assert [row["id"] for row in listed["data"]] == [assignment["id"]]
    revoked = browser.post(f"/api/assignments/{assignment['id']}/revoke", {"reason": "no longer needed"})
    assert revoked.status_code == 200, revoked.text
    assert (revoked.json()["data"]["status"], revoked.json()["data"]["revoked_by_user_id"]) == ("revoked", actor["id"])
    assert error(browser.post("/api/assignments", {"user_id": target["id"], "role": "moderator",
                                                   "colour": "red"}), 400, "validation_error")


def test_revoking_above_ones_rank_is_refused_by_core(web, admin):
    _, browser = admin
    owner_grant = web.core.assign_role(user_id=web.user()["id"], role="owner")
    body = error(browser.post(f"/api/assignments/{owner_grant['id']}/revoke", {}), 403, "rank_violation")
    assert "rank" in body["message"].lower()


def test_a_group_admin_grants_in_their_group_only(web):
    group, other = web.group(), web.group()
    group_admin = web.user("admin", group=group)
    target = web.user(group=group)
    browser = web.browser()
    browser.login(group_admin["username"])
    ok = browser.post("/api/assignments", {"user_id": target["id"], "role": "helper", "group_id": group["id"]})
    assert ok.status_code == 200, ok.text
    error(browser.post("/api/assignments", {"user_id": target["id"], "role": "helper", "group_id": other["id"]}),
          403, "permission_denied")
    error(browser.post("/api/assignments", {"user_id": target["id"], "role": "helper"}), 403, "permission_denied")


# -- audit, moderation, stats


def test_audit_list_filters_and_pages_by_cursor(web, admin):
    actor, browser = admin
    for _ in range(3):  # each call's permission check is an audit event about the actor
        browser.get("/api/groups")
    body = browser.get("/api/audit", params={"actor_user_id": actor["id"], "limit": 2}).json()
    assert set(body) == {"success", "data", "limit", "next_cursor"}
    assert len(body["data"]) == 2 and body["next_cursor"]
    assert all(event["actor_user_id"] == actor["id"] for event in body["data"])
    following = browser.get("/api/audit", params={"actor_user_id": actor["id"], "limit": 2,
                                                   "cursor": body["next_cursor"]}).json()
    assert following["data"][0]["sequence"] < body["data"][-1]["sequence"]
    logins = browser.get("/api/audit", params={"action": "auth.login", "result": "success"}).json()["data"]
    assert logins and {event["action"] for event in logins} == {"auth.login"}


def test_audit_csv_is_streamed_from_core(web, admin):
    actor, browser = admin
    with browser.http.stream("GET", "/api/audit.csv", params={"actor_user_id": actor["id"]},
                             headers={"Authorization": f"Bearer {browser.access}",
                                      "X-Forwarded-For": browser.ip}) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/csv")
        assert "attachment" in response.headers["content-disposition"]
        text = response.read().decode()
    lines = text.strip().splitlines()
    assert lines[0].startswith("sequence,created_at,service")
    assert len(lines) > 2 and all(f",{actor['id']}," in line for line in lines[1:])
    error(browser.get("/api/audit.csv", headers={"Accept": "text/csv"}, params={"result": "nope"}), 400,
          "validation_error")


def test_moderation_log_and_stats(web, admin):
    _, browser = admin
    group = web.group()
    target = web.user(group=group)
    web.core.moderation_record(type="warn", group_id=group["id"], target_user_id=target["id"], reason="spam")
    listed = browser.get("/api/moderation", params={"group_id": group["id"]}).json()
    assert listed["total"] == 1 and listed["data"][0]["type"] == "warn"
    overview = browser.get("/api/stats").json()["data"]["overview"]
    assert overview["groups"] >= 1 and "denials_24h" in overview
    series = browser.get("/api/stats", params={"group_id": group["id"], "bucket": "day"}).json()["data"]["group"]
    assert series["group_id"] == group["id"] and series["bucket"] == "day"
    error(browser.get("/api/stats", params={"group_id": "999999999"}), 404, "not_found")


def test_unknown_ids_are_404(web, admin):
    _, browser = admin
    error(browser.get("/api/groups/999999999"), 404, "not_found")
    error(httpx.get(f"{web.url}/api/nothing-here", timeout=10), 404, "not_found")


# -- schema, docs, health


def test_schema_and_docs(web):
    document = web.schema.document
    assert document["components"]["securitySchemes"]["BearerJWT"]["scheme"] == "bearer"
    for path in ("/api/auth/login", "/api/auth/refresh", "/api/auth/logout", "/api/groups", "/api/groups/{group_id}",
                 "/api/groups/{group_id}/members", "/api/users", "/api/users/{user_id}", "/api/roles",
                 "/api/assignments", "/api/assignments/{assignment_id}/revoke", "/api/audit", "/api/audit.csv",
                 "/api/moderation", "/api/stats"):
        assert path in document["paths"], path
    assert "security" not in document["paths"]["/api/auth/login"]["post"] or \
        document["paths"]["/api/auth/login"]["post"]["security"] in ([], [{}])
    docs = httpx.get(f"{web.url}/api/docs", timeout=10)
    assert docs.status_code == 200 and "swagger" in docs.text.lower()


def test_health_reports_core(web):
    response = httpx.get(f"{web.url}/api/health", timeout=10)
    assert response.status_code == 200
    assert response.json() == {"status": "healthy", "service": "web", "version": "1.0.0", "core_api": "connected",
                               "redis": "not_configured"}


# -- core down, verify-only instances


@pytest.fixture(scope="module")
def hanging_core():
    """A port that accepts connections and never answers: core wedged, not gone."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    yield server.getsockname()[1]
    server.close()


@pytest.mark.parametrize("how", ["refused", "hanging"])
def test_core_down_is_a_503_within_two_seconds(web, tmp_path, how, request):
    core_port = request.getfixturevalue("hanging_core") if how == "hanging" else free_port()
    port = free_port()
    lonely = web_process(tmp_path, port, core_port, name=f"web-{how}",
                         env={"JWT_PRIVATE_KEY": web.private_pem}).start()
    try:
        browser = Browser(f"http://127.0.0.1:{port}", web.schema)
        token = web.token({"user_id": "1"})
        for path in ("/api/groups", "/api/audit.csv", "/api/stats"):
            started = time.monotonic()
            response = browser.get(path, token=token)
            elapsed = time.monotonic() - started
            error(response, 503, "core_unavailable")
            assert elapsed < 2.0, f"{path} took {elapsed:.2f}s"
            assert "Traceback" not in response.text
        started = time.monotonic()
        error(browser.login("anyone"), 503, "core_unavailable")
        assert time.monotonic() - started < 2.0
        health = httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=10)
        assert health.status_code == 503
        assert (health.json()["status"], health.json()["core_api"]) == ("unhealthy", "disconnected")
    finally:
        lonely.stop()


def test_an_instance_with_only_the_public_key_verifies_but_does_not_issue(web, tmp_path):
    port = free_port()
    verifier = web_process(tmp_path, port, web.platform.core_port, name="web-verify-only",
                           env={"JWT_PUBLIC_KEY": _public_pem(web.private_pem)}).start()
    try:
        browser = Browser(f"http://127.0.0.1:{port}", web.schema)
        user = web.user("owner")
        error(browser.login(user["username"]), 503, "signing_unavailable")
        issuer = web.browser()
        issuer.login(user["username"])
        assert browser.get("/api/groups", token=issuer.access).status_code == 200
        error(browser.post("/api/auth/refresh", {"refresh": issuer.refresh}, token=""), 503, "signing_unavailable")
        # Refused before it was spent: the issuing instance can still rotate it.
        assert issuer.post("/api/auth/refresh", {"refresh": issuer.refresh}, token="").status_code == 200
    finally:
        verifier.stop()


def test_tokens_expire_on_time(web):
    """An access token issued a moment ago is accepted; the same claims past exp (beyond the leeway) are not."""
    user = web.user("owner")
    now = datetime.now(UTC)
    fresh = web.token({"user_id": user["id"]}, iat=int(now.timestamp()),
                      exp=int((now + timedelta(seconds=30)).timestamp()))
    stale = web.token({"user_id": user["id"]}, iat=int((now - timedelta(minutes=10)).timestamp()),
                      exp=int((now - timedelta(seconds=10)).timestamp()))
    assert web.browser().get("/api/groups", token=fresh).status_code == 200
    error(web.browser().get("/api/groups", token=stale), 401, "token_expired")


def test_the_request_id_travels_from_the_browser_to_core_s_audit_trail(web, admin):
    actor, browser = admin
    request_id = f"web-e2e-{uuid.uuid4().hex}"
    response = browser.get("/api/groups", headers={"X-Request-ID": request_id})
    assert response.headers["X-Request-ID"] == request_id
    checks = [event for event in web.audit(actor_user_id=actor["id"], action="permission.check", limit=20)
              if event["request_id"] == request_id]
    assert len(checks) == 1 and checks[0]["service"] == "web"
