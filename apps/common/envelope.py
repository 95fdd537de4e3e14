"""The one wire envelope: {"success": true, "data": ...} or {"success": false, "error", "message", "status_code"}."""

import json

from django.http import HttpResponse
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer


def success_body(data) -> dict:
    return {"success": True, "data": data}


def error_body(code: str, message: str, status_code: int, details=None) -> dict:
    """`code`: an `ErrorCode` (or a code core answered with, passed on), written as the plain string it is."""
    body = {"success": False, "error": str(code), "message": message, "status_code": status_code}
    if details is not None:
        body["details"] = details
    return body


def error_response(code: str, message: str, status_code: int, details=None) -> HttpResponse:
    """For code outside DRF (middleware, Django's 404/500 handlers)."""
    return HttpResponse(
        json.dumps(error_body(code, message, status_code, details)),
        status=status_code,
        content_type="application/json",
    )


class EnvelopeJSONRenderer(JSONRenderer):
    """Wraps successful responses; error bodies come already shaped from the exception handler."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        response = (renderer_context or {}).get("response")
        if response is not None and response.status_code < 400 and not getattr(response, "raw_body", False):
            data = success_body(data)
        return super().render(data, accepted_media_type, renderer_context)


class EnvelopeBrowsableAPIRenderer(BrowsableAPIRenderer):
    """The DRF browsable API, showing the same envelope the JSON clients get."""

    def get_default_renderer(self, view):
        return EnvelopeJSONRenderer()
