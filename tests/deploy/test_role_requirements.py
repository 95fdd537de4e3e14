"""Each role's image installs only requirements/<role>.txt (the Dockerfile's targets). Without a Docker engine,
these prove that is enough: each file is closed under its packages' own dependencies (pip adds nothing unpinned),
and each role's code, settings, URLs, management commands and servers import in a process where every installed
package outside that role's file is hidden."""

import functools
import json
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from .conftest import script_env
from .tools import ROOT

REQUIREMENTS = ROOT / "requirements"
# What `python -m venv` puts in every image's virtualenv besides the requirements.
VENV_TOOLS = {"pip", "setuptools"}

# What runs in each image: the application, the server programs of its start scripts (deploy/start) and what the
# development compose runs on it (the Telegram sandbox, mounted from the checkout over the bot's image: no image
# holds it).
ROLE_IMPORTS = {
    "core": ["config.wsgi", "gunicorn.app.wsgiapp", "gunicorn.workers.gthread"],
    "bot": ["apps.botgateway.asgi", "apps.botgateway.application", "uvicorn.main", "uvicorn.supervisors.statreload",
            "tgsandbox.server"],
    "web": ["apps.dashboard.asgi", "gunicorn.app.wsgiapp", "uvicorn_worker", "uvicorn.supervisors.statreload"],
}

PROBE = """
import importlib, importlib.abc, json, os, sys

blocked, role, modules = json.loads(sys.argv[1])
blocked = set(blocked)


class Hidden(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.partition(".")[0] in blocked:
            raise ModuleNotFoundError(f"No module named {name!r} (not in requirements/{role}.txt)", name=name)
        return None


sys.meta_path.insert(0, Hidden())
import django
from django.core import management
from django.urls import get_resolver

django.setup()
for module in modules:
    importlib.import_module(module)
get_resolver().url_patterns  # every view of the role's URL conf
for name, app in management.get_commands().items():
    if app.startswith("apps."):
        management.load_command_class(app, name)
management.call_command("check", verbosity=0)
exec(open("deploy/gunicorn/conf.py").read(), {"__name__": "gunicorn_conf"})
print("imported")
"""


def pinned(path: Path) -> dict[str, set[str]]:
    """{distribution: extras} of a requirements file and the files it includes."""
    found: dict[str, set[str]] = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("-r "):
            found.update(pinned(path.parent / line[3:].strip()))
        elif line:
            requirement = Requirement(line)
            assert str(requirement.specifier).startswith("=="), f"{path.name}: pin {line} with =="
            found[canonicalize_name(requirement.name)] = set(requirement.extras)
    return found


def top_level_modules(distribution: metadata.Distribution) -> set[str]:
    names = set((distribution.read_text("top_level.txt") or "").split())
    for file in distribution.files or []:
        first = file.parts[0]
        if first.endswith((".dist-info", ".data")) or first in {"..", "__pycache__"} or file.suffix == ".pth":
            continue
        names.add(first.split(".")[0] if len(file.parts) == 1 else first)
    return names


@functools.cache
def hidden_modules(role: str) -> frozenset[str]:
    allowed = set(pinned(REQUIREMENTS / f"{role}.txt")) | VENV_TOOLS
    hidden, kept = set(), set()
    for distribution in metadata.distributions():
        modules = top_level_modules(distribution)
        (kept if canonicalize_name(distribution.metadata["Name"]) in allowed else hidden).update(modules)
    # A name that an allowed distribution also provides (a namespace package) stays importable.
    return frozenset(hidden - kept - {"_distutils_hack"})


def probe(role: str, settings_role: str, tmp_path, modules: list[str], **env) -> subprocess.CompletedProcess:
    arguments = json.dumps([sorted(hidden_modules(role)), role, modules])
    environment = script_env(DJANGO_SETTINGS_MODULE=f"config.settings.{settings_role}", APP_ENV="development",
                             DATA_DIR=tmp_path, **env)
    return subprocess.run([sys.executable, "-c", PROBE, arguments], cwd=ROOT, env=environment, capture_output=True,
                          text=True, timeout=180)


@pytest.mark.parametrize("role", ROLE_IMPORTS)
def test_each_role_file_pins_its_whole_dependency_tree(role):
    pins = pinned(REQUIREMENTS / f"{role}.txt")
    missing = []
    for name, extras in pins.items():
        for line in metadata.distribution(name).requires or []:
            requirement = Requirement(line)
            if requirement.marker and not any(requirement.marker.evaluate({"extra": extra})
                                              for extra in {"", *extras}):
                continue
            if canonicalize_name(requirement.name) not in pins:
                missing.append(f"{name} needs {requirement}")
    assert not missing, missing


def test_the_role_files_keep_each_role_to_its_own_stack():
    core, bot, web = (set(pinned(REQUIREMENTS / f"{role}.txt")) for role in ("core", "bot", "web"))
    assert {"django-mongodb-backend", "pymongo"} <= core and not {"django-mongodb-backend", "pymongo"} & (bot | web)
    assert "python-telegram-bot" in bot and "python-telegram-bot" not in core | web
    web_only = {"channels", "djangorestframework-simplejwt"}
    assert web_only <= web and not web_only & (core | bot)
    assert not {"uvicorn", "python-telegram-bot", "channels"} & core


@pytest.mark.parametrize("role", ROLE_IMPORTS)
def test_each_role_imports_with_only_its_requirements(role, tmp_path):
    result = probe(role, role, tmp_path, ROLE_IMPORTS[role])
    assert result.returncode == 0 and result.stdout.strip().endswith("imported"), result.stderr[-3000:]


def test_core_imports_its_mongodb_profile_with_only_its_requirements(tmp_path):
    # Settings and app configs only: nothing connects until a query.
    result = probe("core", "core", tmp_path, ROLE_IMPORTS["core"] + ["django_mongodb_backend.base"],
                   DATABASE_URL="mongodb://127.0.0.1:9/tgmod?replicaSet=rs0")
    assert result.returncode == 0, result.stderr[-3000:]


@pytest.mark.parametrize(("role", "settings_role", "missing"), [
    ("core", "web", "cryptography"),
    ("web", "core", "pymongo"),
])
def test_the_probe_fails_where_a_role_lacks_a_package(role, settings_role, missing, tmp_path):
    """Another role's code on this role's packages: the hidden package is what fails."""
    result = probe(role, settings_role, tmp_path, ROLE_IMPORTS[settings_role],
                   **({"DATABASE_URL": "mongodb://127.0.0.1:9/tgmod"} if settings_role == "core" else {}))
    assert result.returncode != 0
    assert f"No module named '{missing}" in result.stderr and f"not in requirements/{role}.txt" in result.stderr, \
        result.stderr[-3000:]
