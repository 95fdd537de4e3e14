"""The live-updates WebSocket (/ws/live) in process (channels.testing.WebsocketCommunicator), against a real core.

The web role's JWT settings (EdDSA, audience, issuer) are switched on for these tests; the in-memory channel
layer is the embedded default. Each test runs in its own event loop, so it gets its own feed and core client.
"""

import asyncio
import itertools
import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from datetime import timedelta

import pytest
from rest_framework_simplejwt.backends import TokenBackend

from apps.coreclient import CoreClient
from apps.dashboard.keys import generate_private_pem, load_jwt_keys
from tests.e2e.processes import TEST_KEY, WEB_KEY, core_process, free_port


def _websocket_communicator():
    """channels.testing.WebsocketCommunicator. The package's __init__ also imports its live-server test case,
    which needs daphne (a server the platform does not use), so the package is entered without running it."""
    import importlib
    import sys
    import types
    from pathlib import Path

    import channels

    if "channels.testing" not in sys.modules:
        package = types.ModuleType("channels.testing")
        package.__path__ = [str(Path(channels.__file__).parent / "testing")]
        sys.modules["channels.testing"] = package
    return importlib.import_module("channels.testing.websocket").WebsocketCommunicator


WebsocketCommunicator = _websocket_communicator()
PASSWORD = "correct-Horse-battery-9"
_numbers = itertools.count(1)


@pytest.fixture(scope="module")
def core(tmp_path_factory):
    port = free_port()
    process = core_process(tmp_path_factory.mktemp("live-core"), port).start()
    yield CoreClient(f"http://127.0.0.1:{port}", TEST_KEY, timeout=5), port
    process.stop()


@pytest.fixture
def web(core, settings, monkeypatch, tmp_path):
    """This test process as a web instance in front of the real core."""
    client, port = core
    keys = load_jwt_keys(algorithm="EdDSA", private_pem=generate_private_pem("EdDSA"), private_file="",
                         public_pem="", public_file="", production=False, data_dir=tmp_path)
    settings.SIMPLE_JWT = {
        "ALGORITHM": "EdDSA", "SIGNING_KEY": keys.private_pem, "VERIFYING_KEY": keys.public_pem,
        "AUDIENCE": "tgmod-dashboard", "ISSUER": "tgmod-web", "LEEWAY": 0,
        "ACCESS_TOKEN_LIFETIME": timedelta(minutes=5), "REFRESH_TOKEN_LIFETIME": timedelta(days=1),
        "USER_ID_FIELD": "id", "USER_ID_CLAIM": "user_id", "AUTH_HEADER_TYPES": ("Bearer",),
    }
    # simplejwt builds its token backend once, at import; this one verifies with the keys above.
    monkeypatch.setattr("rest_framework_simplejwt.state.token_backend", TokenBackend(
        "EdDSA", keys.private_pem, keys.public_pem, "tgmod-dashboard", "tgmod-web", None, 0))
    settings.CORE_API_URL = f"http://127.0.0.1:{port}"
    settings.CORE_API_KEY = WEB_KEY
    settings.WEB_CORE_TIMEOUT_SECONDS = 2.0
    settings.WEB_CORE_RETRIES = 1
    settings.REDIS_URL = ""
    settings.DASHBOARD_ACCESS_COOKIE = "dashboard_access"
    settings.ALLOWED_HOSTS = ["testserver", "127.0.0.1"]
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer",
                                           "CONFIG": {"capacity": 1000}}}
    return client


def user_with(core: CoreClient, role: str | None) -> dict:
    user = core.user_create(username=f"live{next(_numbers)}_{uuid.uuid4().hex[:6]}", password=PASSWORD)
    if role:
        core.assign_role(user_id=user["id"], role=role)
    return user


def access_token(user: dict, **claims) -> str:
    from apps.dashboard.tokens import issue_pair

    token = issue_pair(user)["access"]
    if not claims:
        return token
    from rest_framework_simplejwt.tokens import AccessToken

    parsed = AccessToken(token)
    for name, value in claims.items():
        parsed[name] = value
    return str(parsed)


def run(scenario):
    """Runs one scenario in a fresh event loop, then stops that loop's feed and core client."""
    from apps.dashboard.core import close_async_core
    from apps.dashboard.live.feed import stop_live_feed
    from apps.dashboard.live.hub import stop_live_hub

    async def wrapped():
        try:
            return await scenario()
        finally:
            await stop_live_feed()
            await stop_live_hub()
            await close_async_core()

    return in_fresh_loop(wrapped)


def in_fresh_loop(factory):
    """asyncio.run in a thread of its own: the session's Playwright fixture may hold a running loop here."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, factory()).result()


def communicator(*, cookie: str | None = None, origin: str | None = None, path="/ws/live") -> WebsocketCommunicator:
    from apps.dashboard.asgi import websocket_application

    headers = [(b"host", b"testserver")]
    if cookie is not None:
        headers.append((b"cookie", f"dashboard_access={cookie}".encode()))
    if origin is not None:
        headers.append((b"origin", origin.encode()))
    return WebsocketCommunicator(websocket_application, path, headers=headers)


async def receive(ws, kind: str | None = None, timeout: float = 2.0) -> dict:
    """The next message (of `kind`, skipping others) within `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        message = await ws.receive_json_from(timeout=max(0.01, deadline - time.monotonic()))
        if kind is None or message["type"] == kind:
            return message


async def closed_with(ws, timeout: float = 2.0) -> int:
    while True:
        output = await ws.receive_output(timeout=timeout)
        if output["type"] == "websocket.close":
            return output["code"]


async def quiet_messages(ws, seconds: float) -> list[dict]:
    """Everything that arrives until `seconds` pass without a message."""
    messages = []
    while not await ws.receive_nothing(timeout=seconds):  # (a timed-out receive would cancel the application)
        messages.append(await ws.receive_json_from())
    return messages


def audit_sequences(messages) -> list[int]:
    return [message["event"]["sequence"] for message in messages if message["type"] == "audit"]


def latest_sequence(core: CoreClient) -> int:
    return core.audit_events(limit=1)["items"][0]["sequence"]


def new_group(core: CoreClient) -> dict:
    return asdict(core.group_register(
        telegram_chat_id=-1003000000000 - next(_numbers) * 1000 - int(time.time()) % 1000,
        title=f"Live {uuid.uuid4().hex[:6]}", type="supergroup"))


# -- authentication


def test_the_cookie_authenticates_and_a_change_in_core_arrives_within_a_second(web):
    token = access_token(user_with(web, "admin"))

    async def scenario():
        ws = communicator(cookie=token)
        connected, _ = await ws.connect()
        assert connected
        hello = await receive(ws, "hello")
        assert hello["audit"] is True and hello["stats"] is True
        assert hello["latest_sequence"] >= 1
        started = time.monotonic()
        group = await asyncio.to_thread(new_group, web)
        messages = []
        while not messages or messages[-1]["type"] != "audit":
            messages.append(await receive(ws, timeout=max(0.01, 1.0 - (time.monotonic() - started))))
        elapsed = time.monotonic() - started
        event = messages[-1]["event"]
        assert (event["action"], event["target_id"]) == ("group.create", group["id"])
        assert event["sequence"] > hello["latest_sequence"]
        assert set(event) >= {"sequence", "created_at", "service", "actor_user_id", "action", "target_type",
                              "target_id", "group_id", "result", "reason", "details", "hash"}
        assert elapsed < 1.0
        # Stats follow changes (at most once a second, and every 5 s): the new group gets counted.
        group_count = await asyncio.to_thread(lambda: web.system_stats()["groups"])
        stats = [m["stats"] for m in messages if m["type"] == "stats"]
        while not stats or stats[-1]["groups"] < group_count:
            stats.append((await receive(ws, "stats", timeout=6.0))["stats"])
        assert stats[-1]["groups"] == group_count and "generated_at" in stats[-1]
        await ws.disconnect()

    run(scenario)


def test_a_first_message_authenticates_a_client_without_cookies(web):
    token = access_token(user_with(web, "admin"))

    async def scenario():
        ws = communicator()
        assert (await ws.connect())[0]
        await ws.send_json_to({"type": "auth", "token": token})
        hello = await receive(ws, "hello")
        assert hello["audit"] is True
        await ws.send_json_to({"type": "auth", "token": token})
        assert (await receive(ws, "error"))["code"] == "already_authenticated"
        await ws.send_json_to({"type": "ping"})
        assert (await receive(ws, "pong")) == {"type": "pong"}
        await ws.disconnect()

    run(scenario)


@pytest.mark.parametrize(("token", "code"), [
    ("not-a-jwt", "invalid_token"),
    ("expired", "token_expired"),
    ("foreign", "invalid_token"),
])
def test_a_bad_token_closes_with_4401(web, token, code):
    user = user_with(web, "admin")
    if token == "expired":
        token = access_token(user, exp=int(time.time()) - 60)
    elif token == "foreign":  # signed by another key
        import jwt

        token = jwt.encode({"token_type": "access", "user_id": user["id"], "jti": "x", "exp": int(time.time()) + 60,
                            "aud": "tgmod-dashboard", "iss": "tgmod-web"}, generate_private_pem("EdDSA"),
                           algorithm="EdDSA")

    async def scenario():
        for ws, by_message in ((communicator(cookie=token), False), (communicator(), True)):
            assert (await ws.connect())[0]
            if by_message:
                await ws.send_json_to({"type": "auth", "token": token})
            error = await receive(ws)
            assert (error["type"], error["code"]) == ("error", code)
            assert await closed_with(ws) == 4401

    run(scenario)


def test_no_token_within_the_deadline_closes_with_4401(web, monkeypatch):
    monkeypatch.setattr("apps.dashboard.live.consumers.AUTH_TIMEOUT_SECONDS", 0.3)

    async def scenario():
        ws = communicator()
        assert (await ws.connect())[0]
        assert (await receive(ws, "error"))["code"] == "not_authenticated"
        assert await closed_with(ws) == 4401

    run(scenario)


def test_a_browser_without_the_cookie_is_refused_at_once(web):
    async def scenario():
        ws = communicator(origin="http://testserver")
        assert (await ws.connect())[0]
        assert (await receive(ws, "error", timeout=1.0))["code"] == "not_authenticated"
        assert await closed_with(ws, timeout=1.0) == 4401

    run(scenario)


def test_anything_but_auth_first_closes_with_4401(web):
    async def scenario():
        ws = communicator()
        assert (await ws.connect())[0]
        await ws.send_json_to({"type": "resume", "after": 0})
        assert (await receive(ws, "error"))["code"] == "not_authenticated"
        assert await closed_with(ws) == 4401

    run(scenario)


def test_the_socket_closes_with_4401_when_its_login_session_is_revoked(web, settings):
    """A refresh token of the session used twice revokes the session in core: an open socket of it is closed
    within JWT_FAMILY_CHECK_SECONDS, as its requests are refused."""
    from datetime import UTC, datetime

    from apps.dashboard.tokens import issue_pair, read_refresh

    settings.JWT_FAMILY_CHECK_SECONDS = 0.5
    pair = issue_pair(user_with(web, "admin"))
    refresh = read_refresh(pair["refresh"])
    rotation = {"jti": refresh["jti"], "expires_at": datetime.fromtimestamp(refresh["exp"], UTC),
                "reason": "rotated", "family": refresh["sid"]}

    async def scenario():
        ws = communicator(cookie=pair["access"])
        assert (await ws.connect())[0]
        await receive(ws, "hello")
        await asyncio.to_thread(web.token_revoke, **rotation)
        await asyncio.sleep(1.0)  # two checks: the session is still alive (its events arrive, no error)
        pending = []
        while not await ws.receive_nothing(timeout=0.1):
            pending.append(await ws.receive_json_from())
        assert "error" not in [message["type"] for message in pending]
        assert (await asyncio.to_thread(web.token_revoke, **rotation))["family_revoked"] is True  # the reuse
        error = await receive(ws, "error", timeout=3)
        assert error["code"] == "token_revoked"
        assert await closed_with(ws) == 4401

    run(scenario)


def test_the_socket_closes_with_4401_when_its_token_expires(web):
    token = access_token(user_with(web, "admin"), exp=int(time.time()) + 2)

    async def scenario():
        ws = communicator(cookie=token)
        assert (await ws.connect())[0]
        assert (await receive(ws, "hello"))["audit"] is True
        error = await receive(ws, "error", timeout=5)
        assert error["code"] == "token_expired"
        assert await closed_with(ws) == 4401

    run(scenario)


def test_resumes_are_limited_per_connection(web):
    token = access_token(user_with(web, "admin"))

    async def scenario():
        ws = communicator(cookie=token)
        assert (await ws.connect())[0]
        latest = (await receive(ws, "hello"))["latest_sequence"]
        for _ in range(6):
            await ws.send_json_to({"type": "resume", "after": latest})
        await ws.send_json_to({"type": "resume", "after": latest})
        error = await receive(ws, "error")
        assert error["code"] == "rate_limited"
        await ws.send_json_to({"type": "ping"})
        assert (await receive(ws, "pong"))["type"] == "pong"
        await ws.disconnect()

    run(scenario)


def test_a_user_without_audit_or_stats_permission_is_closed_with_4403(web):
    token = access_token(user_with(web, None))

    async def scenario():
        ws = communicator(cookie=token)
        assert (await ws.connect())[0]
        error = await receive(ws)
        assert (error["type"], error["code"]) == ("error", "permission_denied")
        assert "VIEW_AUDIT" in error["message"]
        assert await closed_with(ws) == 4403

    run(scenario)


def test_stats_without_audit_permission_gets_stats_but_no_events(web):
    token = access_token(user_with(web, "moderator"))  # VIEW_STATS, not VIEW_AUDIT

    async def scenario():
        ws = communicator(cookie=token)
        assert (await ws.connect())[0]
        hello = await receive(ws, "hello")
        assert (hello["audit"], hello["stats"]) == (False, True)
        await asyncio.to_thread(new_group, web)
        messages = await quiet_messages(ws, 1.5)
        assert audit_sequences(messages) == []
        await ws.send_json_to({"type": "resume", "after": 0})
        assert (await receive(ws, "error"))["code"] == "permission_denied"
        await ws.disconnect()

    run(scenario)


def test_a_page_from_another_site_cannot_open_the_socket(web):
    token = access_token(user_with(web, "admin"))

    async def scenario():
        ws = communicator(cookie=token, origin="https://evil.example")
        connected, _ = await ws.connect()
        assert not connected
        ws = communicator(cookie=token, origin="http://testserver")
        assert (await ws.connect())[0]
        assert (await receive(ws, "hello"))["audit"] is True
        await ws.disconnect()
        ws = communicator(path="/ws/elsewhere")
        assert not (await ws.connect())[0]

    run(scenario)


# -- resume and de-duplication


def test_resume_sends_the_missed_events_once_in_order_then_live_ones(web):
    token = access_token(user_with(web, "admin"))

    async def scenario():
        ws = communicator(cookie=token)
        assert (await ws.connect())[0]
        seen = (await receive(ws, "hello"))["latest_sequence"]
        await ws.disconnect()
        missed = [await asyncio.to_thread(new_group, web) for _ in range(3)]  # while the page was away
        ws = communicator(cookie=token)
        assert (await ws.connect())[0]
        await receive(ws, "hello")
        # More changes while the resume is asked for: they may come both live and in the catch-up.
        during = [await asyncio.to_thread(new_group, web) for _ in range(2)]
        await ws.send_json_to({"type": "resume", "after": seen})
        messages = await quiet_messages(ws, 1.5)
        sequences = audit_sequences(messages)
        assert len(sequences) == len(set(sequences)), "an event was sent twice"
        created = [m["event"]["target_id"] for m in messages
                   if m["type"] == "audit" and m["event"]["action"] == "group.create"]
        assert created == [group["id"] for group in missed + during]
        expected = [event["sequence"] for event in web.audit_feed(after=seen, limit=200)["items"]
                    if not (event["action"] == "permission.check" and event["result"] == "allowed")]
        assert sorted(sequences) == expected
        assert sequences[: len(missed)] == sorted(sequences[: len(missed)])
        await ws.disconnect()

    run(scenario)


def test_a_new_page_gets_no_event_from_before_it_started(web):
    """A successor leader republishes what its predecessor may not have sent: to a page that started after those
    events, they are old news (its hello said where it starts), so they are not sent."""
    from channels.layers import get_channel_layer

    token = access_token(user_with(web, "admin"))

    async def scenario():
        ws = communicator(cookie=token)
        assert (await ws.connect())[0]
        start = (await receive(ws, "hello"))["latest_sequence"]
        before = dict(web.audit_feed(after=start - 1, limit=1)["items"][0])
        after = {**before, "sequence": start + 1_000_000, "action": "group.update", "result": "success"}
        await get_channel_layer().group_send("live", {"type": "live.audit", "events": [before, after]})
        sequences = audit_sequences(await quiet_messages(ws, 0.5))
        assert start + 1_000_000 in sequences and start not in sequences
        await ws.disconnect()

    run(scenario)


def test_allowed_permission_checks_stay_off_the_feed_but_denials_arrive(web):
    token = access_token(user_with(web, "admin"))
    nobody = user_with(web, None)

    async def scenario():
        ws = communicator(cookie=token)
        assert (await ws.connect())[0]
        await receive(ws, "hello")
        allowed = await asyncio.to_thread(web.check_permission, user_id=nobody["id"], permission="VIEW_GROUPS")
        assert allowed.allowed is False
        message = await receive(ws, "audit", timeout=1.5)
        assert (message["event"]["action"], message["event"]["result"]) == ("permission.check", "denied")
        admin_check = await asyncio.to_thread(web.check_permission, user_id=token_user(token),
                                              permission="VIEW_GROUPS")
        assert admin_check.allowed is True
        assert audit_sequences(await quiet_messages(ws, 1.0)) == []
        await ws.disconnect()

    run(scenario)


def token_user(token: str) -> str:
    from apps.dashboard.tokens import access_token_user

    return access_token_user(token).id


@pytest.mark.parametrize("frame", [
    b"\x00binary",
    "not json",
    "[1, 2]",
    json.dumps({"kind": "resume"}),
    json.dumps({"type": "subscribe"}),
    json.dumps({"type": "resume", "after": "12"}),
    json.dumps({"type": "resume", "after": -1}),
    json.dumps({"type": "resume", "after": True}),
    json.dumps({"type": "resume"}),
    "x" * 5000,
])
def test_bad_messages_get_an_error_reply_and_the_socket_stays_open(web, frame):
    token = access_token(user_with(web, "admin"))

    async def scenario():
        ws = communicator(cookie=token)
        assert (await ws.connect())[0]
        await receive(ws, "hello")
        if isinstance(frame, bytes):
            await ws.send_to(bytes_data=frame)
        else:
            await ws.send_to(text_data=frame)
        error = await receive(ws, "error")
        assert error["code"] in {"bad_message", "unknown_type"}
        assert len(error["message"]) >= 10
        await ws.send_json_to({"type": "ping"})
        assert (await receive(ws, "pong"))["type"] == "pong"
        await ws.disconnect()

    run(scenario)


def test_core_down_at_connect_closes_with_try_again_later(web, settings):
    token = access_token(user_with(web, "admin"))
    settings.CORE_API_URL = f"http://127.0.0.1:{free_port()}"
    settings.WEB_CORE_TIMEOUT_SECONDS = 0.3

    async def scenario():
        ws = communicator(cookie=token)
        assert (await ws.connect())[0]
        assert (await receive(ws, "error", timeout=5))["code"] == "core_unavailable"
        assert await closed_with(ws, timeout=5) == 1013

    run(scenario)


# -- the feed: one publisher among several workers (Redis), and never a crash


class Page:
    """A page's channel in the `live` group: what the feed delivers to it."""

    def __init__(self, layer):
        self.layer = layer

    async def join(self):
        from apps.dashboard.live.feed import GROUP

        self.channel = await self.layer.new_channel()
        await self.layer.group_add(GROUP, self.channel)
        return self

    async def events(self) -> list[dict]:
        events = []
        while True:
            try:
                message = await asyncio.wait_for(self.layer.receive(self.channel), 0.05)
            except TimeoutError:
                return events
            if message["type"] == "live.audit":
                events += message["events"]


@pytest.mark.redis
def test_one_leader_publishes_among_workers_and_a_successor_continues_without_loss(web, redis_url):
    """Three workers' feeds on one Redis: each event published once; when the leader stops, another takes
    over from the shared position, so what happened in between is published, once."""
    from channels.layers import InMemoryChannelLayer

    from apps.dashboard.live.feed import Feed, RedisCoordinator

    prefix = f"test{uuid.uuid4().hex[:8]}"

    async def scenario():
        layer = InMemoryChannelLayer()  # stands in for the shared Redis layer: one group for all three feeds
        feeds = [Feed(layer=layer, coordinator=RedisCoordinator(redis_url, prefix=prefix)) for _ in range(3)]
        page = await Page(layer).join()
        for feed in feeds:
            await feed.step()
        leaders = [feed for feed in feeds if feed.coordinator.leading]
        assert len(leaders) == 1
        first = [await asyncio.to_thread(new_group, web) for _ in range(2)]
        published = [await feed.step() for feed in feeds]
        assert sorted(published) == [0, 0, 2]
        events = await page.events()
        assert [e["target_id"] for e in events if e["action"] == "group.create"] == [g["id"] for g in first]

        leader = leaders[0]
        await leader.stop()  # releases the lock
        feeds.remove(leader)
        meanwhile = [await asyncio.to_thread(new_group, web) for _ in range(2)]
        for feed in feeds:
            await feed.step()
        for feed in feeds:
            await feed.step()
        assert sum(feed.coordinator.leading for feed in feeds) == 1
        events = await page.events()
        assert [e["target_id"] for e in events if e["action"] == "group.create"] == [g["id"] for g in meanwhile]
        assert len({e["sequence"] for e in events}) == len(events)
        for feed in feeds:
            await feed.stop()

    run(scenario)


@pytest.mark.redis
def test_a_page_of_events_whose_leader_died_while_publishing_is_published_by_the_successor(web, redis_url):
    """The leader has moved the position new pages start from, then dies before its publish reaches anyone: the
    successor resumes from what was published, so the page of events is published (once) after all."""
    from channels.layers import InMemoryChannelLayer

    from apps.dashboard.live.feed import Feed, RedisCoordinator

    prefix = f"test{uuid.uuid4().hex[:8]}"

    class DyingLayer:
        def __init__(self, layer):
            self.layer = layer

        async def group_send(self, group, message):
            if message["type"] == "live.audit":
                raise ConnectionError("the process died while publishing")
            await self.layer.group_send(group, message)

    async def scenario():
        layer = InMemoryChannelLayer()
        page = await Page(layer).join()
        leader = Feed(layer=DyingLayer(layer), coordinator=RedisCoordinator(redis_url, prefix=prefix))
        successor = Feed(layer=layer, coordinator=RedisCoordinator(redis_url, prefix=prefix))
        assert await leader.step() == 0 and leader.coordinator.leading  # takes the lead at core's latest event
        lost = [await asyncio.to_thread(new_group, web) for _ in range(2)]
        with pytest.raises(ConnectionError):
            await leader.step()
        claimed, published = await leader.coordinator.sequence(), await leader.coordinator.published()
        assert claimed > published  # new pages start after these events; a successor resumes before them
        await leader.coordinator.close()  # the lock goes with the process
        assert await successor.step() == 2  # takes over where publishing stopped, and publishes the page again
        events = await page.events()
        assert [e["target_id"] for e in events if e["action"] == "group.create"] == [g["id"] for g in lost]
        assert await successor.coordinator.sequence() == claimed  # pages that started meanwhile keep their start
        await successor.stop()

    run(scenario)


def test_the_feed_survives_core_being_down_and_catches_up_when_it_returns(web, settings):
    from channels.layers import InMemoryChannelLayer

    from apps.dashboard.live import feed as live

    async def scenario():
        layer = InMemoryChannelLayer()
        page = await Page(layer).join()
        feed = live.Feed(layer=layer, coordinator=live.LocalCoordinator(), poll_seconds=0.05)
        feed.start()
        await asyncio.sleep(0.5)
        assert feed.running and feed.cursor is not None
        good_url = settings.CORE_API_URL
        # Core goes away (nothing listens there): polls fail, the feed keeps going.
        from apps.dashboard.core import close_async_core

        settings.CORE_API_URL = f"http://127.0.0.1:{free_port()}"
        await close_async_core()
        await asyncio.sleep(1.5)
        assert feed.running and feed._failing
        missed = await asyncio.to_thread(new_group, web)  # happens while web cannot see core
        settings.CORE_API_URL = good_url
        await close_async_core()
        deadline = time.monotonic() + 8
        events = []
        while time.monotonic() < deadline and not any(e.get("target_id") == missed["id"] for e in events):
            events += await page.events()
        assert [e["target_id"] for e in events if e["action"] == "group.create"] == [missed["id"]]
        # The poll that published them ends after one more read (the stats); only then is the outage over.
        recovered = time.monotonic() + 2
        while feed._failing and time.monotonic() < recovered:
            await asyncio.sleep(0.05)
        assert feed.running and not feed._failing
        await feed.stop()

    run(scenario)
