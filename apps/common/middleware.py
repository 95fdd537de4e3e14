import re
import time
import uuid

from django.conf import settings

from .context import bind_context, reset_context
from .envelope import error_response
from .metrics import API_REQUEST_DURATION

_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


class RequestContextMiddleware:
    """Takes X-Request-ID (or makes one), binds it for logs and audit, echoes it back, times the request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        token = bind_context(request_id=request_id, service="")
        started = time.perf_counter()
        try:
            response = self.get_response(request)
        finally:
            reset_context(token)
        match = getattr(request, "resolver_match", None)
        endpoint = match.route if match else "unmatched"
        API_REQUEST_DURATION.labels(endpoint=endpoint, method=request.method).observe(time.perf_counter() - started)
        response["X-Request-ID"] = request_id
        return response


class BodySizeLimitMiddleware:
    """Refuses bodies over MAX_REQUEST_BODY_BYTES before anything reads them (DRF streams past Django's own check)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return error_response("bad_request", "Content-Length is not a number", 400)
        if length > settings.MAX_REQUEST_BODY_BYTES:
            return error_response(
                "payload_too_large",
                f"Request body is {length} bytes; the limit is {settings.MAX_REQUEST_BODY_BYTES} bytes",
                413,
            )
        return self.get_response(request)
