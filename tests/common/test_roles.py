"""settings.ROLE (apps/common/roles.py), one test per role: core's profile builds no core client, the bot's and web's
profiles load none of core's apps (so none of its models), and each profile declares its role. The test profile's
role is "all" (every role's code in one process), so the in-process tests here set ROLE themselves."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from apps.common.roles import ALL, CoreAppConfig, WrongRoleError, current_role
from apps.coreclient import AsyncCoreClient, CoreClient

ROOT = Path(__file__).resolve().parents[2]
CORE_APPS = {"accounts", "analytics", "audit", "banlists", "challenges", "contentrules", "corepages", "events",
             "groups", "logchannel", "moderation", "protection", "rbac", "users"}


def _run(code: str, tmp_path: Path, **env) -> subprocess.CompletedProcess:
    environment = {**os.environ, "APP_ENV": "development", "DATA_DIR": str(tmp_path), **env}
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=environment, capture_output=True, text=True,
                          timeout=60)


def test_the_test_profile_runs_every_role(db):
    assert current_role() == ALL
    CoreClient("http://127.0.0.1:9", "key").close()
    assert apps.get_app_config("users").get_model("User").objects.count() >= 0


def test_core_apps_are_marked_as_core():
    marked = {config.label for config in apps.get_app_configs() if isinstance(config, CoreAppConfig)}
    assert marked == CORE_APPS


# -- core


@pytest.mark.parametrize("client_class", [CoreClient, AsyncCoreClient])
def test_core_builds_no_core_client(client_class):
    with override_settings(ROLE="core"), pytest.raises(WrongRoleError) as refused:
        client_class("http://127.0.0.1:9", "key")
    assert str(refused.value) == ("The core client belongs to the bot and web roles; this process is the core role "
                                  "(settings.ROLE)")


def test_core_profile_declares_core_and_refuses_the_client(tmp_path):
    probe = """
import django
django.setup()
from django.conf import settings
from apps.coreclient import CoreClient
print("role", settings.ROLE)
try:
    CoreClient("http://127.0.0.1:9", "key")
except Exception as exc:
    print("refused", type(exc).__name__)
"""
    result = _run(probe, tmp_path, DJANGO_SETTINGS_MODULE="config.settings.core")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:2] == ["role core", "refused WrongRoleError"]


# -- bot and web


@pytest.mark.parametrize("role", ["bot", "web"])
def test_bot_and_web_build_the_core_client(role):
    with override_settings(ROLE=role):
        CoreClient("http://127.0.0.1:9", "key").close()
        AsyncCoreClient("http://127.0.0.1:9", "key")


@pytest.mark.parametrize(("role", "app"), [("bot", "audit"), ("web", "users")])
def test_bot_and_web_refuse_to_load_a_core_app(tmp_path, role, app):
    """A bot or web profile that installs one of core's apps stops at startup, before any of its models is queried."""
    (tmp_path / "leaky_settings.py").write_text(
        f"from config.settings.{role} import *  # noqa: F403\n"
        f"from config.settings.{role} import INSTALLED_APPS\n"
        f"INSTALLED_APPS = [*INSTALLED_APPS, 'apps.{app}']\n")
    result = _run("import django; django.setup()", tmp_path, DJANGO_SETTINGS_MODULE="leaky_settings",
                  PYTHONPATH=os.pathsep.join([str(tmp_path), str(ROOT)]))
    assert result.returncode != 0
    assert (f"apps.common.roles.WrongRoleError: The {app} app belongs to the core role; this process is the {role} "
            "role (settings.ROLE)") in result.stderr, result.stderr


@pytest.mark.parametrize("role", ["bot", "web"])
def test_a_core_app_refuses_in_bot_and_web(role):
    with override_settings(ROLE=role), pytest.raises(WrongRoleError, match=f"this process is the {role} role"):
        apps.get_app_config("rbac").ready()


def test_an_unknown_role_is_a_configuration_error():
    with override_settings(ROLE="worker"), pytest.raises(ImproperlyConfigured, match=r"settings\.ROLE must be one of"):
        CoreClient("http://127.0.0.1:9", "key")
