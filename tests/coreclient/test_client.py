"""The core client against the real core app: in-process for the sync client, a live server for the async one."""

import asyncio
import socket
import time

import httpx
import pytest

from apps.audit.models import AuditEvent
from apps.common.context import bind_context
from apps.coreclient import AsyncCoreClient, CoreClient, CoreError, CoreUnavailable, Decision
from apps.coreclient.breaker import CircuitBreaker
from tests.factories import grant, make_group, make_member, make_user

from .timestamps import to_the_millisecond

API_KEY = "bot-key"



@pytest.fixture
def client(core_app):
    core = CoreClient("http://testserver", API_KEY, transport=core_app)
    yield core
    core.close()


@pytest.fixture
def moderator(db):
    group, user = make_group(), make_user()
    make_member(user, group)
    grant(user, "moderator", group)
    return user, group


def test_check_permission_through_the_client(client, moderator):
    user, group = moderator
    allowed = client.check_permission(permission="BAN_USERS", telegram_user_id=user.telegram_user_id,
                                      telegram_chat_id=group.telegram_chat_id)
    assert allowed == Decision(allowed=True, reason="granted_by_role:moderator")
    results = client.check_permissions([
        {"permission": "BAN_USERS", "user_id": str(user.pk), "group_id": str(group.pk)},
        {"permission": "MANAGE_ROLES", "user_id": str(user.pk), "group_id": str(group.pk)},
    ])
    assert [r.allowed for r in results] == [True, False]
    assert AuditEvent.objects.filter(action="permission.check", service="bot").count() == 3


def test_errors_come_back_typed_with_cores_code(client, db):
    with pytest.raises(CoreError) as not_found:
        client.user_get("424242")
    assert (not_found.value.code, not_found.value.status_code) == ("not_found", 404)
    with pytest.raises(CoreError) as unknown:
        client.check_permission(permission="NOPE", telegram_user_id=1)
    assert unknown.value.code == "unknown_permission"


def test_request_id_is_carried_to_core(client, moderator):
    user, _ = moderator
    bind_context(request_id="trace-abc-123")
    client.check_permission(permission="BAN_USERS", user_id=str(user.pk))
    assert AuditEvent.objects.latest("sequence").request_id == "trace-abc-123"


def test_a_round_trip_of_groups_and_moderation(client, db):
    group = client.group_register(telegram_chat_id=-1001234567890, title="Round trip", type="supergroup")
    assert to_the_millisecond(client.group_by_chat(-1001234567890)) == to_the_millisecond(group)
    target = client.user_create(username="target", telegram_user_id=555)
    member = client.member_set(group.id, user_id=target["id"], status="member")
    assert (member.user_id, member.status, member.telegram_user_id) == (target["id"], "member", 555)
    recorded = client.moderation_record(type="warn", group_id=group.id, target_user_id=target["id"], reason="x")
    assert (recorded.action.status, recorded.warnings.active_warnings) == ("requested", 1)
    assert recorded.target_telegram_user_id == 555
    done = client.moderation_complete(recorded.action.id, status="executed")
    assert (done.id, done.status) == (recorded.action.id, "executed")
    ingest = client.events_batch([{"event_id": "rt-1", "type": "message", "telegram_chat_id": -1001234567890,
                                   "telegram_user_id": 555, "occurred_at": "2026-01-01T00:00:00Z"}])
    assert ingest["accepted"] == 1


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_core_down_is_a_bounded_core_unavailable():
    core = CoreClient(f"http://127.0.0.1:{_closed_port()}", API_KEY, timeout=0.5, retries=2, backoff_seconds=0.01)
    started = time.monotonic()
    with pytest.raises(CoreUnavailable):
        core.check_permission(permission="BAN_USERS", telegram_user_id=1)
    assert time.monotonic() - started < 2


def test_retries_only_what_is_safe_to_repeat(core_app):
    app = core_app
    sent = []

    def flaky(request: httpx.Request):
        sent.append(request.url.path)
        if len(sent) == 1:
            return httpx.Response(503, json={"success": False, "error": "service_unavailable"})
        return app.handle_request(request)

    core = CoreClient("http://testserver", API_KEY, transport=httpx.MockTransport(flaky), backoff_seconds=0.001)
    assert core.health()["status"] == "healthy"
    assert len(sent) == 2

    sent.clear()
    with pytest.raises(CoreUnavailable):
        core.moderation_record(type="pin", group_id="1")  # creates a record: never sent twice
    assert len(sent) == 1


def test_circuit_opens_after_repeated_failures_and_fails_fast():
    calls = []

    def down(request):
        calls.append(1)
        raise httpx.ConnectError("refused")

    breaker = CircuitBreaker(failure_threshold=3, reset_seconds=60)
    core = CoreClient("http://testserver", API_KEY, transport=httpx.MockTransport(down), retries=0, breaker=breaker)
    for _ in range(3):
        with pytest.raises(CoreUnavailable):
            core.health()
    assert breaker.state == "open"
    with pytest.raises(CoreUnavailable, match="circuit open"):
        core.health()
    assert len(calls) == 3


def test_breaker_lets_one_trial_through_after_the_reset_time():
    now = [0.0]
    breaker = CircuitBreaker(failure_threshold=1, reset_seconds=5, clock=lambda: now[0])
    breaker.record_failure()
    assert not breaker.allow()
    now[0] = 5.0
    assert breaker.allow() and not breaker.allow()  # one trial at a time
    breaker.record_success()
    assert breaker.state == "closed" and breaker.allow()


@pytest.mark.django_db(transaction=True)
def test_async_client_against_a_live_core(live_server):
    user, group = make_user(), make_group()
    make_member(user, group)
    grant(user, "helper", group)

    async def scenario():
        core = AsyncCoreClient(live_server.url, API_KEY)
        try:
            return await asyncio.gather(
                core.check_permission(permission="MUTE_USERS", user_id=str(user.pk), group_id=str(group.pk)),
                core.check_permission(permission="BAN_USERS", user_id=str(user.pk), group_id=str(group.pk)),
                core.health(),
            )
        finally:
            await core.aclose()

    mute, ban, health = asyncio.run(scenario())
    assert (mute.allowed, ban.allowed, health["service"]) == (True, False, "centralized-api")


@pytest.fixture
def slow_core():
    """A real HTTP server that answers every request after 0.4 s, like core hashing a password on a busy machine."""
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Slow(BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            time.sleep(0.4)
            body = json.dumps({"success": True, "data": {"id": "1", "username": "alice"}}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Slow)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_password_check_may_take_longer_than_the_user_facing_timeout(slow_core):
    core = CoreClient(slow_core, API_KEY, timeout=0.2, retries=0)
    with pytest.raises(CoreUnavailable):  # an ordinary call keeps the short timeout
        core.moderation_record(type="warn", telegram_chat_id=-1, actor_telegram_user_id=1, target_telegram_user_id=2)
    assert core.verify_credentials(username="alice", password="secret")["username"] == "alice"


def test_a_password_check_still_fails_fast_when_core_is_down():
    core = CoreClient(f"http://127.0.0.1:{_closed_port()}", API_KEY, timeout=0.2, retries=0)
    started = time.monotonic()
    with pytest.raises(CoreUnavailable):
        core.verify_credentials(username="alice", password="secret")
    assert time.monotonic() - started < 1


def test_the_async_client_reports_a_core_that_is_down_or_too_slow(slow_core):
    async def failures():
        down = AsyncCoreClient(f"http://127.0.0.1:{_closed_port()}", API_KEY, timeout=0.2, retries=0)
        slow = AsyncCoreClient(slow_core, API_KEY, timeout=0.2, retries=0)
        try:
            errors = []
            for client in (down, slow):
                started = time.monotonic()
                with pytest.raises(CoreUnavailable) as caught:
                    await client.moderation_record(type="warn", telegram_chat_id=-1, actor_telegram_user_id=1,
                                                   target_telegram_user_id=2)
                errors.append((caught.value.outcome, time.monotonic() - started < 1))
            errors.append((await slow.verify_credentials(username="alice", password="secret"))["username"])
            return errors
        finally:
            await down.aclose()
            await slow.aclose()

    assert asyncio.run(failures()) == [("unavailable", True), ("timeout", True), "alice"]


def test_the_async_client_spells_query_values_as_the_sync_one():
    from apps.coreclient.client import query_pairs

    assert query_pairs({"is_active": True, "q": "x y", "limit": 2, "ids": [1, 2]}) == [
        ("is_active", "true"), ("q", "x y"), ("limit", "2"), ("ids", "1"), ("ids", "2")]
    assert str(httpx.Request("GET", "http://core/", params={"is_active": True}).url) == "http://core/?is_active=true"
    assert query_pairs({}) is None
