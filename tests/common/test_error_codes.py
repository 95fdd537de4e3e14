"""One catalogue of error codes: every code the product answers with is an `ErrorCode`, and the schemas list them.

Every core response the test suite makes is also checked against core's schema (tests/openapi.py), whose error
envelope now only admits the catalogue's codes.
"""

import ast
import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.apps import apps

from apps.common.error_codes import ERROR_CODE_CHOICES, ErrorCode
from apps.common.errors import _DRF_CODES, DomainError
from tests.openapi import _schema

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = ROOT / "apps"
# Calls whose first argument is an envelope's error code.
ENVELOPE_BUILDERS = {"error_body", "error_response", "CoreError"}


def _product_modules():
    for path in sorted(PRODUCT.rglob("*.py")):
        if "migrations" not in path.parts:
            yield path, ast.parse(path.read_text(), filename=str(path))


def _is_code_attribute(node: ast.AST) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == "code"


def _is_string(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


def _code_sites():
    """(where, node) for every place that names an error code: a class's `code = ...`, an envelope builder's first
    argument, a comparison with an error's `.code`."""
    for path, tree in _product_modules():
        where = path.relative_to(ROOT)
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                for statement in node.body:
                    targets = (statement.targets if isinstance(statement, ast.Assign)
                               else [statement.target] if isinstance(statement, ast.AnnAssign) else [])
                    if any(isinstance(t, ast.Name) and t.id == "code" for t in targets) and statement.value:
                        yield f"{where}:{statement.lineno} {node.name}.code", statement.value
            elif isinstance(node, ast.Call) and node.args:
                name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", None)
                if name in ENVELOPE_BUILDERS:
                    yield f"{where}:{node.lineno} {name}(...)", node.args[0]
            elif isinstance(node, ast.Compare) and _is_code_attribute(node.left):
                for comparator in node.comparators:
                    items = comparator.elts if isinstance(comparator, (ast.Tuple, ast.Set, ast.List)) else [comparator]
                    for item in items:
                        yield f"{where}:{node.lineno} .code comparison", item


def test_every_code_the_product_names_comes_from_the_catalogue():
    literal, unknown = [], []
    for where, node in _code_sites():
        if _is_string(node):
            literal.append(f"{where}: {node.value!r}")
        elif (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "ErrorCode"
              and node.attr not in ErrorCode.__members__):
            unknown.append(f"{where}: ErrorCode.{node.attr}")
    assert not literal, "error codes spelt as strings instead of ErrorCode members:\n" + "\n".join(literal)
    assert not unknown, "\n".join(unknown)


def test_the_scan_sees_the_known_sites():
    """The scan above is not vacuous: it finds the domain errors' codes and the envelope builders."""
    sites = [where for where, _ in _code_sites()]
    assert any("RankViolationError.code" in where for where in sites)
    assert any("UnknownGroupError.code" in where for where in sites)
    assert any("error_body(...)" in where and "webhook" in where for where in sites)
    assert any(".code comparison" in where and "outbox" in where for where in sites)


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def test_domain_errors_and_framework_refusals_carry_catalogue_codes():
    for app in apps.get_app_configs():  # the core apps' errors, services and selectors define domain errors
        for module in ("errors", "services", "selectors"):
            if app.name.startswith("apps.") and (Path(app.path) / f"{module}.py").exists():
                importlib.import_module(f"{app.name}.{module}")
    errors = list(_subclasses(DomainError))
    assert len(errors) >= 10
    for error in [DomainError, *errors]:
        assert isinstance(error.code, ErrorCode), error
        assert error.status_code == error.code.status, error
    assert all(isinstance(code, ErrorCode) for code in _DRF_CODES.values())


def test_an_error_is_answered_with_its_codes_status():
    """The status is said once, in the catalogue: a domain error takes its code's, and cannot declare another."""

    class Stale(DomainError):
        code = ErrorCode.CONFLICT

    class UnknownThing(Stale):
        code = ErrorCode.UNKNOWN_TARGET

    assert (Stale.status_code, UnknownThing.status_code, DomainError.status_code) == (409, 404, 400)
    assert Stale("Changed meanwhile").status_code == 409
    with pytest.raises(TypeError, match="the status is its code's"):
        type("Contradiction", (DomainError,), {"code": ErrorCode.NOT_FOUND, "status_code": 400})


def test_every_code_has_an_http_error_status():
    assert all(400 <= code.status < 600 for code in ErrorCode)
    assert {code.status for code in ErrorCode if code.value.endswith("_unavailable")} == {503}


def test_every_code_has_a_description_and_one_spelling():
    assert [value for value, _ in ERROR_CODE_CHOICES] == [code.value for code in ErrorCode]
    assert all(code.description and code.value == code.value.lower() for code in ErrorCode)
    assert len({code.value for code in ErrorCode}) == len(ErrorCode)


def _envelope_codes(document: dict) -> list[str]:
    schemas = document["components"]["schemas"]
    error = schemas["ErrorEnvelope"]["properties"]["error"]
    assert error["allOf"] == [{"$ref": "#/components/schemas/ErrorCode"}]
    for code in ErrorCode:
        assert f"`{code.value}` - {code.description}" in error["description"]
    return schemas["ErrorCode"]["enum"]


def test_cores_schema_lists_the_catalogue(db):
    assert _envelope_codes(_schema()) == [code.value for code in ErrorCode]


def test_webs_schema_lists_the_catalogue(tmp_path):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.web", "DATA_DIR": str(tmp_path)}
    result = subprocess.run([sys.executable, "manage.py", "spectacular", "--format", "openapi-json"], cwd=ROOT,
                            env=env, capture_output=True, text=True, timeout=100)
    assert result.returncode == 0, result.stderr[-2000:]
    assert _envelope_codes(json.loads(result.stdout)) == [code.value for code in ErrorCode]
