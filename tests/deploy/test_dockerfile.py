"""The Dockerfile, checked without a Docker engine: hadolint, and its structure (a target per role installing
only its role's requirements, non-root user, health check, no compiler in an image, COPY sources that exist and are
not excluded by .dockerignore)."""

import fnmatch
import os
import re
import subprocess

import pytest

from .tools import DEPLOY, ROOT, tool

DOCKERFILE = ROOT / "Dockerfile"
ROLE_PORTS = {"core": 8000, "bot": 8001, "web": 8002}
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


def named_stages(text: str) -> dict[str, list[tuple[str, str]]]:
    """{stage name: its instructions}; every stage of this Dockerfile is named."""
    result = {}
    for stage in stages(text):
        match = re.fullmatch(r"(\S+) AS ([\w-]+)", stage[0][1], re.I)
        assert match, f"unnamed stage: {stage[0][1]}"
        result[match.group(2)] = stage
    return result


def lineage(target: str, text: str) -> list[list[tuple[str, str]]]:
    """The stages the target's image is built on, base first (FROM <stage>), not the ones it copies from."""
    by_name = named_stages(text)
    chain = []
    while target in by_name:
        chain.insert(0, by_name[target])
        target = by_name[target][0][1].split()[0]
    return chain


def final_instructions(target: str, keyword: str) -> list[str]:
    return [rest for stage in lineage(target, DOCKERFILE.read_text()) for word, rest in stage if word == keyword]


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
    text = DOCKERFILE.read_text()
    by_name = named_stages(text)
    assert len(by_name) >= 2
    args = dict(re.findall(r"^ARG (\w+)=(\S+)", text, re.M))
    seen = set()
    for name, stage in by_name.items():
        image = stage[0][1].split()[0]
        if image not in seen:  # FROM an earlier stage, or the base image
            image = re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], image)
            assert re.fullmatch(r"python:3\.11[\w.-]*-slim[\w.-]*", image), image
        seen.add(name)
    assert re.search(r"COPY --from=[\w-]+ /opt/venv /opt/venv", text)


@pytest.mark.parametrize(("role", "port"), ROLE_PORTS.items())
def test_one_target_per_role_that_installs_only_its_requirements(role, port):
    """`docker build --target <role>`: the virtualenv comes from a stage that installs requirements/<role>.txt
    and nothing else; the image starts its role's script on its port."""
    text = DOCKERFILE.read_text()
    by_name = named_stages(text)
    assert role in by_name
    venvs = [rest.split()[0].removeprefix("--from=") for rest in final_instructions(role, "COPY")
             if rest.startswith("--from=") and rest.endswith("/opt/venv /opt/venv")]
    assert len(venvs) == 1, venvs
    installs = [rest for stage in lineage(venvs[0], text) for keyword, rest in stage
                if keyword == "RUN" and "pip install" in rest]
    requirement_files = [file for rest in installs for file in re.findall(r"-r (\S+)", rest)]
    assert requirement_files == [f"requirements/{role}.txt"], requirement_files
    assert all("--only-binary=:all:" in rest for rest in installs)
    assert (ROOT / requirement_files[0]).exists()
    assert final_instructions(role, "CMD")[-1] == f'["deploy/start/{role}.sh"]'
    assert final_instructions(role, "EXPOSE") == [str(port)]
    assert f"PORT={port}" in final_instructions(role, "ENV")
    # The code is the same in every role: one stage copies it, each role takes it whole.
    assert "--from=code /app /app" in final_instructions(role, "COPY")


def test_the_code_stage_copies_what_the_roles_import():
    code = named_stages(DOCKERFILE.read_text())["code"]
    copied = {source.rstrip("/") for keyword, rest in code if keyword == "COPY" for source in rest.split()[:-1]}
    assert {"apps", "config", "deploy", "manage.py", "mongo_migrations"} <= copied
    # Development tools stay out of every image: the Telegram sandbox, the benchmarks, the tests.
    assert not copied & {"tgsandbox", "bench", "tests", "."}
    assert (ROOT / "tgsandbox" / "__init__.py").exists() and not (ROOT / "apps" / "tgsandbox").exists()


@pytest.mark.parametrize("role", ROLE_PORTS)
def test_role_image_runs_as_a_non_root_user_without_compilers_and_with_a_health_check(role):
    users = final_instructions(role, "USER")
    assert users, "the image must switch to a non-root USER"
    assert users[-1].split(":")[0] not in {"root", "0"}
    for rest in final_instructions(role, "RUN"):
        assert not COMPILERS.search(rest), f"compiler in the {role} image: {rest}"
        assert "apt-get install" not in rest
    healthchecks = final_instructions(role, "HEALTHCHECK")
    assert len(healthchecks) == 1 and "deploy/start/healthcheck.py" in healthchecks[0]
    script = re.search(r"deploy/start/\w+\.sh", final_instructions(role, "CMD")[-1]).group(0)
    assert os.access(ROOT / script, os.X_OK)


def test_the_lineage_check_sees_a_root_image(tmp_path):
    """The checks above follow FROM <stage>: a role whose parent drops to root would be caught."""
    text = DOCKERFILE.read_text().replace("FROM runtime AS bot", "FROM runtime AS rootstage\nUSER root\n"
                                          "FROM rootstage AS bot")
    names = [stage[0][1] for stage in lineage("bot", text)]
    assert names[-2:] == ["runtime AS rootstage", "rootstage AS bot"]
    users = [rest for stage in lineage("bot", text) for keyword, rest in stage if keyword == "USER"]
    assert users == ["root", "10001:10001"]


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


def test_dockerignore_keeps_secrets_and_local_state_out():
    patterns = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
                if line.strip() and not line.startswith("#")]
    for path in (".env", ".git", ".venv", "data", "deploy/nginx/certs", "apps/x/__pycache__"):
        assert _ignored(path, patterns), path
    assert not _ignored("deploy/start/core.sh", patterns)


@pytest.mark.parametrize("name", ["core", "web", "bot", "migrate", "wait-for-migrations", "dev"])
def test_start_scripts_exist_and_are_executable(name):
    script = DEPLOY / "start" / f"{name}.sh"
    assert script.exists() and os.access(script, os.X_OK)
    assert script.read_text().startswith("#!/bin/sh\n")
    subprocess.run(["sh", "-n", str(script)], check=True)
