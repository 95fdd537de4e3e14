"""The web role's settings profile in production, and the request helpers that do not need a running core."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from rest_framework import exceptions as drf

from apps.common.errors import LoginRateLimited
from apps.coreclient import CoreError, CoreUnavailable
from apps.dashboard.errors import TokenExpired, dashboard_exception_handler
from apps.dashboard.keys import generate_private_pem

ROOT = Path(__file__).resolve().parents[2]


def _production_env(tmp_path, **extra) -> dict:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.web",
        "APP_ENV": "production",
        "SECRET_KEY": "x" * 20 + "-a-long-random-production-secret-key-for-the-check",
        "ALLOWED_HOSTS": "web.example.org",
        "CORE_API_KEY": "k2",
        "DATA_DIR": str(tmp_path),
        **extra,
    }
    for name in ("JWT_PRIVATE_KEY", "JWT_PUBLIC_KEY", "JWT_PRIVATE_KEY_FILE", "JWT_PUBLIC_KEY_FILE"):
        if name not in extra:
            env.pop(name, None)
    return env


def test_production_web_refuses_to_start_without_jwt_keys(tmp_path):
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=_production_env(tmp_path),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "JWT_PUBLIC_KEY" in result.stderr
    assert list(tmp_path.iterdir()) == []  # and never generates a key there


def test_production_web_passes_deploy_checks_with_a_key(tmp_path):
    key_file = tmp_path / "jwt.pem"
    key_file.write_text(generate_private_pem("EdDSA"))
    env = _production_env(tmp_path, JWT_PRIVATE_KEY_FILE=str(key_file))
    result = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], cwd=ROOT,
                            env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr + result.stdout


@pytest.mark.parametrize(("exc", "status", "code"), [
    (CoreUnavailable("down"), 503, "core_unavailable"),
    (CoreError("rank_violation", "You may only grant roles ranked below your own", 403), 403, "rank_violation"),
    (CoreError("not_found", "Group 9 not found", 404), 404, "not_found"),
    (CoreError("unauthenticated", "Unknown API key", 401), 503, "core_unavailable"),  # web's key, not the browser's
    (drf.NotAuthenticated(), 401, "unauthenticated"),
    (TokenExpired(), 401, "token_expired"),
    (LoginRateLimited(scope="ip", retry_after=42), 429, "rate_limited"),
])
def test_errors_map_to_the_envelope(exc, status, code):
    response = dashboard_exception_handler(exc, {"request": None})
    assert response.status_code == status
    assert (response.data["success"], response.data["error"], response.data["status_code"]) == (False, code, status)
    if status == 401:
        assert response["WWW-Authenticate"].startswith("Bearer")
    if code == "rate_limited":
        assert response["Retry-After"] == "42"
    if code == "rank_violation":
        assert response.data["message"] == "You may only grant roles ranked below your own"
