"""Validates API responses against the project's own OpenAPI schema (drf-spectacular), as JSON Schema."""

import re
from functools import cache

from drf_spectacular.generators import SchemaGenerator
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012


def _to_json_schema(node):
    """OpenAPI 3.0 `nullable: true` -> JSON Schema's type union."""
    if isinstance(node, list):
        return [_to_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _to_json_schema(value) for key, value in node.items()}
    if node.pop("nullable", False):
        if "$ref" in node or "allOf" in node or "oneOf" in node or "enum" in node:
            return {"anyOf": [node, {"type": "null"}]}
        if "type" in node:
            node["type"] = [node["type"], "null"]
    return node


@cache
def _schema() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


@cache
def _registry() -> Registry:
    components = _to_json_schema(_schema()["components"])
    return Registry().with_resource("urn:components", Resource.from_contents({"components": components}, DRAFT202012))


@cache
def _operations() -> list[tuple[re.Pattern, str, dict]]:
    operations = []
    for path, item in _schema()["paths"].items():
        pattern = re.compile("^" + re.sub(r"\{[^}]+\}", r"[^/]+", path) + "$")
        for method, operation in item.items():
            operations.append((pattern, method.lower(), operation))
    # A fixed path before a templated one it also matches (/api/banlists/versions, not /api/banlists/{id}), as
    # the URL patterns route them.
    operations.sort(key=lambda operation: operation[0].pattern.count("[^/]+"))
    return operations


def response_schema(path: str, method: str, status: int) -> dict | None:
    for pattern, op_method, operation in _operations():
        if op_method == method.lower() and pattern.match(path):
            responses = operation.get("responses", {})
            response = responses.get(str(status))
            if response is None:
                raise AssertionError(f"{method.upper()} {path}: status {status} is not documented in the schema")
            content = response.get("content", {}).get("application/json")
            return content["schema"] if content else None
    raise AssertionError(f"{method.upper()} {path} is not in the OpenAPI schema")


def _rewrite_refs(node):
    if isinstance(node, dict):
        return {key: ("urn:components#" + value[1:] if key == "$ref" else _rewrite_refs(value))
                for key, value in node.items()}
    if isinstance(node, list):
        return [_rewrite_refs(item) for item in node]
    return node


def validate_response(path: str, method: str, status: int, body) -> None:
    schema = response_schema(path, method, status)
    if schema is None:
        return
    validator = Draft202012Validator(_rewrite_refs(_to_json_schema(schema)), registry=_registry())
    errors = sorted(validator.iter_errors(body), key=lambda error: error.path)
    if errors:
        raise AssertionError(
            f"{method.upper()} {path} -> {status} does not match the schema: "
            + "; ".join(f"{'/'.join(map(str, e.path))}: {e.message}" for e in errors[:5])
        )
