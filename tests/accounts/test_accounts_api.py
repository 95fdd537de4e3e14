"""Core's side of the dashboard logins: credential checks (audited, constant work) and the revocation store."""

import threading
from datetime import timedelta

import pytest
from django.contrib.auth import hashers
from django.core.management import call_command
from django.utils import timezone

from apps.accounts.models import RevokedToken
from apps.accounts.services import revoked_tokens_purge, token_revoke
from apps.audit.models import AuditEvent
from apps.users.services import user_update
from tests.common.assertions import assert_error
from tests.conftest import ApiClient
from tests.factories import make_user

VERIFY = "/api/auth/verify-credentials"
REVOKED = "/api/auth/revoked-tokens"
PASSWORD = "correct-Horse-battery-9"


@pytest.fixture
def alice(db):
    return make_user("alice", display_name="Alice", password=PASSWORD)


def _logins():
    return list(AuditEvent.objects.filter(action="auth.login").order_by("sequence"))


def test_right_password_returns_the_user_and_is_audited(api, alice):
    response = api.post(VERIFY, {"username": "alice", "password": PASSWORD, "client_ip": "203.0.113.7"})
    assert response.status_code == 200, response.content
    assert response.json()["data"] == {"id": str(alice.pk), "username": "alice", "display_name": "Alice",
                                       "is_active": True, "is_staff": False}
    (event,) = _logins()
    assert (event.result, event.actor_user_id, event.target_id) == ("success", str(alice.pk), str(alice.pk))
    assert event.details == {"username": "alice", "client_ip": "203.0.113.7"}
    alice.refresh_from_db()
    assert alice.last_login is not None


@pytest.mark.parametrize(
    ("username", "password", "reason"),
    [("alice", "wrong-password", "wrong_password"), ("nobody", PASSWORD, "unknown_user"), ("ALICE", PASSWORD,
                                                                                          "unknown_user")],
)
def test_every_failure_is_one_answer_and_audited_with_its_reason(api, alice, username, password, reason):
    body = assert_error(api.post(VERIFY, {"username": username, "password": password}), 401, "invalid_credentials")
    assert body["message"] == "Invalid username or password"
    (event,) = _logins()
    assert (event.result, event.reason, event.details["username"]) == ("failure", reason, username)


def test_inactive_user_and_user_without_password_are_refused(api, alice):
    user_update(user=alice, is_active=False)
    assert_error(api.post(VERIFY, {"username": "alice", "password": PASSWORD}), 401, "invalid_credentials")
    make_user("telegram_only")  # no usable password
    response = api.post(VERIFY, {"username": "telegram_only", "password": "anything-at-all"})
    assert_error(response, 401, "invalid_credentials")
    assert [event.reason for event in _logins()] == ["user_inactive", "no_password"]


def test_the_hasher_runs_for_unknown_users_too(api, alice, monkeypatch):
    """Constant work: an unknown username costs a hash like a wrong password does."""
    calls = []
    original = hashers.make_password
    monkeypatch.setattr("apps.accounts.services.make_password", lambda *a, **k: calls.append(1) or original(*a, **k))
    assert_error(api.post(VERIFY, {"username": "nobody", "password": "x"}), 401, "invalid_credentials")
    assert calls == [1]


def test_strict_input(api, alice):
    assert_error(api.post(VERIFY, {"username": "alice"}), 400, "validation_error")
    assert_error(api.post(VERIFY, {"username": "alice", "password": PASSWORD, "remember": True}), 400,
                 "validation_error", "remember")
    assert_error(api.post(VERIFY, {"username": "alice", "password": 12345}), 400, "validation_error")
    assert_error(api.post(VERIFY, {"username": "alice", "password": PASSWORD, "client_ip": "nope"}), 400,
                 "validation_error")
    assert _logins() == []


def test_needs_a_service_key(db, alice):
    anonymous = ApiClient(api_key=None)
    assert_error(anonymous.post(VERIFY, {"username": "alice", "password": PASSWORD}), 401, "unauthenticated")
    assert_error(anonymous.get(f"{REVOKED}/abc"), 401, "unauthenticated")


def test_revoke_once_then_already_revoked(api, alice):
    expires = timezone.now() + timedelta(days=1)
    body = {"jti": "a1b2c3", "expires_at": expires.isoformat(), "user_id": str(alice.pk), "reason": "rotated"}
    first = api.post(REVOKED, body)
    assert first.status_code == 201, first.content
    assert first.json()["data"]["already_revoked"] is False
    assert first.json()["data"]["reason"] == "rotated"
    second = api.post(REVOKED, body)
    assert second.status_code == 200
    assert second.json()["data"]["already_revoked"] is True
    assert RevokedToken.objects.count() == 1
    events = list(AuditEvent.objects.filter(action="auth.token_revoke").order_by("sequence"))
    assert [(e.result, e.reason, e.target_id) for e in events] == [("success", "rotated", "a1b2c3"),
                                                                 ("failure", "already_revoked", "a1b2c3")]
    assert events[0].actor_user_id == str(alice.pk)


def test_check_answers_revoked_or_not(api):
    assert api.get(f"{REVOKED}/never-seen").json()["data"] == {"jti": "never-seen", "revoked": False,
                                                               "expires_at": None, "revoked_at": None}
    api.post(REVOKED, {"jti": "gone", "expires_at": (timezone.now() + timedelta(hours=1)).isoformat()})
    data = api.get(f"{REVOKED}/gone").json()["data"]
    assert data["revoked"] is True and data["expires_at"] and data["revoked_at"]


def test_revoke_input_is_strict(api):
    expires = timezone.now().isoformat()
    assert_error(api.post(REVOKED, {"jti": "has spaces", "expires_at": expires}), 400, "validation_error")
    assert_error(api.post(REVOKED, {"jti": "x" * 65, "expires_at": expires}), 400, "validation_error")
    assert_error(api.post(REVOKED, {"jti": "ok"}), 400, "validation_error")
    assert_error(api.post(REVOKED, {"jti": "ok", "expires_at": expires, "reason": "bored"}), 400, "validation_error")
    assert_error(api.post(REVOKED, {"jti": "ok", "expires_at": expires, "extra": 1}), 400, "validation_error")
    assert RevokedToken.objects.count() == 0


def test_purge_removes_only_expired_rows(db):
    now = timezone.now()
    token_revoke(jti="old", expires_at=now - timedelta(minutes=1))
    token_revoke(jti="live", expires_at=now + timedelta(minutes=1))
    assert revoked_tokens_purge(now=now) == 1
    assert list(RevokedToken.objects.values_list("jti", flat=True)) == ["live"]
    token_revoke(jti="old2", expires_at=now - timedelta(minutes=1))
    call_command("purge_revoked_tokens", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert list(RevokedToken.objects.values_list("jti", flat=True)) == ["live"]


@pytest.mark.django_db(transaction=True)
def test_concurrent_revocations_of_one_token_have_one_winner():
    """What makes a refresh token single-use: of racing rotations, exactly one revokes it."""
    from django.db import connections

    expires = timezone.now() + timedelta(hours=1)
    results, errors = [], []

    def revoke():
        try:
            results.append(token_revoke(jti="raced", expires_at=expires, reason="rotated")[1])
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=revoke) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(results) == [False, False, False, True]
    assert RevokedToken.objects.filter(jti="raced").count() == 1
