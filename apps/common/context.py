"""Per-request context (request id, calling service) for logs and audit events.

Set by the request middleware and the API-key authentication; read wherever an event is recorded,
so services need not thread it through every call.
"""

from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestContext:
    request_id: str = ""
    service: str = ""


_EMPTY = RequestContext()
_current: ContextVar[RequestContext] = ContextVar("request_context", default=_EMPTY)


def current_context() -> RequestContext:
    return _current.get()


def bind_context(*, request_id: str | None = None, service: str | None = None) -> object:
    """Update the current context; returns a token for `reset_context`. (Called on every request: built by hand,
    as `dataclasses.replace` walks the fields each time.)"""
    current = _current.get()
    return _current.set(RequestContext(
        current.request_id if request_id is None else request_id,
        current.service if service is None else service,
    ))


def reset_context(token) -> None:
    _current.reset(token)
