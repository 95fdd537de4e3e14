"""Core's side of refresh token reuse detection: a rotated token rotated again revokes its family (the login
session), in the same transaction, on the audit trail; web asks whether a family is revoked."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.accounts.models import RevokedTokenFamily
from apps.accounts.services import revoked_tokens_purge, token_family_revoke, token_revoke
from apps.audit.models import AuditEvent
from tests.common.assertions import assert_error
from tests.factories import make_user

REVOKED = "/api/auth/revoked-tokens"
FAMILIES = "/api/auth/revoked-families"


def _rotate(api, jti: str, family: str | None = "sess1", **extra):
    body = {"jti": jti, "expires_at": (timezone.now() + timedelta(days=1)).isoformat(), "reason": "rotated",
            **({"family": family} if family else {}), **extra}
    return api.post(REVOKED, body)


def test_a_second_rotation_of_one_token_revokes_its_family(api, db):
    user = make_user()
    family_end = timezone.now() + timedelta(days=2)
    first = _rotate(api, "r1", user_id=str(user.pk))
    assert first.status_code == 201 and first.json()["data"]["family_revoked"] is False
    assert _rotate(api, "r2", user_id=str(user.pk)).json()["data"]["family_revoked"] is False  # the chain goes on
    assert api.get(f"{FAMILIES}/sess1").json()["data"] == {"family": "sess1", "revoked": False, "revoked_at": None,
                                                            "reason": ""}

    reused = _rotate(api, "r1", user_id=str(user.pk), family_expires_at=family_end.isoformat())
    assert reused.status_code == 200
    assert (reused.json()["data"]["already_revoked"], reused.json()["data"]["family_revoked"]) == (True, True)
    # The token issued in r1's place (r3, say, never used yet) is refused from now on, although not revoked itself.
    replacement = _rotate(api, "r3")
    assert replacement.status_code == 201 and replacement.json()["data"]["family_revoked"] is True
    data = api.get(f"{FAMILIES}/sess1").json()["data"]
    assert (data["revoked"], data["reason"]) == (True, "reused") and data["revoked_at"]
    row = RevokedTokenFamily.objects.get()
    assert abs((row.expires_at - family_end).total_seconds()) < 0.01 and row.user_id == str(user.pk)
    event = AuditEvent.objects.get(action="auth.token_revoke", target_type="token_family")
    assert (event.result, event.reason, event.target_id, event.details["reused_jti"]) == (
        "success", "reused", "sess1", "r1")
    assert event.actor_user_id == str(user.pk)


def test_a_repeat_within_the_callers_grace_is_refused_without_revoking_the_family(api, db):
    user = make_user()
    assert _rotate(api, "g1", family="sess3", user_id=str(user.pk)).status_code == 201
    repeat = _rotate(api, "g1", family="sess3", user_id=str(user.pk), reuse_grace_seconds=30)
    assert repeat.status_code == 200
    assert (repeat.json()["data"]["already_revoked"], repeat.json()["data"]["family_revoked"]) == (True, False)
    event = AuditEvent.objects.get(action="auth.token_revoke", result="failure")
    assert event.details["within_grace"] is True
    # Past the grace (none given here) the same repeat is a reuse.
    assert _rotate(api, "g1", family="sess3", user_id=str(user.pk)).json()["data"]["family_revoked"] is True
    bad = _rotate(api, "g2", family="sess3", reuse_grace_seconds=61)
    assert (bad.status_code, bad.json()["error"]) == (400, "validation_error")


def test_logout_twice_or_a_rotation_without_family_revokes_no_family(api, db):
    body = {"jti": "l1", "expires_at": (timezone.now() + timedelta(days=1)).isoformat(), "reason": "logout",
            "family": "sess2"}
    api.post(REVOKED, body)
    assert api.post(REVOKED, body).json()["data"]["family_revoked"] is False  # logging out again is idempotent
    _rotate(api, "n1", family=None)
    assert _rotate(api, "n1", family=None).json()["data"]["family_revoked"] is False
    assert RevokedTokenFamily.objects.count() == 0


def test_family_input_is_strict(api, db):
    assert_error(_rotate(api, "x1", family="has space"), 400, "validation_error")
    assert_error(_rotate(api, "x1", family_expires_at="soon"), 400, "validation_error")
    assert_error(api.get(f"{FAMILIES}/{'x' * 65}"), 400, "invalid_id")


def test_revoking_a_family_twice_keeps_the_first(db):
    end = timezone.now() + timedelta(days=1)
    first, created = token_family_revoke(family="s", expires_at=end, reason="reused")
    again, created_again = token_family_revoke(family="s", expires_at=end, reason="admin")
    assert (created, created_again, again.pk, again.reason) == (True, False, first.pk, "reused")


def test_purge_removes_expired_families_too(db):
    now = timezone.now()
    token_family_revoke(family="gone", expires_at=now - timedelta(minutes=1), reason="reused")
    token_family_revoke(family="live", expires_at=now + timedelta(minutes=1), reason="reused")
    token_revoke(jti="old", expires_at=now - timedelta(minutes=1))
    assert revoked_tokens_purge(now=now) == 2
    assert list(RevokedTokenFamily.objects.values_list("family", flat=True)) == ["live"]


@pytest.mark.parametrize("service", ["web-key", "bot-key"])
def test_only_web_may_ask(db, service):
    from tests.conftest import ApiClient

    response = ApiClient(api_key=service).get(f"{FAMILIES}/sess1")
    assert response.status_code == (200 if service == "web-key" else 403)
