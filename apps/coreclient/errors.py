class CoreUnavailable(Exception):
    """Core could not be reached, timed out, answered 5xx, or the circuit breaker is open.

    `outcome` says which, in the words of the `core_client_requests_total` metric."""

    def __init__(self, message: str = "", *, outcome: str = "unavailable"):
        super().__init__(message)
        self.outcome = outcome


class CoreError(Exception):
    """Core answered with an error envelope: `code` is its stable machine code (permission_denied, not_found...)."""

    def __init__(self, code: str, message: str, status_code: int, details=None):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status_code = status_code
        self.details = details
