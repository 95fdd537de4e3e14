"""Verified access tokens are remembered by their text; the expiry is still checked on every request."""

import time
from datetime import timedelta

import pytest
from rest_framework_simplejwt.backends import TokenBackend

from apps.dashboard import tokens
from apps.dashboard.errors import TokenExpired, TokenRejected
from apps.dashboard.keys import generate_private_pem, load_jwt_keys


@pytest.fixture
def signing(settings, monkeypatch, tmp_path):
    keys = load_jwt_keys(algorithm="EdDSA", private_pem=generate_private_pem("EdDSA"), private_file="",
                         public_pem="", public_file="", production=False, data_dir=tmp_path)
    settings.SIMPLE_JWT = {
        "ALGORITHM": "EdDSA", "SIGNING_KEY": keys.private_pem, "VERIFYING_KEY": keys.public_pem,
        "AUDIENCE": "tgmod-dashboard", "ISSUER": "tgmod-web", "LEEWAY": 0,
        "ACCESS_TOKEN_LIFETIME": timedelta(seconds=1), "REFRESH_TOKEN_LIFETIME": timedelta(days=1),
        "USER_ID_FIELD": "id", "USER_ID_CLAIM": "user_id", "AUTH_HEADER_TYPES": ("Bearer",),
    }
    monkeypatch.setattr("rest_framework_simplejwt.state.token_backend", TokenBackend(
        "EdDSA", keys.private_pem, keys.public_pem, "tgmod-dashboard", "tgmod-web", None, 0))
    monkeypatch.setattr("rest_framework_simplejwt.tokens.AccessToken.lifetime", timedelta(seconds=1))
    monkeypatch.setattr(tokens, "_verified", {})


def test_a_cached_token_still_expires_as_token_expired(signing):
    raw = tokens.issue_pair({"id": "7", "username": "ann"})["access"]
    first = tokens.access_token_user(raw)
    second = tokens.access_token_user(raw)
    assert (first.id, second.id) == ("7", "7") and first is not second  # a new user (and grants) per request
    assert first.token is second.token  # verified once
    time.sleep(1.1)
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
