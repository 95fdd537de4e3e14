"""The one retry policy of calls to core, declared here (tenacity) and used by the sync and the async client.

- Retried: core unreachable, no answer in time, or a 5xx: a `CoreUnavailable` whose outcome says so. Never an error
  envelope (4xx: core decided), an answer that is not the envelope, or an open circuit breaker.
- Only calls marked `retry` (reads, checks, and writes core de-duplicates); any other call is sent once.
- Jittered exponential backoff from `backoff_seconds`, at most `MAX_WAIT_SECONDS` per wait.
- Bounded: at most 1 + `retries` attempts, and no retry starts once `budget_seconds` have gone by since the first
  (by default the time all the attempts' read timeouts would take), so a call never takes much longer than its
  budget plus one timeout.
"""

import time
from dataclasses import dataclass

from tenacity import (
    AsyncRetrying,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    stop_before_delay,
    wait_exponential_jitter,
)

from . import metrics
from .calls import Call
from .errors import CoreUnavailable

RETRIED_OUTCOMES = frozenset({metrics.SERVER_ERROR, metrics.TIMEOUT, metrics.UNAVAILABLE})
MAX_WAIT_SECONDS = 1.0


def worth_retrying(error: BaseException) -> bool:
    return isinstance(error, CoreUnavailable) and error.outcome in RETRIED_OUTCOMES


def _replaying(failure: BaseException, attempt):
    """`attempt`, whose first call already happened and failed with `failure`: tenacity's first try raises it
    again (nothing is sent), so tenacity alone decides, waits and counts from there."""
    pending = [failure]

    def replay_then_attempt(*arguments):
        if pending:
            raise pending.pop()
        return attempt(*arguments)

    return replay_then_attempt


def _replaying_async(failure: BaseException, attempt):
    pending = [failure]

    async def replay_then_attempt(*arguments):
        if pending:
            raise pending.pop()
        return await attempt(*arguments)

    return replay_then_attempt


@dataclass(frozen=True)
class RetryPolicy:
    """The first attempt is made directly: tenacity costs about 50-130 us per call on this project's 2-CPU machine
    (docs/benchmarks.md), more than the bot's whole permission check, so it only takes over once an attempt failed
    in a way this policy retries."""

    retries: int
    backoff_seconds: float
    budget_seconds: float

    def _arguments(self, spent: float) -> dict:
        return {
            "stop": stop_after_attempt(1 + self.retries) | stop_before_delay(self.budget_seconds - spent),
            "wait": wait_exponential_jitter(multiplier=self.backoff_seconds, jitter=self.backoff_seconds,
                                            max=MAX_WAIT_SECONDS),
            "retry": retry_if_exception(worth_retrying),
            "reraise": True,  # the last attempt's own CoreUnavailable, not tenacity's RetryError
        }

    def _retried(self, call: Call, error: BaseException) -> bool:
        return call.retry and self.retries > 0 and worth_retrying(error)

    def run(self, call: Call, attempt, /, *arguments):
        """`attempt(*arguments)` under the policy for `call`: its answer, or its last error."""
        started = time.monotonic()
        try:
            return attempt(*arguments)
        except Exception as error:
            if not self._retried(call, error):
                raise
            failure = error
        retrying = Retrying(**self._arguments(time.monotonic() - started))
        return retrying(_replaying(failure, attempt), *arguments)

    async def run_async(self, call: Call, attempt, /, *arguments):
        """`await attempt(*arguments)` under the policy for `call`."""
        started = time.monotonic()
        try:
            return await attempt(*arguments)
        except Exception as error:
            if not self._retried(call, error):
                raise
            failure = error
        retrying = AsyncRetrying(**self._arguments(time.monotonic() - started))
        return await retrying(_replaying_async(failure, attempt), *arguments)
