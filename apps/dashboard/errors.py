"""The web role's errors, and its exception handler: core's answers surfaced in the same envelope."""

import logging

from rest_framework import exceptions as drf
from rest_framework.response import Response

from apps.common.envelope import error_body
from apps.common.errors import DomainError, ErrorCode, envelope_exception_handler
from apps.coreclient import CoreError, CoreUnavailable

logger = logging.getLogger(__name__)

BEARER_CHALLENGE = 'Bearer realm="dashboard"'


class TokenRejected(DomainError):
    """A bearer or refresh token that cannot be used. 401, whatever was wrong with it."""

    code = ErrorCode.INVALID_TOKEN
    default_message = "The token is malformed, tampered with, signed by another key or meant for another audience"


class TokenExpired(TokenRejected):
    code = ErrorCode.TOKEN_EXPIRED
    default_message = "The token has expired"


class TokenRevoked(TokenRejected):
    code = ErrorCode.TOKEN_REVOKED
    default_message = "The token has been revoked (logged out, or already used to refresh)"


class InvalidCredentials(DomainError):
    code = ErrorCode.INVALID_CREDENTIALS
    default_message = "Invalid username or password"


class SigningUnavailable(DomainError):
    code = ErrorCode.SIGNING_UNAVAILABLE
    default_message = "This web instance verifies tokens but holds no private key to issue them"


class CoreUnavailableError(DomainError):
    code = ErrorCode.CORE_UNAVAILABLE
    default_message = "The core service is unavailable; try again shortly"


def dashboard_exception_handler(exc, context):
    if isinstance(exc, CoreUnavailable):
        logger.warning("core unavailable", extra={"error": str(exc)})
        response = Response(error_body(CoreUnavailableError.code, CoreUnavailableError.default_message, 503),
                            status=503, headers={"Retry-After": "5"})
    elif isinstance(exc, CoreError):
        response = _core_error(exc)
    elif isinstance(exc, drf.NotAuthenticated):
        response = Response(error_body(ErrorCode.UNAUTHENTICATED, "An 'Authorization: Bearer <access token>' header is "
                                       "required (POST /api/auth/login gives one)", 401), status=401)
    else:
        response = envelope_exception_handler(exc, context)
    if response is not None and response.status_code == 401:
        response["WWW-Authenticate"] = BEARER_CHALLENGE
    return response


def _core_error(exc: CoreError) -> Response:
    if exc.status_code == 401:
        # Core refused web's own API key: a deployment error, not the browser's fault.
        logger.error("core refused web's API key (CORE_API_KEY)", extra={"error": exc.message})
        return Response(error_body(CoreUnavailableError.code, "The core service refused this web instance's "
                                   "credentials", 503), status=503)
    # Core's verdicts (rank_violation, not_found, validation_error, conflict...) reach the browser as they are.
    return Response(error_body(exc.code, exc.message, exc.status_code, exc.details), status=exc.status_code)
