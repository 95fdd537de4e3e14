"""Per-request context (request id, calling service) for logs and audit events.

Set by the request middleware and the API-key authentication; read wherever an event is recorded,
so services need not thread it through every call.
"""

from contextvars import ContextVar
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class RequestContext:
    request_id: str = ""
    service: str = ""


_EMPTY = RequestContext()
_current: ContextVar[RequestContext] = ContextVar("request_context", default=_EMPTY)


def current_context() -> RequestContext:
    return _current.get()


def bind_context(**changes) -> object:
    """Update the current context; returns a token for `reset_context`."""
    return _current.set(replace(_current.get(), **changes))


def reset_context(token) -> None:
    _current.reset(token)
