"""The one retry policy of calls to core, declared here (tenacity) and used by the sync and the async client.

- Retried: core unreachable, no answer in time, or a 5xx: a `CoreUnavailable` whose outcome says so. Never an error
  envelope (4xx: core decided), an answer that is not the envelope, or an open circuit breaker.
- Only calls marked `retry` (reads, checks, and writes core de-duplicates); any other call is sent once.
- Jittered exponential backoff from `backoff_seconds`, at most `MAX_WAIT_SECONDS` per wait.
- Bounded: at most 1 + `retries` attempts, and no retry starts once `budget_seconds` have gone by since the first
  (by default the time all the attempts' read timeouts would take), so a call never takes much longer than its
  budget plus one timeout.
"""

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


@dataclass(frozen=True)
class RetryPolicy:
    retries: int
    backoff_seconds: float
    budget_seconds: float

    def _arguments(self, call: Call) -> dict:
        attempts = 1 + (self.retries if call.retry else 0)
        return {
            "stop": stop_after_attempt(attempts) | stop_before_delay(self.budget_seconds),
            "wait": wait_exponential_jitter(multiplier=self.backoff_seconds, jitter=self.backoff_seconds,
                                            max=MAX_WAIT_SECONDS),
            "retry": retry_if_exception(worth_retrying),
            "reraise": True,  # the last attempt's own CoreUnavailable, not tenacity's RetryError
        }

    def run(self, call: Call, attempt, /, *arguments):
        """`attempt(*arguments)` under the policy for `call`; its answer, or its last error."""
        return Retrying(**self._arguments(call))(attempt, *arguments)

    async def run_async(self, call: Call, attempt, /, *arguments):
        """`await attempt(*arguments)` under the policy for `call`."""
        return await AsyncRetrying(**self._arguments(call))(attempt, *arguments)
