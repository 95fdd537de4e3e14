from apps.common.errors import DomainError


class InvalidCredentialsError(DomainError):
    """One answer for every failed login: unknown user, wrong password, no password, inactive."""

    code = "invalid_credentials"
    status_code = 401
    default_message = "Invalid username or password"


class LoginRateLimited(DomainError):
    """Too many failed logins for the account or the client address: refused without checking the password."""

    code = "rate_limited"
    status_code = 429

    def __init__(self, *, scope: str, retry_after: int):
        what = "this account" if scope == "account" else "this address"
        super().__init__(f"Too many failed logins for {what}; try again in {retry_after} seconds",
                         details={"scope": scope, "retry_after": retry_after})
        self.retry_after = retry_after
        self.headers = {"Retry-After": str(retry_after)}
