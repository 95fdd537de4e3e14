"""Refresh token reuse detection (OAuth 2.0 Security BCP), through web against a real core: a refresh token
presented after it was rotated revokes its whole login session (token family) in core, so the refresh token
issued in its place and the session's access tokens stop working, on every web worker within
JWT_FAMILY_CHECK_SECONDS. Also: /api/me of a user deactivated in core is 401."""

import time

import httpx
import jwt
import pytest

from apps.coreclient import CoreClient
from tests.e2e.processes import TEST_KEY, core_process, free_port, web_process

from .pages_platform import PASSWORD, unique

pytestmark = pytest.mark.e2e

FAMILY_CHECK_SECONDS = 1.0
REUSE_GRACE_SECONDS = 0.5


class Platform:
    def __init__(self, tmp):
        from apps.dashboard.keys import generate_private_pem

        self.core_port, self.web_port = free_port(), free_port()
        self.core = core_process(tmp, self.core_port)
        # Two workers: a reuse seen by one must stop the session's access tokens on the other too.
        self.web = web_process(tmp, self.web_port, self.core_port, workers=2, env={
            "JWT_PRIVATE_KEY": generate_private_pem("EdDSA"), "JWT_FAMILY_CHECK_SECONDS": str(FAMILY_CHECK_SECONDS),
            "JWT_REFRESH_REUSE_GRACE_SECONDS": str(REUSE_GRACE_SECONDS),
            "LOGIN_MAX_FAILURES_PER_IP": "1000", "LOGIN_MAX_FAILURES_PER_ACCOUNT": "1000"})
        self.api = CoreClient(f"http://127.0.0.1:{self.core_port}", TEST_KEY, timeout=10)
        self.http = httpx.Client(base_url=f"http://127.0.0.1:{self.web_port}", timeout=10)

    def user(self) -> dict:
        return self.api.user_create(username=unique("r"), password=PASSWORD)

    def login(self, user: dict) -> dict:
        response = self.http.post("/api/auth/login", json={"username": user["username"], "password": PASSWORD})
        assert response.status_code == 200, response.text
        return response.json()["data"]

    def refresh(self, refresh_token: str) -> httpx.Response:
        return self.http.post("/api/auth/refresh", json={"refresh": refresh_token})

    def me(self, access: str) -> httpx.Response:
        return self.http.get("/api/me", headers={"Authorization": f"Bearer {access}"})


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    platform = Platform(tmp_path_factory.mktemp("refresh-reuse"))
    platform.core.start()
    try:
        platform.web.start()
    except Exception:
        platform.core.stop()
        raise
    yield platform
    platform.web.stop()
    platform.core.stop()


def _error(response: httpx.Response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert (body["success"], body["error"], body["status_code"]) == (False, code, status), body
    return body


def _sid(token: str) -> str:
    return jwt.decode(token, options={"verify_signature": False})["sid"]


def test_reusing_a_rotated_refresh_token_revokes_its_replacement(platform):
    user = platform.user()
    first = platform.login(user)
    second = platform.refresh(first["refresh"]).json()["data"]
    assert _sid(second["refresh"]) == _sid(first["refresh"])
    for _ in range(4):  # both workers have seen the session alive
        assert platform.me(second["access"]).status_code == 200

    time.sleep(REUSE_GRACE_SECONDS)  # past the grace for concurrent refreshes
    body = _error(platform.refresh(first["refresh"]), 401, "token_revoked")  # the reuse
    assert "session" in body["message"]
    _error(platform.refresh(second["refresh"]), 401, "token_revoked")  # the replacement is dead too

    family = _sid(first["refresh"])
    assert platform.api.token_family_revocation(family)["revoked"] is True
    events = platform.api.audit_events(action="auth.token_revoke", actor_user_id=user["id"])["items"]
    assert [(e["target_type"], e["result"], e["reason"]) for e in events if e["target_type"] == "token_family"] == [
        ("token_family", "success", "reused")]


def test_a_repeat_within_the_grace_is_refused_without_ending_the_session(platform):
    """Two tabs refreshing at once present one refresh token twice: one gets the pair, the other 401, and the
    pair stays good (the reuse is audited with within_grace)."""
    user = platform.user()
    first = platform.login(user)
    second = platform.refresh(first["refresh"]).json()["data"]
    _error(platform.refresh(first["refresh"]), 401, "token_revoked")
    assert platform.api.token_family_revocation(_sid(first["refresh"]))["revoked"] is False
    assert platform.me(second["access"]).status_code == 200
    assert platform.refresh(second["refresh"]).status_code == 200
    events = platform.api.audit_events(action="auth.token_revoke", actor_user_id=user["id"], result="failure")["items"]
    assert [e["details"].get("within_grace") for e in events] == [True]


def test_the_sessions_access_tokens_stop_on_every_worker_within_the_bound(platform):
    user = platform.user()
    first = platform.login(user)
    second = platform.refresh(first["refresh"]).json()["data"]
    for _ in range(4):
        assert platform.me(second["access"]).status_code == 200
    other_session = platform.login(user)

    time.sleep(REUSE_GRACE_SECONDS)
    _error(platform.refresh(first["refresh"]), 401, "token_revoked")
    time.sleep(FAMILY_CHECK_SECONDS + 0.3)
    for token in (first["access"], second["access"]):
        for _ in range(6):  # whichever worker answers
            _error(platform.me(token), 401, "token_revoked")
    # Only that session: the user's other login, and a new one, work.
    assert platform.me(other_session["access"]).status_code == 200
    assert platform.refresh(other_session["refresh"]).status_code == 200
    assert platform.me(platform.login(user)["access"]).status_code == 200


def test_a_plain_rotation_chain_keeps_working(platform):
    pair = platform.login(platform.user())
    for _ in range(3):
        response = platform.refresh(pair["refresh"])
        assert response.status_code == 200, response.text
        pair = response.json()["data"]
        assert platform.me(pair["access"]).status_code == 200


def test_me_of_a_user_deactivated_in_core_is_401(platform):
    user = platform.user()
    pair = platform.login(user)
    assert platform.me(pair["access"]).json()["data"]["user"]["is_active"] is True
    platform.api.user_update(user["id"], is_active=False)
    response = platform.me(pair["access"])
    body = _error(response, 401, "invalid_token")
    assert "deactivated" in body["message"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
