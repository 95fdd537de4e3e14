"""Core's logins (the admin's, the browsable API's, and the credential check web calls) are limited per account
and per client address, and every attempt is on the audit trail: success, failure, and the refusal."""

import pytest
from django.test import Client

from apps.audit.models import AuditEvent
from tests.common.assertions import assert_error
from tests.factories import make_user

VERIFY = "/api/auth/verify-credentials"
PASSWORD = "correct-Horse-battery-9"
LIMITS = {"LOGIN_MAX_FAILURES_PER_ACCOUNT": 3, "LOGIN_MAX_FAILURES_PER_IP": 5, "LOGIN_FAILURE_WINDOW_SECONDS": 60,
          "LOGIN_LOCKOUT_SECONDS": 120}


@pytest.fixture(autouse=True)
def limits(settings):
    for name, value in LIMITS.items():
        setattr(settings, name, value)


@pytest.fixture
def staff(db):
    user = make_user("staffer", password=PASSWORD)
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    return user


def _logins(username: str) -> list[AuditEvent]:
    return [event for event in AuditEvent.objects.filter(action="auth.login").order_by("sequence")
            if event.details.get("username") == username]


# -- the credential check (web's logins go through it)


def test_verify_credentials_is_limited_per_account(api, staff):
    for number in range(3):  # each from another address
        assert_error(api.post(VERIFY, {"username": "staffer", "password": "guess", "client_ip": f"203.0.113.{number}"}),
                     401, "invalid_credentials")
    response = api.post(VERIFY, {"username": "staffer", "password": PASSWORD, "client_ip": "198.51.100.9"})
    body = assert_error(response, 429, "rate_limited", "account")
    assert body["details"]["scope"] == "account"
    assert 0 < int(response["Retry-After"]) <= 120
    events = _logins("staffer")
    assert [(event.result, event.reason) for event in events] == [("failure", "wrong_password")] * 3 + [
        ("denied", "rate_limited")]
    refused = events[-1]
    assert refused.details["client_ip"] == "198.51.100.9" and refused.actor_user_id == str(staff.pk)
    assert api.post(VERIFY, {"username": "someone", "password": "x", "client_ip": "198.51.100.9"}).status_code == 401


def test_verify_credentials_is_limited_per_client_address(api, staff):
    for number in range(5):  # each against another name
        assert_error(api.post(VERIFY, {"username": f"ghost{number}", "password": "guess", "client_ip": "203.0.113.50"}),
                     401, "invalid_credentials")
    body = assert_error(api.post(VERIFY, {"username": "staffer", "password": PASSWORD, "client_ip": "203.0.113.50"}),
                        429, "rate_limited", "address")
    assert body["details"]["scope"] == "ip"
    assert api.post(VERIFY, {"username": "staffer", "password": PASSWORD, "client_ip": "203.0.113.51"}).status_code \
        == 200
    (refused,) = [event for event in _logins("staffer") if event.result == "denied"]
    assert refused.details["client_ip"] == "203.0.113.50"


def test_without_client_ip_the_caller_is_the_client(api, staff):
    for number in range(5):
        api.post(VERIFY, {"username": f"ghost{number}", "password": "guess"})
    assert_error(api.post(VERIFY, {"username": "staffer", "password": PASSWORD}), 429, "rate_limited")


def test_a_success_clears_the_accounts_count(api, staff):
    for _ in range(2):
        assert_error(api.post(VERIFY, {"username": "staffer", "password": "guess"}), 401, "invalid_credentials")
    assert api.post(VERIFY, {"username": "staffer", "password": PASSWORD}).status_code == 200
    for _ in range(2):
        assert_error(api.post(VERIFY, {"username": "staffer", "password": "guess"}), 401, "invalid_credentials")
    assert api.post(VERIFY, {"username": "staffer", "password": PASSWORD}).status_code == 200


@pytest.mark.redis
def test_counts_live_in_the_shared_cache(api, staff, redis_cache):
    """With Redis every worker shares the counts: what one process counted locks the account for another."""
    from django.core.cache import caches

    for _ in range(3):
        api.post(VERIFY, {"username": "staffer", "password": "guess"})
    assert any(b"login-failures:account" in key for key in caches["default"].client.get_client().keys("*"))
    assert_error(api.post(VERIFY, {"username": "staffer", "password": PASSWORD}), 429, "rate_limited")


# -- the session logins (HTML forms)


def _form_login(path: str, username: str, password: str, address: str = "127.0.0.1", **headers):
    return Client(REMOTE_ADDR=address).post(path, {"username": username, "password": password,
                                                   "next": "/admin/"}, **headers)


@pytest.mark.parametrize(("path", "via"), [("/admin/login/", "admin"), ("/api-auth/login/", "api-auth")])
def test_session_logins_are_limited_per_account_and_audited(staff, path, via):
    ok = _form_login(path, "staffer", PASSWORD)
    assert ok.status_code == 302, ok.content[:500]
    for number in range(3):
        response = _form_login(path, "staffer", "guess", address=f"203.0.113.{number}")
        assert response.status_code == 200 and b"Too many" not in response.content
    refused = _form_login(path, "staffer", PASSWORD, address="198.51.100.9")
    assert refused.status_code == 429
    assert b"Too many failed logins for this account" in refused.content
    assert 0 < int(refused["Retry-After"]) <= 120
    assert "sessionid" not in refused.cookies
    events = _logins("staffer")
    assert [(event.result, event.reason) for event in events] == [
        ("success", ""), *[("failure", "wrong_password")] * 3, ("denied", "rate_limited")]
    assert {event.details["via"] for event in events} == {via}
    assert [event.details["client_ip"] for event in events] == [
        "127.0.0.1", "203.0.113.0", "203.0.113.1", "203.0.113.2", "198.51.100.9"]


@pytest.mark.parametrize("path", ["/admin/login/", "/api-auth/login/"])
def test_session_logins_are_limited_per_address_whatever_the_forwarded_header_says(staff, path):
    for number in range(5):  # a guesser rotating X-Forwarded-For: not a trusted proxy, so one address
        _form_login(path, f"ghost{number}", "guess", HTTP_X_FORWARDED_FOR=f"192.0.2.{number}")
    refused = _form_login(path, "staffer", PASSWORD, HTTP_X_FORWARDED_FOR="192.0.2.200")
    assert refused.status_code == 429 and b"this address" in refused.content
    assert _form_login(path, "staffer", PASSWORD, address="127.0.0.2").status_code == 302
    reasons = [event.reason for event in AuditEvent.objects.filter(action="auth.login", result="failure")]
    assert reasons == ["unknown_user"] * 5


def test_behind_a_trusted_proxy_each_browser_counts_alone(staff, settings):
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    for number in range(5):
        _form_login("/api-auth/login/", f"ghost{number}", "guess", HTTP_X_FORWARDED_FOR="192.0.2.7")
    assert _form_login("/api-auth/login/", "staffer", PASSWORD, HTTP_X_FORWARDED_FOR="192.0.2.7").status_code == 429
    assert _form_login("/api-auth/login/", "staffer", PASSWORD, HTTP_X_FORWARDED_FOR="192.0.2.8").status_code == 302
    assert _logins("ghost0")[0].details["client_ip"] == "192.0.2.7"


def test_admin_login_of_a_non_staff_user_is_a_failure_on_the_trail(db):
    make_user("plain", password=PASSWORD)
    response = _form_login("/admin/login/", "plain", PASSWORD)
    assert response.status_code == 200
    (event,) = _logins("plain")
    assert (event.result, event.reason) == ("failure", "not_staff")
