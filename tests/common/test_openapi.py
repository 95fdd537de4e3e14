"""The OpenAPI schema: served with the key, rendered as docs, valid without a single warning.

Generating the schema reads no database (the views, serializers and models' field types): these tests take no
`db`, so the MongoDB profile leaves them to `make test` (tests/mongo/database_only.py), except the validation, which
it keeps (its models have ObjectId keys: a field type spectacular could not map would warn there only)."""

import json

import yaml
from django.core.management import call_command
from django.test import Client

from tests.conftest import ApiClient


def schema(client=None) -> dict:
    client = client or ApiClient().client
    response = client.get("/api/schema", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200, response.content[:300]
    return json.loads(response.content)


def test_schema_is_served_with_the_key():
    document = schema()
    assert document["openapi"].startswith("3.")
    assert document["info"]["title"] == "Centralized API"
    for path in ("/api/users", "/api/users/{user_id}", "/api/groups", "/api/groups/{group_id}",
                 "/api/groups/{group_id}/members", "/api/audit/events", "/api/rbac/check-permission", "/api/health"):
        assert path in document["paths"], path


def test_schema_defaults_to_yaml():
    response = ApiClient().client.get("/api/schema")
    assert response.status_code == 200
    assert yaml.safe_load(response.content)["paths"] == schema()["paths"]


def test_api_key_is_the_security_scheme_of_every_operation_but_health():
    document = schema()
    assert document["components"]["securitySchemes"]["ServiceAPIKey"] == {
        "type": "apiKey", "in": "header", "name": "X-API-Key"}
    for path, item in document["paths"].items():
        for method, operation in item.items():
            schemes = {name for requirement in operation.get("security", []) for name in requirement}
            if path == "/api/health":
                assert "ServiceAPIKey" not in schemes
            else:
                assert "ServiceAPIKey" in schemes, f"{method.upper()} {path}"


def test_every_operation_documents_its_input_errors():
    for path, item in schema()["paths"].items():
        if path == "/api/health":
            continue
        for method, operation in item.items():
            assert {"400", "401"} <= set(operation["responses"]), f"{method.upper()} {path}"


def test_telegram_ids_are_documented_as_64_bit_integers():
    components = schema()["components"]["schemas"]
    chat_id = components["GroupListInputRequest"]["properties"]["telegram_chat_id"]
    assert chat_id["type"] == "integer"
    assert chat_id.get("format") == "int64" or (chat_id["minimum"], chat_id["maximum"]) == (-(2**63), 2**63 - 1)


def test_docs_render():
    response = ApiClient().client.get("/api/docs")
    assert response.status_code == 200
    content = response.content.decode()
    assert "swagger-ui" in content.lower()
    script = ApiClient().client.get("/api/docs?script=")  # Swagger UI's start script, apart from the page
    assert script.status_code == 200
    assert "/api/schema" in script.content.decode()


def test_docs_render_for_a_staff_session(django_user_model, db):
    client = Client()
    client.force_login(django_user_model.objects.create_user(username="staffer", is_staff=True))
    assert client.get("/api/docs").status_code == 200


def test_spectacular_validates_without_warnings(tmp_path):
    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    document = yaml.safe_load(target.read_text())
    assert document["paths"] == schema()["paths"]


def test_the_schema_is_generated_once_and_again_after_a_setting_changes(settings, monkeypatch):
    from drf_spectacular.generators import SchemaGenerator

    from apps.common import schema_views

    schema_views._generated.clear()
    generated = []
    original = SchemaGenerator.get_schema
    monkeypatch.setattr(SchemaGenerator, "get_schema",
                        lambda self, *args, **kwargs: generated.append(1) or original(self, *args, **kwargs))
    first, second = schema(), schema()
    assert first == second and len(generated) == 1
    assert yaml.safe_load(ApiClient().client.get("/api/schema").content) == first  # one schema, each format
    assert len(generated) == 1
    settings.SPECTACULAR_SETTINGS = {**settings.SPECTACULAR_SETTINGS, "DESCRIPTION": "Changed"}
    schema()
    assert len(generated) == 2
