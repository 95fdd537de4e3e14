"""What the core client's retry policy costs per call, with timeit: tenacity around every call against the policy
as written (apps/coreclient/retry.py: the first attempt made directly, tenacity only after a retried failure),
beside a whole sync client call on an in-memory transport for scale. `python -m bench.retry_policy`."""

import asyncio
import logging
import os
import time
import timeit

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.bot")
os.environ.setdefault("APP_ENV", "development")

import django

django.setup()

import httpx  # noqa: E402
from tenacity import AsyncRetrying, Retrying  # noqa: E402

from apps.coreclient import CoreClient  # noqa: E402
from apps.coreclient.calls import Call  # noqa: E402
from apps.coreclient.retry import RetryPolicy  # noqa: E402

CALL = Call("check_permission", "POST", "/api/rbac/check-permission", retry=True)
POLICY = RetryPolicy(retries=1, backoff_seconds=0.05, budget_seconds=1.6)  # the bot's: one retry, 0.8 s timeouts
DECISION = b'{"success": true, "data": {"allowed": true, "reason": "granted_by_role:moderator"}}'


def answered():
    return {"allowed": True}


async def answered_async():
    return {"allowed": True}


def per_call_us(call, number: int) -> float:
    return min(timeit.repeat(call, number=number, repeat=7)) / number * 1e6


def per_await_us(make, number: int) -> float:
    async def rounds():
        best = float("inf")
        for _ in range(7):
            started = time.perf_counter()
            for _ in range(number):
                await make()
            best = min(best, time.perf_counter() - started)
        return best / number * 1e6

    return asyncio.run(rounds())


def main() -> None:
    logging.getLogger("httpx").setLevel(logging.WARNING)  # its INFO line per request is not the client's cost
    client = CoreClient("http://core", "key", transport=httpx.MockTransport(
        lambda request: httpx.Response(200, content=DECISION)))
    rows = [
        ("sync: the attempt alone", per_call_us(answered, 200_000)),
        ("sync: tenacity Retrying around every call",
         per_call_us(lambda: Retrying(**POLICY._arguments(0.0))(answered), 5_000)),
        ("sync: the policy (tenacity after a failure only)", per_call_us(lambda: POLICY.run(CALL, answered),
                                                                          200_000)),
        ("async: the attempt alone", per_await_us(answered_async, 50_000)),
        ("async: tenacity AsyncRetrying around every call",
         per_await_us(lambda: AsyncRetrying(**POLICY._arguments(0.0))(answered_async), 2_000)),
        ("async: the policy (tenacity after a failure only)",
         per_await_us(lambda: POLICY.run_async(CALL, answered_async), 50_000)),
        ("for scale: CoreClient.check_permission, in-memory transport",
         per_call_us(lambda: client.check_permission(permission="BAN_USERS", telegram_user_id=1), 2_000)),
    ]
    for label, micros in rows:
        print(f"{label:<62} {micros:8.2f} µs")


if __name__ == "__main__":
    main()
