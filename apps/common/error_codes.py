"""The catalogue of error codes: the `error` of every error envelope any role answers, and what each means.

Imports nothing, so the core client and the bot (and the benchmarks, with no settings) can match codes too.
Clients match these codes, never message texts; the OpenAPI schemas of core and web list them.
"""

from enum import StrEnum


class ErrorCode(StrEnum):
    # Each member: its wire value, the HTTP status it is answered with, and a short description (the OpenAPI
    # schemas show it).
    status: int
    description: str

    def __new__(cls, value: str, status: int, description: str):
        member = str.__new__(cls, value)
        member._value_ = value
        member.status = status
        member.description = description
        return member

    VALIDATION_ERROR = "validation_error", 400, "The input is invalid; details name the fields"
    MALFORMED_REQUEST = "malformed_request", 400, "The body is not valid JSON"
    BAD_REQUEST = "bad_request", 400, "The request could not be understood (e.g. a Content-Length that is not a number)"
    INVALID_ID = "invalid_id", 400, "An id that cannot be one of its kind (an object id, a Telegram id, a role name...)"
    UNKNOWN_PERMISSION = "unknown_permission", 400, "A permission code that is not in the catalogue"
    UNKNOWN_GROUP = "unknown_group", 400, "Events name a group core does not know; details.events lists them by index"
    NOT_A_MEMBER = "not_a_member", 400, "The target is not a member of the group"
    UNAUTHENTICATED = "unauthenticated", 401, "Missing or unknown credentials (X-API-Key, or a bearer token on web)"
    INVALID_CREDENTIALS = "invalid_credentials", 401, "Wrong username or password"
    INVALID_TOKEN = "invalid_token", 401, "A token that is malformed, tampered with or meant for another audience"
    TOKEN_EXPIRED = "token_expired", 401, "The token has expired"
    TOKEN_REVOKED = "token_revoked", 401, "The token has been revoked (logged out, or already used to refresh)"
    PERMISSION_DENIED = "permission_denied", 403, "The user does not hold the permission; details may say why"
    RANK_VIOLATION = "rank_violation", 403, "The actor does not outrank the target (or the role) in that scope"
    SERVICE_FORBIDDEN = "service_forbidden", 403, "The calling service's key does not reach this endpoint"
    EXEMPT_MEMBER = "exempt_member", 403, ("The member is exempt from automated protection (a Telegram admin, or "
                                           "approved); details.reason says which")
    NOT_YOUR_CHALLENGE = "not_your_challenge", 403, "Only the member a join challenge was set for may answer it"
    NOT_FOUND = "not_found", 404, "No such object, or no such endpoint"
    UNKNOWN_TARGET = "unknown_target", 404, "No Telegram account core knows goes by that @username"
    METHOD_NOT_ALLOWED = "method_not_allowed", 405, "The endpoint does not answer this HTTP method"
    NOT_ACCEPTABLE = "not_acceptable", 406, "No response format matches the Accept header"
    CONFLICT = "conflict", 409, "The request conflicts with the current state"
    LAST_OWNER = "last_owner", 409, "The change would leave the platform without an active global owner"
    PAYLOAD_TOO_LARGE = "payload_too_large", 413, "The body is over the size limit"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type", 415, "The body is not sent as application/json"
    RATE_LIMITED = "rate_limited", 429, "Too many requests or failed logins; Retry-After says when to try again"
    INTERNAL_ERROR = "internal_error", 500, "An unexpected error (logged)"
    SERVICE_UNAVAILABLE = "service_unavailable", 503, "The service is starting or cannot store the request yet"
    CORE_UNAVAILABLE = "core_unavailable", 503, "Web or the bot cannot reach core; try again shortly"
    SIGNING_UNAVAILABLE = "signing_unavailable", 503, "This web instance verifies tokens but holds no key to issue them"
    # Any other refusal of the framework's with no code of its own (answered with that refusal's status).
    ERROR = "error", 400, "The request could not be completed"


# (code, description) pairs: the error envelope's enum in the OpenAPI schemas (drf-spectacular names it ErrorCode).
ERROR_CODE_CHOICES = [(code.value, code.description) for code in ErrorCode]
