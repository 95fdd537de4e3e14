"""The catalogue of error codes: the `error` of every error envelope any role answers, and what each means.

Imports nothing, so the core client and the bot (and the benchmarks, with no settings) can match codes too.
Clients match these codes, never message texts; the OpenAPI schemas of core and web list them.
"""

from enum import StrEnum


class ErrorCode(StrEnum):
    # Each member: its wire value, and a short description (the OpenAPI schemas show it).
    description: str

    def __new__(cls, value: str, description: str):
        member = str.__new__(cls, value)
        member._value_ = value
        member.description = description
        return member

    # 400
    VALIDATION_ERROR = "validation_error", "The input is invalid; details name the fields"
    MALFORMED_REQUEST = "malformed_request", "The body is not valid JSON"
    BAD_REQUEST = "bad_request", "The request could not be understood (e.g. a Content-Length that is not a number)"
    INVALID_ID = "invalid_id", "An id that cannot be one of its kind (an object id, a Telegram id, a role name...)"
    UNKNOWN_PERMISSION = "unknown_permission", "A permission code that is not in the catalogue"
    UNKNOWN_GROUP = "unknown_group", "Events name a group core does not know; details.events lists them by index"
    NOT_A_MEMBER = "not_a_member", "The target is not a member of the group"
    # 401
    UNAUTHENTICATED = "unauthenticated", "Missing or unknown credentials (X-API-Key, or a bearer token on web)"
    INVALID_CREDENTIALS = "invalid_credentials", "Wrong username or password"
    INVALID_TOKEN = "invalid_token", "A token that is malformed, tampered with or meant for another audience"
    TOKEN_EXPIRED = "token_expired", "The token has expired"
    TOKEN_REVOKED = "token_revoked", "The token has been revoked (logged out, or already used to refresh)"
    # 403
    PERMISSION_DENIED = "permission_denied", "The user does not hold the permission; details may say why"
    RANK_VIOLATION = "rank_violation", "The actor does not outrank the target (or the role) in that scope"
    SERVICE_FORBIDDEN = "service_forbidden", "The calling service's key does not reach this endpoint"
    # 404
    NOT_FOUND = "not_found", "No such object, or no such endpoint"
    UNKNOWN_TARGET = "unknown_target", "No Telegram account core knows goes by that @username"
    # 405, 406
    METHOD_NOT_ALLOWED = "method_not_allowed", "The endpoint does not answer this HTTP method"
    NOT_ACCEPTABLE = "not_acceptable", "No response format matches the Accept header"
    # 409
    CONFLICT = "conflict", "The request conflicts with the current state"
    LAST_OWNER = "last_owner", "The change would leave the platform without an active global owner"
    # 413, 415, 429
    PAYLOAD_TOO_LARGE = "payload_too_large", "The body is over the size limit"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type", "The body is not sent as application/json"
    RATE_LIMITED = "rate_limited", "Too many requests or failed logins; Retry-After says when to try again"
    # 5xx
    INTERNAL_ERROR = "internal_error", "An unexpected error (logged)"
    SERVICE_UNAVAILABLE = "service_unavailable", "The service is starting or cannot store the request yet"
    CORE_UNAVAILABLE = "core_unavailable", "Web or the bot cannot reach core; try again shortly"
    SIGNING_UNAVAILABLE = "signing_unavailable", "This web instance verifies tokens but holds no key to issue them"
    # Any other refusal of the framework's with no code of its own.
    ERROR = "error", "The request could not be completed"


# (code, description) pairs: the error envelope's enum in the OpenAPI schemas (drf-spectacular names it ErrorCode).
ERROR_CODE_CHOICES = [(code.value, code.description) for code in ErrorCode]
