"""The import contracts (pyproject.toml [tool.importlinter], run by `make lint`) hold on the tree, place every app,
and break on a new cross-boundary import, a function-level one too. The broken trees are copies (Python files only)
in a temporary directory: the work tree is never written."""

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
CONTRACTS = {contract["id"]: contract for contract in CONFIG["contracts"]}


def _lint_imports(cwd: Path, *arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(LINT_IMPORTS), "--no-cache", *arguments], cwd=cwd, capture_output=True, text=True,
                          timeout=120, env={**os.environ, "COLUMNS": "300"})


def _layer_modules(contract: dict) -> set[str]:
    return {module.strip() for layer in contract["layers"] for module in layer.split("|")}


@pytest.fixture(scope="module")
def python_tree(tmp_path_factory) -> Path:
    """The root packages' Python files and pyproject.toml, copied."""
    copy = tmp_path_factory.mktemp("tree")
    for package in CONFIG["root_packages"]:
        for source in (ROOT / package).rglob("*.py"):
            if "__pycache__" not in source.parts:
                target = copy / source.relative_to(ROOT)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, target)
    shutil.copyfile(ROOT / "pyproject.toml", copy / "pyproject.toml")
    return copy


def test_make_lint_runs_the_contracts():
    recipe = subprocess.run(["make", "-n", "lint"], cwd=ROOT, capture_output=True, text=True, timeout=60).stdout
    assert any(line.split()[0].endswith("/lint-imports") for line in recipe.splitlines() if line.strip()), recipe


def test_the_tree_keeps_every_contract():
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Contracts: {len(CONTRACTS)} kept, 0 broken." in result.stdout


def test_every_app_has_its_place():
    """A new app under apps/ is placed in the layers (core) or is one of the roles' own packages; the bot's and
    web's forbidden list is every core app but common, so a new core app is out of their reach at once."""
    apps = {f"apps.{path.parent.name}" for path in (ROOT / "apps").glob("*/__init__.py")}
    core = _layer_modules(CONTRACTS["core-layers"])
    assert apps == core | {"apps.coreclient", "apps.botgateway", "apps.dashboard"}
    assert set(CONTRACTS["bot-web-through-coreclient"]["forbidden_modules"]) == core - {"apps.common"}
    assert set(CONTRACTS["coreclient-and-common-below-roles"]["forbidden_modules"]) == (
        core - {"apps.common"}) | {"apps.botgateway", "apps.dashboard"}
    assert set(CONTRACTS["core-without-clients"]["source_modules"]) == core - {"apps.common"}


CROSSINGS = [
    # (module written into the copy, its text, the contract that must break)
    ("apps/dashboard/leak.py", "from apps.rbac.selectors import role_get\n", "bot-web-through-coreclient"),
    ("apps/botgateway/leak.py", "import apps.audit.models\n", "bot-web-through-coreclient"),
    ("apps/groups/leak.py", "def rank():\n    from apps.rbac.selectors import actor_rank\n\n    return actor_rank\n",
     "core-layers"),
    ("apps/users/leak.py", "from apps.stats import selectors\n", "core-layers"),
    ("apps/coreclient/leak.py", "from apps.users.models import User\n", "coreclient-and-common-below-roles"),
    ("apps/stats/leak.py", "from apps.coreclient import CoreClient\n", "core-without-clients"),
    ("apps/common/leak.py", "def world():\n    import tgsandbox.world\n", "no-dev-tools-in-product"),
    ("config/leak.py", "from tests.factories import make_user\n", "no-dev-tools-in-product"),
    # Two modules of one app importing each other (a function-level import closes the loop).
    ("apps/rbac/loop_a.py", "from apps.rbac import loop_b\n", "no-cycles"),
    ("apps/rbac/loop_b.py", "def back():\n    from apps.rbac import loop_a\n", "no-cycles"),
    # Web's modules too (the dashboard was left out of the contract while apis <-> pages and tokens <-> live looped).
    ("apps/dashboard/loop_a.py", "from apps.dashboard import loop_b\n", "no-cycles"),
    ("apps/dashboard/loop_b.py", "def back():\n    from apps.dashboard import loop_a\n", "no-cycles"),
]


def test_new_cross_boundary_imports_fail_the_lint(python_tree):
    """All crossings in one run (a run costs about a second): each is reported under the contract it breaks."""
    for path, text, _ in CROSSINGS:
        (python_tree / path).write_text(text)
    try:
        result = _lint_imports(python_tree)
    finally:
        for path, _, _ in CROSSINGS:
            (python_tree / path).unlink()
    output = " ".join(result.stdout.split())  # rich wraps long lines
    assert result.returncode != 0, output
    broken = output.split("Broken contracts", 1)[1]
    starts = sorted((broken.index(CONTRACTS[contract_id]["name"]), contract_id) for contract_id in
                    {contract_id for _, _, contract_id in CROSSINGS})
    ends = [start for start, _ in starts[1:]] + [len(broken)]
    sections = {contract_id: broken[start:end] for (start, contract_id), end in zip(starts, ends, strict=True)}
    for path, _, contract_id in CROSSINGS:
        module = path.removesuffix(".py").replace("/", ".")
        package, name = module.rsplit(".", 1)
        # A cycle is reported by the parent package and relative names: "No cycles are allowed in apps.rbac ... .loop_a"
        named = module in sections[contract_id] or (package in sections[contract_id] and f".{name}" in sections[
            contract_id])
        assert named, (module, contract_id, output)
    assert f"Contracts: {len(CONTRACTS) - len(sections)} kept, {len(sections)} broken." in output, output
