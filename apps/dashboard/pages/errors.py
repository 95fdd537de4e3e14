"""What a page shows when something fails: core down (503 with a banner), a permission core refused (403 naming
it), a bad query (400 with the message), not found (404). Never a stack trace."""

import logging

from django.shortcuts import render
from rest_framework import serializers

from apps.common.errors import DomainError, PermissionDeniedError, _first_message
from apps.coreclient import CoreError, CoreUnavailable

logger = logging.getLogger(__name__)

CORE_UNAVAILABLE = "Core unavailable"
PAGE_ERRORS = (CoreUnavailable, CoreError, DomainError, serializers.ValidationError)


def describe(exc) -> tuple[int, str, str, dict]:
    """(status, title, message, details) for an error a page may meet."""
    if isinstance(exc, CoreUnavailable):
        logger.warning("core unavailable", extra={"error": str(exc)})
        return 503, CORE_UNAVAILABLE, "The core service is unavailable, so nothing can be shown or changed right " \
                                      "now. Try again shortly.", {}
    if isinstance(exc, CoreError):
        if exc.status_code == 401:
            logger.error("core refused web's API key (CORE_API_KEY)", extra={"error": exc.message})
            return 503, CORE_UNAVAILABLE, "The core service refused this web instance's credentials.", {}
        details = exc.details if isinstance(exc.details, dict) else {}
        return exc.status_code, _title(exc.status_code), exc.message, details
    if isinstance(exc, PermissionDeniedError):
        return 403, "Permission denied", exc.message, exc.details or {}
    if isinstance(exc, DomainError):
        return exc.status_code, _title(exc.status_code), exc.message, exc.details or {}
    if isinstance(exc, serializers.ValidationError):
        return 400, "Bad request", _first_message(exc.detail), {}
    raise TypeError(f"not a page error: {exc!r}")


def _title(status: int) -> str:
    return {400: "Bad request", 403: "Permission denied", 404: "Not found", 409: "Conflict",
            429: "Too many requests"}.get(status, "Error")


def error_page(request, exc):
    status, title, message, details = describe(exc)
    response = render(request, "dashboard/error.html", {
        "title": title, "message": message, "status": status, "permission": details.get("permission"),
        "core_down": title == CORE_UNAVAILABLE, "user": getattr(request, "dashboard_user", None),
    }, status=status)
    if status == 503:
        response["Retry-After"] = "5"
    return response
