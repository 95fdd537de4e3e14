"""OpenAPI shapes of the envelope, so the schema documents exactly what goes over the wire."""

import copy
import json
from functools import cache

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers

from .error_codes import ERROR_CODE_CHOICES
from .fields import ObjectIdField, TelegramUsernameField


class ErrorEnvelopeSerializer(serializers.Serializer):
    success = serializers.BooleanField(default=False)
    error = serializers.ChoiceField(
        choices=ERROR_CODE_CHOICES,
        help_text="Stable machine-readable code from one catalogue (apps/common/error_codes.py): match it, never "
                  "the message",
    )
    message = serializers.CharField(help_text="Human-readable explanation")
    status_code = serializers.IntegerField()
    details = serializers.JSONField(required=False, help_text="Field errors, when the input was invalid")


def _name_of(serializer) -> str:
    return component_name(serializer if isinstance(serializer, type) else type(serializer))


@cache
def envelope(serializer, many: bool = False) -> serializers.Serializer:
    return inline_serializer(
        f"{_name_of(serializer)}{'List' if many else ''}Envelope",
        {"success": serializers.BooleanField(default=True), "data": serializer(many=many)},
    )


@cache
def list_envelope(serializer) -> serializers.Serializer:
    page = inline_serializer(
        f"{_name_of(serializer)}Page",
        {
            "items": serializer(many=True),
            "total": serializers.IntegerField(),
            "page": serializers.IntegerField(),
            "limit": serializers.IntegerField(),
        },
    )
    return inline_serializer(
        f"{_name_of(serializer)}PageEnvelope", {"success": serializers.BooleanField(), "data": page}
    )


_ERROR_TEXT = {
    400: "Invalid input (validation_error, malformed_request, unknown_permission, ...)",
    401: "Missing or unknown X-API-Key (unauthenticated)",
    403: "Forbidden: a session user who is not staff (permission_denied), a refused change (rank_violation), or an "
         "endpoint outside the calling service's scope (service_forbidden)",
    404: "Unknown id (not_found)",
    409: "Conflicts with existing state (conflict)",
    413: "Body over 1 MiB (payload_too_large)",
    415: "Body not sent as application/json (unsupported_media_type)",
}


def error_responses(*codes: int) -> dict:
    """The errors particular to an operation; those every operation shares are added by the hook below."""
    wanted = sorted({400, *codes})
    return {code: OpenApiResponse(ErrorEnvelopeSerializer, description=_ERROR_TEXT[code]) for code in wanted}


def document_common_errors(result, generator, request, public):
    """Postprocessing hook: the errors any authenticated operation can answer, and those of any body."""
    error = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorEnvelope"}}}}
    for path, item in result.get("paths", {}).items():
        for operation in item.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            codes = [] if path.endswith("/health") else [401, 403]
            if "requestBody" in operation:
                codes += [400, 413, 415]
            for code in codes:
                responses.setdefault(str(code), {"description": _ERROR_TEXT[code], **error})
    return declare_input_rules(result)


def component_name(serializer_class: type) -> str:
    """`UserListApi.InputSerializer` -> `UserListInput`: nested HackSoft-style serializers get unique names."""
    name = serializer_class.__name__.removesuffix("Serializer")
    parts = serializer_class.__qualname__.split(".")
    if len(parts) > 1 and parts[-2].endswith("Api"):
        name = parts[-2].removesuffix("Api") + name
    return name


class EnvelopeAutoSchema(AutoSchema):
    def get_serializer_name(self, serializer, direction):
        return component_name(type(serializer))

    _direction = None  # of the serializer being mapped: _insert_field_validators is not told

    def _map_basic_serializer(self, serializer, direction):
        outer, self._direction = self._direction, direction
        try:
            schema = super()._map_basic_serializer(serializer, direction)
        finally:
            self._direction = outer
        rules = getattr(serializer, "schema_rules", ())
        if direction == "request" and rules:
            schema["allOf"] = [*schema.get("allOf", []), *rules]
        return schema

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if isinstance(field, serializers.ListSerializer) and schema and schema.get("type") == "array":
            for bound, key in ((field.min_length, "minItems"), (field.max_length, "maxItems")):
                if bound is not None:
                    schema[key] = bound
        if direction == "request" and isinstance(field, ObjectIdField) and schema.get("type") == "string":
            # An id in a body may be a JSON string or a JSON integer (kept as its string).
            string = {key: schema.pop(key) for key in ("type", "minLength", "maxLength") if key in schema}
            schema["anyOf"] = [string, {"type": "integer"}]
        return schema

    def _insert_field_validators(self, field, schema):
        if self._direction != "request":
            super()._insert_field_validators(field, schema)
            return
        if "anyOf" in schema and isinstance(field, ObjectIdField):
            super()._insert_field_validators(field, schema["anyOf"][0])
            schema["anyOf"][0].setdefault("pattern", NON_BLANK_TEXT_PATTERN)
            return
        super()._insert_field_validators(field, schema)
        if schema.get("type") != "string" or not isinstance(field, serializers.CharField):
            return
        if isinstance(field, TelegramUsernameField):
            # At most 32 characters once a leading "@" is dropped.
            first = r"[^@\x00]" if field.allow_blank else r"[^@\s\x00]"
            within = rf"@[^\x00]{{0,{field.MAX_LENGTH}}}|{first}[^\x00]{{0,{field.MAX_LENGTH - 1}}}"
            schema["pattern"] = rf"^(?:{within}){'?' if field.allow_blank else ''}$"
        elif isinstance(field, serializers.IPAddressField) and "format" not in schema:
            schema["anyOf"] = [{"format": "ipv4"}, {"format": "ipv6"}]
        elif not {"pattern", "format", "enum", "oneOf", "anyOf"} & schema.keys():
            # DRF's CharField refuses NUL anywhere and, when it trims, a value that is only whitespace.
            blank_refused = field.trim_whitespace and not field.allow_blank
            schema["pattern"] = NON_BLANK_TEXT_PATTERN if blank_refused else TEXT_PATTERN


class RequiredBodySchema(EnvelopeAutoSchema):
    """The operation's body is required though no one field of its schema says so (a PATCH's schema has every field
    optional; a one-of-two rule requires neither): without a body the answer is 400, as for {}. Core's and web's
    views that take such a body use it."""

    def _get_request_body(self, *args, **kwargs):
        body = super()._get_request_body(*args, **kwargs)
        if body:
            body["required"] = True
        return body


class ServiceAPIKeyScheme(OpenApiAuthenticationExtension):
    target_class = "apps.common.auth.ServiceAPIKeyAuthentication"
    name = "ServiceAPIKey"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "X-API-Key"}


# -- input rules the server enforces, stated in the schema (tests/fuzz holds the server to them)

TEXT_PATTERN = r"^[^\x00]*$"
NON_BLANK_TEXT_PATTERN = r"^[^\x00]*[^\s\x00][^\x00]*$"
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def decimal_at_most(limit: int) -> str:
    """A regular expression matching the decimal numbers 1..`limit`, written without leading zeros."""
    digits = str(limit)
    alternatives = [f"[1-9][0-9]{{0,{len(digits) - 2}}}"] if len(digits) > 1 else []
    for position, digit in enumerate(digits):
        lowest = 1 if position == 0 else 0
        if int(digit) > lowest:
            rest = len(digits) - position - 1
            alternatives.append(f"{digits[:position]}[{lowest}-{int(digit) - 1}][0-9]{{{rest}}}")
    alternatives.append(digits)
    return "|".join(alternatives)


# A core object id as the API spells it: a positive 64-bit integer on SQL stores, an ObjectId's 24 hex digits on
# MongoDB (apps/common/ids.py parse_pk; web refuses anything else with 400 invalid_id before calling core).
STORE_ID_PATTERN = rf"^(?:{decimal_at_most(INT64_MAX)}|[0-9a-f]{{24}})$"
_PATH_PARAMETERS = {
    "group_id": {"type": "string", "pattern": STORE_ID_PATTERN},
    "user_id": {"type": "string", "pattern": STORE_ID_PATTERN},
    "action_id": {"type": "string", "pattern": STORE_ID_PATTERN},
    "assignment_id": {"type": "string", "pattern": STORE_ID_PATTERN},
    "warning_id": {"type": "string", "pattern": STORE_ID_PATTERN},
    "ban_list_id": {"type": "string", "pattern": STORE_ID_PATTERN},
    "telegram_chat_id": {"type": "integer", "format": "int64", "minimum": INT64_MIN, "maximum": INT64_MAX},
    "jti": {"type": "string", "pattern": r"^[A-Za-z0-9_-]{1,64}$"},
    "family": {"type": "string", "pattern": r"^[A-Za-z0-9_-]{1,64}$"},  # a token family's id (its sid)
    "name": {"type": "string", "pattern": r"^[a-z][a-z0-9_-]{1,31}$"},  # a role's name (apps/rbac/models.py)
}


def exactly_one_of(*names: str) -> dict:
    return {"oneOf": [{"required": [name]} for name in names]}


def at_most_one_of(*names: str) -> dict:
    pairs = [[first, second] for index, first in enumerate(names) for second in names[index + 1:]]
    return {"not": {"anyOf": [{"required": pair} for pair in pairs]}}


def any_of(*names: str) -> dict:
    return {"anyOf": [{"required": [name]} for name in names]}


def implies(condition: dict, consequence: dict) -> dict:
    """A body that matches `condition` must also match `consequence`. An enum belongs under a "not" (as in
    `condition`): drf-spectacular's enum hook rewrites those it finds under anyOf/allOf/oneOf into components."""
    return {"anyOf": [{"not": condition}, consequence]}


def declare_input_rules(result: dict) -> dict:
    """What parse_body and the views enforce, stated: a body's unknown fields are refused (400 validation_error),
    path ids have their store's format, and an unknown ?format= is 404."""
    schemas = result.get("components", {}).get("schemas", {})
    # A nested object's unknown keys are ignored, not refused: a component also used inside another keeps its
    # openness there, and the body gets a strict copy of its own.
    nested = {name for name in schemas for other, schema in schemas.items()
              if other != name and f'"#/components/schemas/{name}"' in json.dumps(schema)}
    for item in result.get("paths", {}).values():
        for operation in item.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            for content in operation.get("requestBody", {}).get("content", {}).values():
                name = content.get("schema", {}).get("$ref", "").rsplit("/", 1)[-1]
                if name in nested:
                    schemas[f"{name}Body"] = copy.deepcopy(schemas[name])
                    name = f"{name}Body"
                    content["schema"]["$ref"] = f"#/components/schemas/{name}"
                body = schemas.get(name) if name else content.get("schema", {})
                if body is not None and body.get("type") == "object":
                    body["additionalProperties"] = False
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "path" and parameter.get("name") in _PATH_PARAMETERS:
                    parameter["schema"] = dict(_PATH_PARAMETERS[parameter["name"]])
                if parameter.get("in") == "query" and parameter.get("name") == "format":
                    operation["responses"].setdefault("404", {
                        "description": "An unknown ?format= (not_found)",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorEnvelope"}}},
                    })
    return result
