"""Domain errors carry a stable machine code (`ErrorCode`); one handler maps every error to the envelope."""

import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from rest_framework import exceptions as drf
from rest_framework.response import Response

from .envelope import error_body, error_response
from .error_codes import ErrorCode

logger = logging.getLogger(__name__)


class DomainError(Exception):
    """A refusal with its code from the one catalogue (`ErrorCode`): each subclass names its own, and is answered
    with that code's HTTP status (`status_code`, taken from the catalogue, never declared twice)."""

    code: ErrorCode = ErrorCode.ERROR
    status_code = ErrorCode.ERROR.status
    default_message = "The request could not be completed"

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "status_code" in cls.__dict__:
            raise TypeError(f"{cls.__name__}: the status is its code's ({cls.code.value}: {cls.code.status})")
        cls.status_code = cls.code.status

    def __init__(self, message: str | None = None, *, details=None):
        self.message = message or self.default_message
        self.details = details
        super().__init__(self.message)


class ValidationFailed(DomainError):
    code = ErrorCode.VALIDATION_ERROR
    default_message = "The request is invalid"


class InvalidIdError(DomainError):
    """An id in a URL that cannot be one of its type (an object id, a Telegram id, a role name, a token id)."""

    code = ErrorCode.INVALID_ID
    default_message = "The id in the URL is not a valid id"


class NotFoundError(DomainError):
    code = ErrorCode.NOT_FOUND
    default_message = "Not found"


class ConflictError(DomainError):
    code = ErrorCode.CONFLICT
    default_message = "The request conflicts with the current state"


class LastOwnerError(ConflictError):
    """The change would leave the platform without an active global owner: no one could grant roles again."""

    code = ErrorCode.LAST_OWNER
    default_message = ("This is the last active global owner: grant the owner role globally to another active user "
                       "first")


class PermissionDeniedError(DomainError):
    code = ErrorCode.PERMISSION_DENIED
    default_message = "User does not have permission for this action"


class ServiceForbiddenError(DomainError):
    """The calling service's key does not reach this endpoint (apps/common/service_scopes.py)."""

    code = ErrorCode.SERVICE_FORBIDDEN
    default_message = "This service may not call this endpoint"


class LoginRateLimited(DomainError):
    """Too many failed logins for the account or the client address: refused without checking the password
    (core's credential check and logins, and web's login, which passes core's refusal on)."""

    code = ErrorCode.RATE_LIMITED

    def __init__(self, *, scope: str, retry_after: int):
        what = "this account" if scope == "account" else "this address"
        super().__init__(f"Too many failed logins for {what}; try again in {retry_after} seconds",
                         details={"scope": scope, "retry_after": retry_after})
        self.retry_after = retry_after
        self.headers = {"Retry-After": str(retry_after)}


_DRF_CODES = {
    drf.ParseError: ErrorCode.MALFORMED_REQUEST,
    drf.NotAuthenticated: ErrorCode.UNAUTHENTICATED,
    drf.AuthenticationFailed: ErrorCode.UNAUTHENTICATED,
    drf.PermissionDenied: ErrorCode.PERMISSION_DENIED,
    drf.NotFound: ErrorCode.NOT_FOUND,
    drf.MethodNotAllowed: ErrorCode.METHOD_NOT_ALLOWED,
    drf.NotAcceptable: ErrorCode.NOT_ACCEPTABLE,
    drf.UnsupportedMediaType: ErrorCode.UNSUPPORTED_MEDIA_TYPE,
    drf.Throttled: ErrorCode.RATE_LIMITED,
}


def _first_message(detail) -> str:
    if isinstance(detail, dict):
        for field, value in detail.items():
            inner = _first_message(value)
            return inner if field == "non_field_errors" else f"{field}: {inner}"
    if isinstance(detail, list) and detail:
        return _first_message(detail[0])
    return str(detail)


def envelope_exception_handler(exc, context):
    headers = {}
    if isinstance(exc, DomainError):
        body = error_body(exc.code, exc.message, exc.status_code, exc.details)
        return Response(body, status=exc.status_code, headers=getattr(exc, "headers", None))
    if isinstance(exc, Http404):
        exc = drf.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = drf.PermissionDenied()
    if isinstance(exc, drf.ValidationError):
        body = error_body(ErrorCode.VALIDATION_ERROR, _first_message(exc.detail), 400, exc.detail)
        return Response(body, status=400)
    if isinstance(exc, drf.APIException):
        code = next((code for cls, code in _DRF_CODES.items() if isinstance(exc, cls)), None)
        code, status = (code, code.status) if code else (ErrorCode.ERROR, exc.status_code)
        if isinstance(exc, drf.ParseError):
            message = f"Malformed JSON body: {exc.detail}"
        elif isinstance(exc, drf.NotAuthenticated):
            message = "A valid X-API-Key header is required"
        else:
            message = str(exc.detail)
        if getattr(exc, "wait", None):
            headers["Retry-After"] = str(int(exc.wait))
        return Response(error_body(code, message, status), status=status, headers=headers)
    logger.exception("unhandled error", extra={"path": context["request"].path if context.get("request") else None})
    return Response(error_body(ErrorCode.INTERNAL_ERROR, "An unexpected error occurred", 500), status=500)


def json_not_found(request, exception=None):
    return error_response(ErrorCode.NOT_FOUND, f"No endpoint at {request.path}", 404)


def json_server_error(request):
    return error_response(ErrorCode.INTERNAL_ERROR, "An unexpected error occurred", 500)


def json_bad_request(request, exception=None):
    return error_response(ErrorCode.BAD_REQUEST, "The request could not be understood", 400)


def json_forbidden(request, exception=None):
    return error_response(ErrorCode.PERMISSION_DENIED, "Forbidden", 403)
