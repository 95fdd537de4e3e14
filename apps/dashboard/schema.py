"""OpenAPI shapes of what web answers: core's objects as they pass through, web's list envelope, its errors."""

from functools import cache

from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers

from apps.common.schema import STORE_ID_PATTERN, ErrorEnvelopeSerializer, component_name, declare_input_rules
from apps.common.shapes import GroupStatsSerializer, SystemStatsSerializer


class StatsSerializer(serializers.Serializer):
    overview = SystemStatsSerializer(required=False, help_text="Without group_id: core's platform-wide numbers")
    group = GroupStatsSerializer(required=False, help_text="With group_id: the group's series and totals")


@cache
def web_list(serializer) -> serializers.Serializer:
    """Web's list shape: {"success": true, "data": [...], "total": N, "page": p, "limit": l}."""
    return inline_serializer(f"{component_name(serializer)}WebList", {
        "success": serializers.BooleanField(default=True),
        "data": serializer(many=True),
        "total": serializers.IntegerField(),
        "page": serializers.IntegerField(),
        "limit": serializers.IntegerField(),
    })


@cache
def cursor_list(serializer) -> serializers.Serializer:
    """The audit trail's list: newest first, paged by cursor (no total: the trail only grows)."""
    return inline_serializer(f"{component_name(serializer)}CursorList", {
        "success": serializers.BooleanField(default=True),
        "data": serializer(many=True),
        "limit": serializers.IntegerField(),
        "next_cursor": serializers.CharField(allow_null=True, help_text="Pass as ?cursor= for the next page"),
    })


_WEB_ERRORS = {
    400: "Invalid input: an unknown query parameter, sort field or body field, a wrong type (validation_error); "
         "an id that cannot be one, refused before core is asked (invalid_id); or core's own refusal of a value",
    401: "Missing, malformed, tampered, wrongly signed, wrong-audience or expired token (unauthenticated, "
         "invalid_token, token_expired, token_revoked)",
    403: "The token user lacks the permission in core (permission_denied, naming it), or core's rank rule refused "
         "the change (rank_violation, with core's message)",
    404: "Unknown id (not_found)",
    409: "Conflicts with the current state (conflict)",
    413: "Body over 1 MiB (payload_too_large)",
    415: "Body not sent as application/json (unsupported_media_type)",
    429: "Too many failed logins for the account or the address (rate_limited, with Retry-After)",
    503: "Core is unreachable or failing (core_unavailable), answered within 2 s",
}


def web_errors(*codes: int) -> dict:
    return {code: OpenApiResponse(ErrorEnvelopeSerializer, description=_WEB_ERRORS[code]) for code in sorted(codes)}


def document_web_errors(result, generator, request, public):
    """Postprocessing hook: the errors every operation of web can answer (its own, and core being down)."""
    error = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorEnvelope"}}}}
    for path, item in result.get("paths", {}).items():
        for operation in item.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            if path.endswith(("/health", "/schema", "/docs")):
                continue
            codes = [400, 503]
            if operation.get("security"):
                codes += [401, 403]
            if "requestBody" in operation:
                codes += [413, 415]
            for code in codes:
                operation["responses"].setdefault(str(code), {"description": _WEB_ERRORS[code], **error})
    return _declare_store_ids(declare_input_rules(result))


# Ids web passes on to core in a query or a body: refused as 400 invalid_id unless they have the store's format
# (apps/coreclient/ids.py), like the ids in its paths. The audit trail's actor filter is passed on as text (core
# matches it against the trail: no match, no rows).
_STORE_ID_FIELDS = {"group_id", "user_id", "actor_user_id", "target_user_id", "source_id"}
_FILTERED_AS_TEXT = {("/api/audit", "actor_user_id"), ("/api/audit.csv", "actor_user_id")}


def _declare_store_ids(result: dict) -> dict:
    schemas = result.get("components", {}).get("schemas", {})
    for path, item in result.get("paths", {}).items():
        for operation in item.values():
            if not isinstance(operation, dict):
                continue
            for parameter in operation.get("parameters", []):
                name = parameter.get("name")
                checked = name in _STORE_ID_FIELDS and (path, name) not in _FILTERED_AS_TEXT
                if parameter.get("in") == "query" and checked:
                    parameter["schema"] = {"type": "string", "pattern": STORE_ID_PATTERN}
            for content in operation.get("requestBody", {}).get("content", {}).values():
                body = schemas.get(content.get("schema", {}).get("$ref", "").rsplit("/", 1)[-1], {})
                for name, field in body.get("properties", {}).items():
                    if name in _STORE_ID_FIELDS:
                        field.pop("minLength", None)
                        field["pattern"] = STORE_ID_PATTERN
    return result
