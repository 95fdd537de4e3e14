"""`manage.py check --deploy` is clean for each role's production settings: run as an operator would, in a
subprocess with APP_ENV=production and strong secrets from the environment, nothing silenced."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from apps.dashboard.keys import generate_private_pem

ROOT = Path(__file__).resolve().parents[2]


def _jwt_pair() -> tuple[str, str]:
    private = generate_private_pem("EdDSA")
    public = serialization.load_pem_private_key(private.encode(), password=None).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private, public


def _role_env(role: str) -> dict:
    if role == "core":
        return {"SERVICE_API_KEYS": f"bot={secrets.token_urlsafe(32)},web={secrets.token_urlsafe(32)}",
                "AUDIT_CHECKPOINT_KEYS": f"k1:{secrets.token_urlsafe(32)}"}
    if role == "bot":
        return {"CORE_API_KEY": secrets.token_urlsafe(32), "TELEGRAM_BOT_TOKEN": f"123456:{secrets.token_urlsafe(26)}",
                "TELEGRAM_WEBHOOK_SECRET": secrets.token_urlsafe(32)}
    private, public = _jwt_pair()
    return {"CORE_API_KEY": secrets.token_urlsafe(32), "JWT_PRIVATE_KEY": private, "JWT_PUBLIC_KEY": public}


@pytest.mark.parametrize("role", ["core", "bot", "web"])
def test_check_deploy_is_clean_for_each_roles_production_settings(role, tmp_path):
    env = {
        # Only what an operator sets: nothing inherited from the test run (its settings module, APP_ENV...).
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "APP_ENV": "production",
        "DJANGO_SETTINGS_MODULE": f"config.settings.{role}",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "moderation.example.org",
        "CSRF_TRUSTED_ORIGINS": "https://moderation.example.org",
        "DATA_DIR": str(tmp_path),
        **_role_env(role),
    }
    result = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], cwd=ROOT,
                            env=env, capture_output=True, text=True, timeout=120)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues (0 silenced)." in output, output
