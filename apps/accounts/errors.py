from apps.common.errors import DomainError, ErrorCode


class InvalidCredentialsError(DomainError):
    """One answer for every failed login: unknown user, wrong password, no password, inactive."""

    code = ErrorCode.INVALID_CREDENTIALS
    default_message = "Invalid username or password"

