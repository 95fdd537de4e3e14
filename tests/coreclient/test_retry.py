"""The one retry policy (apps/coreclient/retry.py), the same for the sync and the async client: what is retried,
only for calls safe to repeat, and within a bounded time."""

import asyncio
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from apps.coreclient import AsyncCoreClient, CoreClient, CoreError, CoreUnavailable

API_KEY = "bot-key"
HEALTHY = {"status": "healthy", "service": "centralized-api"}


class Script:
    """What a stand-in core answers, request by request: (status, body) pairs; the last one repeats."""

    def __init__(self, *answers):
        self.answers, self.paths = list(answers), []

    def next(self, path: str):
        self.paths.append(path)
        return self.answers[min(len(self.paths), len(self.answers)) - 1]


def mock(script: Script) -> httpx.MockTransport:
    def handle(request):
        status, body = script.next(request.url.path)
        if isinstance(body, Exception):
            raise body
        return httpx.Response(status, content=body if isinstance(body, bytes) else json.dumps(body).encode())
    return httpx.MockTransport(handle)


ENVELOPE_403 = {"success": False, "error": "permission_denied", "message": "no", "status_code": 403}
USER = {"success": True, "data": {"id": "1", "username": "alice"}}


@pytest.mark.parametrize(("answers", "sent", "outcome"), [
    ([(503, {"success": False}), (200, USER)], 2, None),  # a 5xx is retried
    ([(500, b"boom")], 3, "server_error"),  # until the attempts run out
    ([(200, b"<html>not core</html>")], 1, "bad_response"),  # not the envelope: core answered, retrying won't help
    ([(403, ENVELOPE_403)], 1, "client_error"),  # core decided
    ([(0, httpx.ConnectError("refused"))], 3, "unavailable"),
    ([(0, httpx.ReadTimeout("slow")), (200, USER)], 2, None),
])
def test_what_is_retried(answers, sent, outcome):
    script = Script(*answers)
    core = CoreClient("http://core", API_KEY, transport=mock(script), retries=2, backoff_seconds=0.001)
    if outcome is None:
        assert core.user_get("1") == USER["data"]
    elif outcome == "client_error":
        with pytest.raises(CoreError):
            core.user_get("1")
    else:
        with pytest.raises(CoreUnavailable) as failed:
            core.user_get("1")
        assert failed.value.outcome == outcome
    assert len(script.paths) == sent


def test_a_call_that_is_not_safe_to_repeat_is_sent_once():
    script = Script((503, {"success": False}), (200, USER))
    core = CoreClient("http://core", API_KEY, transport=mock(script), retries=5, backoff_seconds=0.001)
    for call in (lambda: core.moderation_record(type="pin", group_id="1"),
                 lambda: core.verify_credentials(username="a", password="b"),
                 lambda: core.token_revoke(jti="j", expires_at=time.time())):
        script.paths.clear()
        with pytest.raises(CoreUnavailable):
            call()
        assert len(script.paths) == 1


def test_the_retries_stop_at_the_time_budget():
    """Each attempt takes 0.1 s and fails; ten retries are allowed, but none starts after the 0.25 s budget."""
    attempts = []

    def slow_failure(request):
        attempts.append(time.monotonic())
        time.sleep(0.1)
        raise httpx.ReadTimeout("slow", request=request)

    core = CoreClient("http://core", API_KEY, transport=httpx.MockTransport(slow_failure), retries=10,
                      backoff_seconds=0.001, retry_budget_seconds=0.25)
    started = time.monotonic()
    with pytest.raises(CoreUnavailable) as failed:
        core.health()
    assert failed.value.outcome == "timeout"
    assert 2 <= len(attempts) <= 3 and time.monotonic() - started < 0.5
    assert all(at - started < 0.25 for at in attempts)


def test_the_default_budget_leaves_every_attempt_its_timeout():
    core = CoreClient("http://core", API_KEY, timeout=0.8, retries=1)
    assert core.retry_policy.budget_seconds == pytest.approx(1.6)


@pytest.fixture
def flaky_core():
    """A real HTTP server: its first answer is a 503, every later one the health body."""
    served = []

    class Flaky(BaseHTTPRequestHandler):
        def _answer(self):
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            served.append(self.path)
            status, body = (503, b"{}") if len(served) == 1 else (200, json.dumps(HEALTHY).encode())
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _answer

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Flaky)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", served
    server.shutdown()
    server.server_close()


def test_the_async_client_follows_the_same_policy(flaky_core):
    url, served = flaky_core

    async def scenario():
        core = AsyncCoreClient(url, API_KEY, retries=2, backoff_seconds=0.001)
        try:
            health = await core.health()  # 503, then the answer
            retried = len(served)
            with pytest.raises(CoreUnavailable):  # a 200 that is no envelope: sent once
                await core.moderation_record(type="pin", group_id="1")
            return health, retried, len(served) - retried
        finally:
            await core.aclose()

    assert asyncio.run(scenario()) == (HEALTHY, 2, 1)
