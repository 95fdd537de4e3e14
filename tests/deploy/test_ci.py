""".github/workflows/ci.yml, the pipeline users can adopt: actionlint finds nothing in it (and does find planted
mistakes), it runs the lint and both suites as .ci/run does, and it builds an image per Dockerfile role target,
pushing them only on a version tag."""

import re
import subprocess

import pytest
import yaml

from .tools import ROOT, tool

WORKFLOW = ROOT / ".github" / "workflows" / "ci.yml"
ROLES = ["core", "bot", "web"]


def actionlint(path) -> subprocess.CompletedProcess:
    # Without shellcheck and pyflakes, whether or not they are installed here: the same findings everywhere.
    return subprocess.run([tool("actionlint"), "-no-color", "-shellcheck=", "-pyflakes=", str(path)],
                          capture_output=True, text=True, timeout=60, cwd=ROOT)


@pytest.fixture(scope="module")
def workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text())


def steps_using(job: dict, action: str) -> list[dict]:
    return [step for step in job["steps"] if step.get("uses", "").split("@")[0] == action]


def test_actionlint_finds_nothing():
    result = actionlint(WORKFLOW)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(("find", "replace", "complaint"), [
    ("          target: ${{ matrix.role }}", "          taget: ${{ matrix.role }}", 'input "taget" is not defined'),
    ("scope=${{ matrix.role }}\n", "scope=${{ matrix.rol }}\n", 'property "rol" is not defined'),
    ("needs: [lint, test, test-mongo]", "needs: [lint, tests, test-mongo]", 'needs job "tests" which does not exist'),
])
def test_actionlint_catches_mistakes(tmp_path, find, replace, complaint):
    text = WORKFLOW.read_text()
    assert find in text
    broken = tmp_path / "ci.yml"
    broken.write_text(text.replace(find, replace, 1))
    result = actionlint(broken)
    assert result.returncode != 0 and complaint in result.stdout, result.stdout


def test_runs_on_pushes_pull_requests_and_version_tags(workflow):
    # PyYAML reads the `on` key as True.
    triggers = workflow[True]
    assert "pull_request" in triggers and triggers["push"]["tags"] == ["v*"]
    assert workflow["permissions"] == {"contents": "read"}


def test_lint_and_both_suites_run(workflow):
    jobs = workflow["jobs"]
    commands = {name: [step["run"].strip() for step in job["steps"] if "run" in step] for name, job in jobs.items()}
    assert "make lint" in commands["lint"]
    assert "make test" in commands["test"]
    assert "make test-mongo" in commands["test-mongo"]
    for name in ("lint", "test", "test-mongo"):
        container = jobs[name]["container"]
        image = container if isinstance(container, str) else container["image"]
        assert re.fullmatch(r"python:3\.11-bookworm", image), name


def test_the_suites_get_what_ci_run_gives_them(workflow):
    """The same system packages and the same "fail, do not skip" switches as .ci/run, the project's own CI."""
    ci_run = (ROOT / ".ci" / "run").read_text()
    packages = set(re.findall(r"packages\+=\(([^)]*)\)", ci_run))
    wanted = {name for group in packages for name in group.split()} - {"python3.11", "python3.11-venv"}
    job = workflow["jobs"]["test"]
    installed = set(" ".join(step["run"] for step in job["steps"] if "apt-get install" in step.get("run", ""))
                    .replace("\\", " ").split())
    assert wanted and wanted <= installed, wanted - installed
    switches = set(re.findall(r"^export (REQUIRE_\w+)=1$", ci_run, re.M))
    assert switches and {name for name, value in job["env"].items() if value == "1"} == switches


def test_one_image_per_role_target_pushed_only_on_a_tag(workflow):
    dockerfile_targets = set(re.findall(r"^FROM \S+ AS (\w+)$", (ROOT / "Dockerfile").read_text(), re.M))
    job = workflow["jobs"]["images"]
    assert job["strategy"]["matrix"]["role"] == ROLES
    assert set(ROLES) <= dockerfile_targets
    assert set(job["needs"]) == {"lint", "test", "test-mongo"}
    assert job["permissions"] == {"contents": "read", "packages": "write"}
    on_tag = "startsWith(github.ref, 'refs/tags/v')"
    (login,) = steps_using(job, "docker/login-action")
    assert login["if"] == on_tag
    assert login["with"] == {"registry": "${{ vars.IMAGE_REGISTRY }}", "username": "${{ github.actor }}",
                             "password": "${{ secrets.GITHUB_TOKEN }}"}
    (meta,) = steps_using(job, "docker/metadata-action")
    # <owner>/<repo>-core, -bot, -web: the names compose.prod.yaml (IMAGE_REPOSITORY) and Kubernetes use.
    assert meta["with"]["images"] == "${{ vars.IMAGE_REGISTRY }}/${{ github.repository }}-${{ matrix.role }}"
    assert "type=semver,pattern={{version}}" in meta["with"]["tags"]
    (build,) = steps_using(job, "docker/build-push-action")
    assert build["with"]["target"] == "${{ matrix.role }}" and build["with"]["context"] == "."
    assert build["with"]["push"] == "${{ " + on_tag + " }}"
    assert build["with"]["tags"] == "${{ steps.meta.outputs.tags }}"
    # Only the image job may write packages.
    assert all("permissions" not in other for name, other in workflow["jobs"].items() if name != "images")
