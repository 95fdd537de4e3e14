"""A small kustomize renderer for the features deploy/k8s uses, so CI renders every overlay without a
kustomize binary: resources (files and directories), namespace, images, strategic-merge patches (lists of
named items merge by name, other lists are replaced, as kustomize does for the fields used here) and
secretGenerator/configMapGenerator from env files and literals with disableNameSuffixHash. Anything else in a
kustomization is refused, so the renderer can never silently ignore what a real kustomize would apply."""

import base64
import copy
from pathlib import Path

import yaml

SUPPORTED = {"apiVersion", "kind", "resources", "namespace", "images", "patches", "secretGenerator",
             "configMapGenerator", "generatorOptions"}
CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "PersistentVolume", "StorageClass",
                  "IngressClass", "PriorityClass", "CustomResourceDefinition"}
# Lists whose items kustomize's strategic merge matches by a key (the Kubernetes patchMergeKey).
MERGE_KEYS = {"containers": "name", "initContainers": "name", "env": "name", "volumes": "name",
              "volumeMounts": "mountPath", "ports": "containerPort", "volumeClaimTemplates": None}


class KustomizeError(Exception):
    pass


def _key(doc: dict) -> tuple[str, str]:
    return doc["kind"], doc["metadata"]["name"]


def merge(base, patch, field: str = ""):
    if isinstance(base, dict) and isinstance(patch, dict):
        out = dict(base)
        for key, value in patch.items():
            if value is None:
                out.pop(key, None)
            elif key in out:
                out[key] = merge(out[key], value, key)
            else:
                out[key] = copy.deepcopy(value)
        return out
    if isinstance(base, list) and isinstance(patch, list):
        merge_key = MERGE_KEYS.get(field)
        if field == "volumeClaimTemplates":
            merge_key = "metadata.name"
        if merge_key is None:
            return copy.deepcopy(patch)
        # Like kustomize: the patch's items first (merged into their namesakes), then the base's other items.
        remaining = copy.deepcopy(base)
        out = []
        for item in patch:
            wanted = _get(item, merge_key)
            match = next((existing for existing in remaining if _get(existing, merge_key) == wanted), None)
            if match is None:
                out.append(copy.deepcopy(item))
            else:
                remaining.remove(match)
                out.append(merge(match, item, field))
        return out + remaining
    return copy.deepcopy(patch)


def _get(item: dict, dotted: str):
    for part in dotted.split("."):
        item = item.get(part, {}) if isinstance(item, dict) else {}
    return item


def _env_file(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, value = line.partition("=")
        if not sep:
            raise KustomizeError(f"{path}: not KEY=VALUE: {line!r}")
        values[name.strip()] = value
    return values


def _generated(kind: str, spec: dict, directory: Path, files: dict[str, str]) -> dict:
    data: dict[str, str] = {}
    for name in spec.get("envs", []):
        path = directory / name
        if str(path) in files:
            path = Path(files[str(path)])
        if not path.exists():
            raise KustomizeError(f"{directory / name} does not exist")
        data.update(_env_file(path))
    for literal in spec.get("literals", []):
        name, _, value = literal.partition("=")
        data[name] = value
    doc = {"apiVersion": "v1", "kind": kind, "metadata": {"name": spec["name"]}}
    if kind == "Secret":
        doc["type"] = spec.get("type", "Opaque")
        doc["data"] = {key: base64.b64encode(value.encode()).decode() for key, value in data.items()}
    else:
        doc["data"] = data
    return doc


def render(directory: Path, files: dict[str, str] | None = None) -> list[dict]:
    """Renders the kustomization in `directory`. `files` maps a path the kustomization names to the file to
    read instead (the tests render overlays with secrets.env.example in place of the operator's secrets.env)."""
    files = files or {}
    directory = Path(directory)
    kustomization = yaml.safe_load((directory / "kustomization.yaml").read_text())
    unknown = set(kustomization) - SUPPORTED
    if unknown:
        raise KustomizeError(f"{directory}: fields this renderer does not implement: {sorted(unknown)}")
    docs: list[dict] = []
    for entry in kustomization.get("resources", []):
        path = directory / entry
        if path.is_dir():
            docs.extend(render(path, files))
        else:
            docs.extend(doc for doc in yaml.safe_load_all(path.read_text()) if doc)
    seen = set()
    for doc in docs:
        if _key(doc) in seen:
            raise KustomizeError(f"duplicate resource {_key(doc)}")
        seen.add(_key(doc))

    options = kustomization.get("generatorOptions", {})
    for kind, field in (("Secret", "secretGenerator"), ("ConfigMap", "configMapGenerator")):
        for spec in kustomization.get(field, []):
            if not options.get("disableNameSuffixHash"):
                raise KustomizeError("generators need generatorOptions.disableNameSuffixHash: true here")
            generated = _generated(kind, spec, directory, files)
            behavior = spec.get("behavior", "create")
            index = next((i for i, doc in enumerate(docs) if _key(doc) == (kind, spec["name"])), None)
            if behavior == "create":
                if index is not None:
                    raise KustomizeError(f"{kind} {spec['name']} exists already; use behavior merge or replace")
                docs.append(generated)
            elif index is None:
                raise KustomizeError(f"{kind} {spec['name']}: behavior {behavior} needs it in the resources")
            elif behavior == "replace":
                generated["metadata"] = {**docs[index]["metadata"], "name": spec["name"]}
                docs[index] = generated
            else:
                docs[index] = merge(docs[index], {"data": generated["data"]})

    for entry in kustomization.get("patches", []):
        if set(entry) != {"path"}:
            raise KustomizeError("only file patches (path:) are implemented")
        for patch in yaml.safe_load_all((directory / entry["path"]).read_text()):
            if not patch:
                continue
            index = next((i for i, doc in enumerate(docs) if _key(doc) == _key(patch)), None)
            if index is None:
                raise KustomizeError(f"patch target {_key(patch)} not found")
            docs[index] = merge(docs[index], patch)

    for image in kustomization.get("images", []):
        for doc in docs:
            for container in _containers(doc):
                name, _, _tag = container["image"].partition(":")
                if name == image["name"]:
                    container["image"] = f"{image.get('newName', name)}:{image.get('newTag', _tag or 'latest')}"

    namespace = kustomization.get("namespace")
    if namespace:
        for doc in docs:
            if doc["kind"] not in CLUSTER_SCOPED:
                doc["metadata"]["namespace"] = namespace
            elif doc["kind"] == "Namespace":
                doc["metadata"]["name"] = namespace
    return docs


def pod_spec(doc: dict) -> dict | None:
    if doc["kind"] in {"Deployment", "StatefulSet", "DaemonSet", "Job"}:
        return doc["spec"]["template"]["spec"]
    if doc["kind"] == "CronJob":
        return doc["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return None


def _containers(doc: dict) -> list[dict]:
    spec = pod_spec(doc)
    if spec is None:
        return []
    return [*spec.get("initContainers", []), *spec.get("containers", [])]


containers = _containers
