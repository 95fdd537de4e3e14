"""Bot API errors as Telegram reports them: an HTTP status, a description and optional parameters.

The descriptions are the Bot API server's own texts (``Bad Request: ...``, ``Forbidden: ...``),
so a client sees exactly what it would see from api.telegram.org (PTB strips ``Bad Request: ``
and capitalises the rest when it raises ``BadRequest``).
"""

from __future__ import annotations

from typing import Any


class BotApiError(Exception):
    """A failed Bot API call: ``{"ok": false, "error_code": ..., "description": ...}``."""

    def __init__(self, error_code: int, description: str, parameters: dict[str, Any] | None = None):
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.parameters = parameters

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"ok": False, "error_code": self.error_code, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body

    def __repr__(self) -> str:
        return f"BotApiError({self.error_code}, {self.description!r})"


def bad_request(text: str, parameters: dict[str, Any] | None = None) -> BotApiError:
    return BotApiError(400, f"Bad Request: {text}", parameters)


def forbidden(text: str) -> BotApiError:
    return BotApiError(403, f"Forbidden: {text}")


def too_many_requests(retry_after: int) -> BotApiError:
    retry_after = max(1, int(retry_after))
    return BotApiError(429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after})


def unauthorized() -> BotApiError:
    return BotApiError(401, "Unauthorized")


def not_found() -> BotApiError:
    return BotApiError(404, "Not Found")


def conflict(text: str) -> BotApiError:
    return BotApiError(409, f"Conflict: {text}")


class SandboxError(Exception):
    """A refused control-API operation (bad reference, impossible action by a simulated user)."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.message = message
        self.status = status
