"""OpenAPI shapes of the envelope, so the schema documents exactly what goes over the wire."""

from functools import cache

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers


class ErrorEnvelopeSerializer(serializers.Serializer):
    success = serializers.BooleanField(default=False)
    error = serializers.CharField(help_text="Stable machine-readable code, e.g. permission_denied")
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
    return result


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


class ServiceAPIKeyScheme(OpenApiAuthenticationExtension):
    target_class = "apps.common.auth.ServiceAPIKeyAuthentication"
    name = "ServiceAPIKey"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "X-API-Key"}
