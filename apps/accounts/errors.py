from apps.common.errors import DomainError


class InvalidCredentialsError(DomainError):
    """One answer for every failed login: unknown user, wrong password, no password, inactive."""

    code = "invalid_credentials"
    status_code = 401
    default_message = "Invalid username or password"

