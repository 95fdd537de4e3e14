import logging
import os
import re
import time

from django.conf import settings

from .context import bind_context, current_context, reset_context
from .envelope import error_response
from .error_codes import ErrorCode
from .metrics import API_REQUEST_DURATION, API_REQUESTS, labelled

_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
request_logger = logging.getLogger("apps.request")
# Probes and scrapers call these every few seconds, and web asks core whether a dashboard session was revoked on
# every page and at least every JWT_FAMILY_CHECK_SECONDS: their lines would drown the rest at INFO.
_QUIET_ROUTES = {"api/health", "metrics", "api/auth/revoked-families/<str:family>", "api/auth/revoked-tokens/<str:jti>"}


class RequestContextMiddleware:
    """Takes X-Request-ID (or makes one), binds it for logs and audit, echoes it back, times the request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.META.get("HTTP_X_REQUEST_ID", "")
        # A generated id: 32 hex digits of randomness, as uuid4().hex spelled it, without building a UUID.
        request_id = incoming if incoming and _VALID_REQUEST_ID.match(incoming) else os.urandom(16).hex()
        request.request_id = request_id
        token = bind_context(request_id=request_id, service="")
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            elapsed = time.perf_counter() - started
            match = getattr(request, "resolver_match", None)
            endpoint = match.route if match else "unmatched"
            self._log(request, response, endpoint, elapsed)
        finally:
            reset_context(token)
        method = request.method
        labelled(API_REQUEST_DURATION, endpoint, method).observe(elapsed)
        labelled(API_REQUESTS, endpoint, method, str(response.status_code)).inc()
        response["X-Request-ID"] = request_id
        return response

    @staticmethod
    def _log(request, response, endpoint: str, elapsed: float) -> None:
        """One line per request, inside the request's context (its request id; the calling service's name). The
        record is made and handed to the logger's handlers directly: `Logger.log` would first walk the stack to
        find the calling line, which no line of this logger shows."""
        level = logging.DEBUG if endpoint in _QUIET_ROUTES else logging.INFO
        if request_logger.isEnabledFor(level):
            request_logger.handle(request_logger.makeRecord(
                request_logger.name, level, __file__, 0, "request", (), None, func="RequestContextMiddleware",
                extra={
                    "method": request.method, "path": request.path, "endpoint": endpoint,
                    "status": response.status_code, "duration_ms": round(elapsed * 1000, 2),
                    "caller": current_context().service or None,
                }))


class BodySizeLimitMiddleware:
    """Refuses bodies over MAX_REQUEST_BODY_BYTES before anything reads them (DRF streams past Django's own check)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return error_response(ErrorCode.BAD_REQUEST, "Content-Length is not a number", 400)
        if length > settings.MAX_REQUEST_BODY_BYTES and length > (limit := _route_body_limit(request)):
            return error_response(
                ErrorCode.PAYLOAD_TOO_LARGE,
                f"Request body is {length} bytes; the limit is {limit} bytes",
                413,
            )
        return self.get_response(request)


def _route_body_limit(request) -> int:
    """The limit of the view the path leads to: a view may declare a larger one (`max_request_body_bytes`: a ban
    list's import); asked only of bodies over the platform's limit."""
    from django.urls import Resolver404, resolve

    try:
        view = resolve(request.path_info).func
    except Resolver404:
        return settings.MAX_REQUEST_BODY_BYTES
    declared = getattr(getattr(view, "view_class", None), "max_request_body_bytes", None)
    return max(declared or 0, settings.MAX_REQUEST_BODY_BYTES)
