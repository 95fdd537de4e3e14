"""Bot and web never touch the database: their profiles carry none, so any ORM call fails loudly."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import django
django.setup()
from django.conf import settings
assert settings.ROLE == "{role}", settings.ROLE
from apps.coreclient import CoreClient
CoreClient("http://127.0.0.1:9", "key").close()  # the client belongs to this role (apps/common/roles.py)
from django.test import Client
health = Client().get("/api/health").json()
# The bot's report is in the envelope (unhealthy here: no Telegram application runs); web's is the seed's bare body.
report = health.get("data") or health.get("details") or health
assert report["service"] == "{role}", report
assert "database" not in report
from django.contrib.contenttypes.models import ContentType
try:
    ContentType.objects.count()
except Exception as exc:
    print("ORM refused:", type(exc).__name__)
else:
    raise SystemExit("the {role} profile reached a database")
"""


@pytest.mark.parametrize("role", ["bot", "web"])
def test_role_profile_has_no_database(role):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": f"config.settings.{role}", "APP_ENV": "development"}
    result = subprocess.run(
        [sys.executable, "-c", PROBE.replace("{role}", role)], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr + result.stdout
    assert "ORM refused: ImproperlyConfigured" in result.stdout


def test_production_core_profile_passes_deploy_checks(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.core",
        "APP_ENV": "production",
        "SECRET_KEY": "x" * 20 + "-a-long-random-production-secret-key-for-the-check",
        "ALLOWED_HOSTS": "core.example.org",
        "SERVICE_API_KEYS": "bot=k1,web=k2",
        "AUDIT_CHECKPOINT_KEYS": "k1:a-random-audit-checkpoint-secret",
        "DATA_DIR": str(tmp_path),
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], cwd=ROOT, env=env,
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr + result.stdout


def test_production_refuses_to_start_without_secret_key(tmp_path):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.core", "APP_ENV": "production",
           "DATA_DIR": str(tmp_path)}
    env.pop("SECRET_KEY", None)
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode != 0
    assert "SECRET_KEY is required" in result.stderr


def test_production_core_serves_the_admins_static_files(tmp_path):
    """No separate static server in production: core's admin and browsable API are styled by core itself."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.core", "APP_ENV": "production",
           "SECRET_KEY": "x" * 20 + "-a-long-random-production-secret-key-for-the-check", "ALLOWED_HOSTS": "testserver",
           "SERVICE_API_KEYS": "bot=k1", "DATA_DIR": str(tmp_path), "LOG_LEVEL": "WARNING"}
    probe = ("import django; django.setup(); from django.test import Client; "
             "r = Client().get('/static/admin/css/base.css', secure=True); print(r.status_code, r['Content-Type'])")
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[:2] == ["200", "text/css;"]
