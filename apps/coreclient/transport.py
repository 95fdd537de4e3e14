"""What the sync and the async client share: configuration, headers, timeouts, the circuit breaker, the retry
policy, reading core's answer, and the metrics of each call."""

import asyncio
import contextlib
import logging
import os
import time

import httpx
from django.conf import settings

from apps.common.context import current_context
from apps.common.metrics import labelled
from apps.common.roles import BOT, WEB, require_role

from . import metrics
from .breaker import CircuitBreaker
from .calls import Call
from .errors import CoreError, CoreUnavailable
from .retry import RetryPolicy

logger = logging.getLogger(__name__)


def unwrap(response: httpx.Response):
    """The data of core's success envelope; its error envelope as `CoreError`; anything else `CoreUnavailable`."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and body.get("success") is True:
        return body.get("data")
    if isinstance(body, dict) and body.get("success") is False and response.status_code < 500:
        raise CoreError(body.get("error", "error"), body.get("message", ""), response.status_code, body.get("details"))
    raise CoreUnavailable(f"core answered {response.status_code}", outcome=metrics.BAD_RESPONSE)


def plain(response: httpx.Response) -> dict:
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        return body
    raise CoreUnavailable(f"core answered {response.status_code} without a JSON object", outcome=metrics.BAD_RESPONSE)


def _request_id() -> str:
    return current_context().request_id or os.urandom(16).hex()


def _outcome(error: BaseException | None) -> str:
    if error is None:
        return metrics.OK
    if isinstance(error, CoreError):
        return metrics.CLIENT_ERROR
    if isinstance(error, CoreUnavailable):
        return error.outcome
    if isinstance(error, asyncio.CancelledError):
        return metrics.CANCELLED
    return metrics.ERROR


class Transport:
    def __init__(self, base_url: str, api_key: str, *, timeout: float = 2.0, retries: int = 2,
                 backoff_seconds: float = 0.05, retry_budget_seconds: float | None = None,
                 breaker: CircuitBreaker | None = None):
        require_role(BOT, WEB, what="The core client")  # core never calls itself over HTTP
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.timeout = httpx.Timeout(timeout, connect=min(timeout, 1.0))
        budget = retry_budget_seconds if retry_budget_seconds is not None else timeout * (1 + retries)
        self.retry_policy = RetryPolicy(retries=retries, backoff_seconds=backoff_seconds, budget_seconds=budget)
        self.breaker = breaker or CircuitBreaker()
        self.service = settings.SERVICE_NAME if settings.configured else "unknown"

    def _headers(self, call: Call | None = None) -> dict:
        headers = {"X-API-Key": self.api_key, "X-Request-ID": _request_id(), "Accept": "application/json"}
        if call is not None and call.headers:
            headers.update(call.headers)
        return headers

    def _timeout(self, call: Call) -> httpx.Timeout:
        if call.min_read_timeout is None or call.min_read_timeout <= self.timeout.read:
            return self.timeout
        return httpx.Timeout(call.min_read_timeout, connect=self.timeout.connect)

    def _admit(self, call: Call) -> None:
        if not self.breaker.allow():
            raise CoreUnavailable(f"core is failing; circuit open ({call.method} {call.path} not sent)",
                                  outcome=metrics.BREAKER_OPEN)

    def _failed(self, call: Call, status_code: int | None, error: Exception | None) -> CoreUnavailable:
        """One attempt that got no usable answer (no connection, no answer in time, a 5xx): counted by the breaker,
        logged, and returned as the CoreUnavailable the retry policy reads."""
        self.breaker.record_failure()
        reason = f"{type(error).__name__}: {error}" if error is not None else f"HTTP {status_code}"
        logger.warning("core call failed", extra={"method": call.method, "path": call.path, "error": reason})
        if error is None:
            outcome = metrics.SERVER_ERROR
        elif isinstance(error, httpx.TimeoutException | TimeoutError):  # aiohttp's timeouts are TimeoutErrors
            outcome = metrics.TIMEOUT
        else:
            outcome = metrics.UNAVAILABLE
        return CoreUnavailable(f"{call.method} {call.path}: {reason}", outcome=outcome)

    def _settle(self, call: Call, response):
        """The answer of one attempt that reached core (an httpx.Response or anything with its names)."""
        if response.status_code >= 500:
            raise self._failed(call, response.status_code, None)
        self.breaker.record_success()
        data = unwrap(response) if call.enveloped else plain(response)
        return data if call.answer is None else call.answer(data)

    @contextlib.contextmanager
    def _observed(self, call: Call):
        """One observation of the call in the metrics, with its final outcome (retries included)."""
        started = time.perf_counter()
        try:
            yield
        except BaseException as exc:
            self._observe(call, started, exc)
            raise
        self._observe(call, started, None)

    def _observe(self, call: Call, started: float, error: BaseException | None) -> None:
        labelled(metrics.CORE_CLIENT_REQUESTS, self.service, call.endpoint, _outcome(error)).inc()
        labelled(metrics.CORE_CLIENT_DURATION, self.service, call.endpoint).observe(time.perf_counter() - started)
