"""Each role's image installs only requirements/<role>.txt (the Dockerfile's targets): names only, every version
once in requirements/constraints.txt. Without a Docker engine, these prove that is enough: every package in each
role's dependency tree is pinned there (pip adds nothing unpinned), and each role's code, settings, URLs,
management commands and servers import in a process where every installed package outside that tree is hidden."""

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


CONSTRAINTS = REQUIREMENTS / "constraints.txt"


def requirement_lines(path: Path) -> list[str]:
    return [line for line in (raw.split("#", 1)[0].strip() for raw in path.read_text().splitlines()) if line]


@functools.cache
def constraints() -> dict[str, str]:
    """{distribution: pinned version}, each distribution pinned once."""
    pins: dict[str, str] = {}
    for line in requirement_lines(CONSTRAINTS):
        requirement = Requirement(line)
        name = canonicalize_name(requirement.name)
        assert name not in pins, f"constraints.txt pins {requirement.name} twice"
        assert not requirement.extras, f"constraints.txt: {line}: pip refuses extras in a constraints file"
        specifiers = list(requirement.specifier)
        assert len(specifiers) == 1 and specifiers[0].operator == "==", f"constraints.txt: pin {line} with =="
        pins[name] = specifiers[0].version
    return pins


@functools.cache
def pins_for_other_interpreters() -> set[str]:
    """The pins whose environment marker leaves them out on this Python (a backport an older 3.11 installs)."""
    return {canonicalize_name(requirement.name) for requirement in map(Requirement, requirement_lines(CONSTRAINTS))
            if requirement.marker is not None and not requirement.marker.evaluate()}


def named(path: Path) -> dict[str, set[str]]:
    """{distribution: extras} a role file names, with the files it includes; each file takes its versions from
    constraints.txt and writes none itself."""
    lines = requirement_lines(path)
    assert "-c constraints.txt" in lines, f"{path.name} does not take its versions from constraints.txt"
    found: dict[str, set[str]] = {}
    for line in lines:
        if line.startswith("-r "):
            found.update(named(path.parent / line[3:].strip()))
        elif not line.startswith("-c "):
            requirement = Requirement(line)
            assert not requirement.specifier, f"{path.name}: {line}: versions go in constraints.txt, once"
            found.setdefault(canonicalize_name(requirement.name), set()).update(requirement.extras)
    return found


def dependencies(name: str, extras: set[str]) -> dict[str, set[str]]:
    needed: dict[str, set[str]] = {}
    for line in metadata.distribution(name).requires or []:
        requirement = Requirement(line)
        if requirement.marker and not any(requirement.marker.evaluate({"extra": extra}) for extra in {"", *extras}):
            continue
        needed.setdefault(canonicalize_name(requirement.name), set()).update(requirement.extras)
    return needed


@functools.cache
def installed_tree(role: str) -> frozenset[str]:
    """Every distribution pip installs for requirements/<role>.txt: what it names and their dependencies, all the
    way down (read from the installed packages' metadata)."""
    pending, tree = list(named(REQUIREMENTS / f"{role}.txt").items()), {}
    while pending:
        name, extras = pending.pop()
        if extras <= tree.get(name, set()) and name in tree:
            continue
        tree.setdefault(name, set()).update(extras)
        pending.extend(dependencies(name, tree[name]).items())
    return frozenset(tree)


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
    allowed = set(installed_tree(role)) | VENV_TOOLS
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


@pytest.mark.parametrize("role", [*ROLE_IMPORTS, "dev"])
def test_each_role_s_whole_dependency_tree_is_pinned(role):
    pins = constraints()
    unpinned = sorted(installed_tree(role) - set(pins))
    assert not unpinned, f"requirements/{role}.txt installs {unpinned}: pin them in constraints.txt"
    # The tree above was read from the installed packages: it is the pinned versions' tree only if those are installed.
    stale = {name: metadata.version(name) for name in installed_tree(role) if metadata.version(name) != pins[name]}
    assert not stale, f"installed versions differ from constraints.txt (make venv): {stale}"


def test_every_pin_is_installed_by_some_role():
    # dev.txt includes every role's file: a pin outside its tree is one no image and no test installs.
    unreached = set(constraints()) - installed_tree("dev") - pins_for_other_interpreters()
    assert not unreached, sorted(unreached)


def test_the_role_files_keep_each_role_to_its_own_stack():
    core, bot, web = (installed_tree(role) for role in ("core", "bot", "web"))
    assert {"django-mongodb-backend", "pymongo"} <= core and not {"django-mongodb-backend", "pymongo"} & (bot | web)
    assert "python-telegram-bot" in bot and "python-telegram-bot" not in core | web
    web_only = {"channels", "djangorestframework-simplejwt"}
    assert web_only <= web and not web_only & (core | bot)
    assert not {"uvicorn", "python-telegram-bot", "channels"} & core
    # Core calls no other role: the HTTP clients of apps/coreclient and the Bot API are the bot's and web's.
    http_stacks = {"httpx", "httpcore", "aiohttp", "yarl", "multidict", "anyio", "certifi"}
    assert http_stacks <= bot & web and not http_stacks & core


@pytest.mark.parametrize("role", ROLE_IMPORTS)
def test_each_role_imports_with_only_its_requirements(role, tmp_path):
    if role == "core":
        assert {"httpx", "aiohttp", "telegram"} <= hidden_modules(role)
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


def test_the_core_client_does_not_import_on_core_s_packages(tmp_path):
    """What core's image lacks: the HTTP stack of apps/coreclient (the bot's and web's door to core)."""
    result = probe("core", "core", tmp_path, ["apps.coreclient.client"])
    assert result.returncode != 0
    assert "No module named 'aiohttp'" in result.stderr and "not in requirements/core.txt" in result.stderr, \
        result.stderr[-3000:]
