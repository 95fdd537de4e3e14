"""The Dockerfile, checked without a Docker engine: hadolint, and its structure (stages, non-root user,
health check, no compiler in the final stage, COPY sources that exist and are not excluded by .dockerignore)."""

import fnmatch
import os
import re
import subprocess

import pytest

from .tools import DEPLOY, ROOT, tool

DOCKERFILE = ROOT / "Dockerfile"
COMPILERS = re.compile(r"\b(build-essential|gcc|g\+\+|clang|make|python3?-dev|libc6-dev)\b")


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    joined = re.sub(r"\\\n", " ", "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#")))
    result = []
    for line in joined.splitlines():
        if line.strip():
            keyword, _, rest = line.strip().partition(" ")
            result.append((keyword.upper(), rest.strip()))
    return result


def stages(text: str) -> list[list[tuple[str, str]]]:
    found: list[list[tuple[str, str]]] = []
    for keyword, rest in instructions(text):
        if keyword == "FROM":
            found.append([])
        if found:
            found[-1].append((keyword, rest))
    return found


def hadolint(path) -> subprocess.CompletedProcess:
    return subprocess.run([tool("hadolint"), "--no-color", "--failure-threshold", "info", str(path)],
                          capture_output=True, text=True, timeout=60)


def test_hadolint_finds_nothing():
    result = hadolint(DOCKERFILE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_fails_on_a_bad_dockerfile(tmp_path):
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN apt-get update && apt-get install -y gcc\nRUN cd /app\n")
    result = hadolint(bad)
    assert result.returncode != 0
    assert "DL3007" in result.stdout and "DL3008" in result.stdout


def test_multi_stage_with_a_slim_python_311_base():
    all_stages = stages(DOCKERFILE.read_text())
    assert len(all_stages) >= 2
    args = dict(re.findall(r"^ARG (\w+)=(\S+)", DOCKERFILE.read_text(), re.M))
    for stage in all_stages:
        image = stage[0][1].split()[0]
        image = re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], image)
        assert re.fullmatch(r"python:3\.11[\w.-]*-slim[\w.-]*", image), image
    assert re.search(r"COPY --from=\w+ /opt/venv /opt/venv", DOCKERFILE.read_text())


def test_final_stage_runs_as_a_non_root_user_without_compilers_and_with_a_health_check():
    final = stages(DOCKERFILE.read_text())[-1]
    users = [rest for keyword, rest in final if keyword == "USER"]
    assert users, "the final stage must switch to a non-root USER"
    assert users[-1].split(":")[0] not in {"root", "0"}
    for keyword, rest in final:
        if keyword == "RUN":
            assert not COMPILERS.search(rest), f"compiler in the final stage: {rest}"
            assert "apt-get install" not in rest
    healthchecks = [rest for keyword, rest in final if keyword == "HEALTHCHECK"]
    assert len(healthchecks) == 1 and "deploy/start/healthcheck.py" in healthchecks[0]
    cmd = [rest for keyword, rest in final if keyword == "CMD"][-1]
    script = re.search(r"deploy/start/\w+\.sh", cmd).group(0)
    assert os.access(ROOT / script, os.X_OK)


def _ignored(path: str, patterns: list[str]) -> bool:
    ignored = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        pattern = pattern.lstrip("!").rstrip("/")
        parts = path.split("/")
        hit = any(fnmatch.fnmatch("/".join(parts[:i]), pattern) or fnmatch.fnmatch("/".join(parts[:i]),
                  pattern.removeprefix("**/")) for i in range(1, len(parts) + 1))
        if hit:
            ignored = not negate
    return ignored


def test_copy_sources_exist_and_reach_the_build_context():
    patterns = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
                if line.strip() and not line.startswith("#")]
    copies = [rest for stage in stages(DOCKERFILE.read_text()) for keyword, rest in stage
              if keyword == "COPY" and "--from=" not in rest]
    assert copies
    for rest in copies:
        sources = [word for word in rest.split() if not word.startswith("--")][:-1]
        for source in sources:
            assert (ROOT / source).exists(), f"COPY source missing: {source}"
            assert not _ignored(source.rstrip("/"), patterns), f".dockerignore excludes {source}"
    # Everything the roles import at run time is copied.
    copied = {source.rstrip("/") for rest in copies for source in rest.split()[:-1]}
    assert {"apps", "config", "deploy", "manage.py", "mongo_migrations"} <= copied


def test_dockerignore_keeps_secrets_and_local_state_out():
    patterns = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
                if line.strip() and not line.startswith("#")]
    for path in (".env", ".git", ".venv", "data", "deploy/nginx/certs", "apps/x/__pycache__"):
        assert _ignored(path, patterns), path
    assert not _ignored("deploy/start/core.sh", patterns)


@pytest.mark.parametrize("name", ["core", "web", "bot", "migrate", "wait-for-migrations"])
def test_start_scripts_exist_and_are_executable(name):
    script = DEPLOY / "start" / f"{name}.sh"
    assert script.exists() and os.access(script, os.X_OK)
    assert script.read_text().startswith("#!/bin/sh\n")
    subprocess.run(["sh", "-n", str(script)], check=True)
