"""Verified access tokens are remembered by their text; the expiry is still checked on every request, and whether
the token's login session (family) was revoked in core is asked again once the last answer is older than
JWT_FAMILY_CHECK_SECONDS. Core is the real app, in process."""

import time
from datetime import timedelta

import httpx
import pytest
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.utils import timezone
from rest_framework_simplejwt.backends import TokenBackend

from apps.accounts.services import token_family_revoke
from apps.dashboard import core as web_core
from apps.dashboard import tokens
from apps.dashboard.errors import TokenExpired, TokenRejected, TokenRevoked
from apps.dashboard.keys import generate_private_pem, load_jwt_keys

BOUND = 0.5


@pytest.fixture
def core_in_process(db, monkeypatch, settings):
    """Web's client of core, talking to core's real WSGI app in this process (the test's transaction kept open)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    client = web_core.CoreClient("http://testserver", "web-key", transport=httpx.WSGITransport(
        app=get_wsgi_application()))
    calls = []
    original = client.token_family_revocation
    monkeypatch.setattr(client, "token_family_revocation", lambda family: calls.append(family) or original(family))
    monkeypatch.setattr(web_core, "_client", client)
    monkeypatch.setattr(tokens, "_families", tokens.family_verdicts())
    settings.JWT_FAMILY_CHECK_SECONDS = BOUND
    yield calls
    client.close()
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


# exp is whole seconds (iat + lifetime, the fraction dropped): a token issued late in a second has up to one second
# less. Three give a loaded machine two at least to issue it and verify it twice before it expires.
ACCESS_SECONDS = 3


@pytest.fixture
def signing(settings, monkeypatch, tmp_path, core_in_process):
    keys = load_jwt_keys(algorithm="EdDSA", private_pem=generate_private_pem("EdDSA"), private_file="",
                         public_pem="", public_file="", production=False, data_dir=tmp_path)
    settings.SIMPLE_JWT = {
        "ALGORITHM": "EdDSA", "SIGNING_KEY": keys.private_pem, "VERIFYING_KEY": keys.public_pem,
        "AUDIENCE": "tgmod-dashboard", "ISSUER": "tgmod-web", "LEEWAY": 0,
        "ACCESS_TOKEN_LIFETIME": timedelta(seconds=ACCESS_SECONDS), "REFRESH_TOKEN_LIFETIME": timedelta(days=1),
        "USER_ID_FIELD": "id", "USER_ID_CLAIM": "user_id", "AUTH_HEADER_TYPES": ("Bearer",),
    }
    monkeypatch.setattr("rest_framework_simplejwt.state.token_backend", TokenBackend(
        "EdDSA", keys.private_pem, keys.public_pem, "tgmod-dashboard", "tgmod-web", None, 0))
    monkeypatch.setattr("rest_framework_simplejwt.tokens.AccessToken.lifetime", timedelta(seconds=ACCESS_SECONDS))
    monkeypatch.setattr(tokens, "_verified", tokens.verified_tokens())


def test_a_cached_token_still_expires_as_token_expired(signing):
    pair = tokens.issue_pair({"id": "7", "username": "ann"})
    raw = pair["access"]
    tokens.remember_family(tokens.read_refresh(pair["refresh"])["sid"], revoked=False)  # no core call in the second
    first = tokens.access_token_user(raw)
    second = tokens.access_token_user(raw)
    assert (first.id, second.id) == ("7", "7") and first is not second  # a new user (and grants) per request
    assert first.token is second.token  # verified once
    time.sleep(max(0.0, first.token["exp"] - time.time()) + 0.1)  # just past its exp, whenever it was issued
    with pytest.raises(TokenExpired):
        tokens.access_token_user(raw)


def test_a_tampered_copy_of_a_cached_token_is_refused(signing):
    raw = tokens.issue_pair({"id": "7", "username": "ann"})["access"]
    tokens.access_token_user(raw)
    header, payload, signature = raw.split(".")
    tampered = f"{header}.{payload}.{signature[:-2]}{'AA' if signature[-2:] != 'AA' else 'BB'}"
    with pytest.raises(TokenRejected):
        tokens.access_token_user(tampered)
    with pytest.raises(TokenRejected):
        tokens.access_token_user(None)


@pytest.fixture
def long_lived(monkeypatch):
    monkeypatch.setattr("rest_framework_simplejwt.tokens.AccessToken.lifetime", timedelta(seconds=60))


def test_a_revoked_family_stops_its_cached_access_tokens_within_the_bound(signing, core_in_process, long_lived):
    pair = tokens.issue_pair({"id": "7", "username": "ann"})
    family = tokens.read_refresh(pair["refresh"])["sid"]
    assert tokens.access_token_user(pair["access"]).session_id == family
    assert core_in_process == [family]  # asked core once...
    tokens.access_token_user(pair["access"])
    assert core_in_process == [family]  # ...and not again within the bound
    token_family_revoke(family=family, expires_at=timezone.now() + timedelta(days=1), reason="reused")
    tokens.access_token_user(pair["access"])  # this process has not asked since: still accepted, inside the bound
    time.sleep(BOUND + 0.05)
    with pytest.raises(TokenRevoked):
        tokens.access_token_user(pair["access"])
    with pytest.raises(TokenRevoked):  # a revocation is final: no further question to core
        tokens.access_token_user(pair["access"])
    assert core_in_process == [family, family]


def test_other_sessions_are_not_affected(signing, core_in_process, long_lived):
    first, second = (tokens.issue_pair({"id": "7", "username": "ann"}) for _ in range(2))
    token_family_revoke(family=tokens.read_refresh(first["refresh"])["sid"], expires_at=timezone.now() + timedelta(
        days=1), reason="reused")
    with pytest.raises(TokenRevoked):
        tokens.access_token_user(first["access"])
    assert tokens.access_token_user(second["access"]).id == "7"
