"""Live updates end to end: Telegram sandbox -> bot -> core -> web's feed -> WebSocket clients (`websockets`).

The embedded default (one uvicorn web process, in-memory channel layer), and production's shape: a real
redis-server, web under gunicorn with two uvicorn workers plus a second web instance, clients spread over all
of them, each getting every event exactly once.
"""

import asyncio
import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import websockets

from apps.dashboard.keys import generate_private_pem

from .processes import free_port, web_process

pytestmark = pytest.mark.e2e

PASSWORD = "correct-Horse-battery-9"


def in_fresh_loop(factory):
    """asyncio.run in a thread of its own: the session's Playwright fixture may hold a running loop here."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, factory()).result()


class LiveWeb:
    """One or more web instances sharing a signing key, and an admin's access token for them."""

    def __init__(self, platform, tmp, *, instances: list[dict]):
        self.platform = platform
        key = generate_private_pem("EdDSA")
        self.processes, self.ports = [], []
        for number, options in enumerate(instances):
            port = free_port()
            env = {"JWT_PRIVATE_KEY": key, **options.get("env", {})}
            self.processes.append(web_process(tmp, port, platform.core_port, name=f"live-web{number}",
                                              workers=options.get("workers", 1), env=env))
            self.ports.append(port)

    def start(self):
        for process in self.processes:
            process.start()
        user = self.platform.api.user_create(username=f"live_{uuid.uuid4().hex[:8]}", password=PASSWORD)
        self.platform.api.assign_role(user_id=user["id"], role="admin")
        response = httpx.post(f"http://127.0.0.1:{self.ports[0]}/api/auth/login",
                              json={"username": user["username"], "password": PASSWORD}, timeout=10)
        assert response.status_code == 200, response.text
        self.token = response.json()["data"]["access"]
        return self

    def stop(self):
        for process in self.processes:
            process.stop()

    def url(self, index: int = 0) -> str:
        return f"ws://127.0.0.1:{self.ports[index]}/ws/live"

    def metrics(self, index: int = 0) -> str:
        return httpx.get(f"http://127.0.0.1:{self.ports[index]}/metrics", timeout=5).text


class Client:
    """A WebSocket client of the live feed: everything it receives, in order."""

    def __init__(self, url: str, token: str):
        self.url, self.token = url, token
        self.messages: list[dict] = []
        self.hello: dict | None = None

    async def connect(self, resume_after: int | None = None):
        self.ws = await websockets.connect(self.url, additional_headers={"Cookie": f"dashboard_access={self.token}"})
        self.hello = json.loads(await asyncio.wait_for(self.ws.recv(), 5))
        assert self.hello["type"] == "hello", self.hello
        if resume_after is not None:
            await self.ws.send(json.dumps({"type": "resume", "after": resume_after}))
        self._reader = asyncio.get_running_loop().create_task(self._read())
        return self

    async def _read(self):
        try:
            async for text in self.ws:
                self.messages.append({**json.loads(text), "_at": time.monotonic()})
        except websockets.ConnectionClosed:
            pass

    async def close(self):
        await self.ws.close()
        await self._reader

    def events(self) -> list[dict]:
        return [message["event"] for message in self.messages if message["type"] == "audit"]

    async def wait_for(self, predicate, timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for event in self.events():
                if predicate(event):
                    return event
            await asyncio.sleep(0.01)
        raise AssertionError(f"no matching event within {timeout} s; got {[e['action'] for e in self.events()]}")

    def arrival(self, sequence: int) -> float:
        return next(m["_at"] for m in self.messages if m["type"] == "audit" and m["event"]["sequence"] == sequence)


def ban_matcher(platform, chat_id, action: str):
    group_id = platform.api.group_by_chat(chat_id).id
    return lambda event: (event["action"] == action and event["group_id"] == group_id
                          and event["details"].get("type") == "ban")


async def ban_through_the_bot(platform, chat) -> float:
    """alice bans the spammer by reply, through the sandbox and the bot. Returns when the command was sent."""
    spam = await asyncio.to_thread(platform.telegram.send_message, chat["id"], "spammer", "buy followers")
    sent = time.monotonic()
    await asyncio.to_thread(platform.telegram.send_message, chat["id"], "alice", "/ban flooding",
                            reply_to=spam["message_id"])
    return sent


@pytest.fixture(scope="module")
def live_web(platform, tmp_path_factory):
    web = LiveWeb(platform, tmp_path_factory.mktemp("live-web"), instances=[{}])
    try:
        yield web.start()
    finally:
        web.stop()


@pytest.fixture(scope="module")
def live_web_redis(platform, tmp_path_factory, redis_url):
    env = {"REDIS_URL": redis_url, "LIVE_REDIS_PREFIX": f"e2e{uuid.uuid4().hex[:8]}"}
    web = LiveWeb(platform, tmp_path_factory.mktemp("live-web-redis"),
                  instances=[{"workers": 2, "env": env}, {"env": env}])
    try:
        yield web.start()
    finally:
        web.stop()


def test_a_ban_through_the_bot_reaches_an_open_socket_within_a_second(platform, live_web):
    chat = platform.new_group()
    requested, completed = (ban_matcher(platform, chat["id"], action)
                            for action in ("moderation.request", "moderation.complete"))

    async def scenario():
        client = await Client(live_web.url(), live_web.token).connect()
        assert client.hello["audit"] and client.hello["stats"]
        sent = await ban_through_the_bot(platform, chat)
        request = await client.wait_for(requested, timeout=3)
        latency = client.arrival(request["sequence"]) - sent
        done = await client.wait_for(completed, timeout=5)
        assert done["result"] == "success" and done["sequence"] > request["sequence"]
        await client.close()
        return latency

    latency = in_fresh_loop(scenario)
    assert latency < 1.0, f"the ban reached the socket {latency:.3f} s after the command"


@pytest.mark.redis
def test_with_redis_and_several_workers_every_client_gets_each_event_exactly_once(platform, live_web_redis):
    web = live_web_redis
    clients_per_instance = 6

    async def scenario():
        clients = [await Client(web.url(index), web.token).connect()
                   for index in range(len(web.ports)) for _ in range(clients_per_instance)]
        gauge = [line for line in web.metrics(0).splitlines() if line.startswith("web_websocket_connections ")]
        assert gauge == [f"web_websocket_connections {float(clients_per_instance)}"], gauge
        start = max(client.hello["latest_sequence"] for client in clients)
        groups = [await asyncio.to_thread(platform.api.group_register, telegram_chat_id=-1004000000000 - number
                                          - int(time.time() * 1000) % 10**9, title=f"Live {number}",
                                          type="supergroup") for number in range(3)]
        for client in clients:
            for group in groups:
                await client.wait_for(lambda event, group=group: event["target_id"] == group.id, timeout=3)
        await asyncio.sleep(1.0)  # anything sent twice would have arrived by now
        expected = None
        for client in clients:
            sequences = [event["sequence"] for event in client.events() if event["sequence"] > start]
            assert len(sequences) == len(set(sequences)), "an event reached a client twice"
            assert sequences == sorted(sequences)
            expected = expected if expected is not None else sequences
            assert sequences == expected, "clients on different workers saw different events"
        for client in clients:
            await client.close()

    in_fresh_loop(scenario)


def test_a_client_that_lost_its_connection_resumes_and_gets_what_it_missed_once(platform, live_web):
    chat = platform.new_group()
    requested, completed = (ban_matcher(platform, chat["id"], action)
                            for action in ("moderation.request", "moderation.complete"))

    async def scenario():
        client = await Client(live_web.url(), live_web.token).connect()
        await asyncio.sleep(0.5)
        seen = max([event["sequence"] for event in client.events()] + [client.hello["latest_sequence"]])
        await client.close()  # the page loses its connection
        await ban_through_the_bot(platform, chat)
        await asyncio.to_thread(platform.wait_for, lambda: any(
            completed(event) for event in platform.api.audit_feed(after=seen, limit=200)["items"]),
            "core to record the ban")
        back = await Client(live_web.url(), live_web.token).connect(resume_after=seen)
        await back.wait_for(requested, timeout=3)
        await back.wait_for(completed, timeout=3)
        await asyncio.sleep(1.0)
        sequences = [event["sequence"] for event in back.events()]
        assert len(sequences) == len(set(sequences)), "a missed event was sent twice"
        assert sum(map(requested, back.events())) == 1 and sum(map(completed, back.events())) == 1
        missed = [event["sequence"] for event in platform.api.audit_feed(after=seen, limit=200)["items"]
                  if not (event["action"] == "permission.check" and event["result"] == "allowed")]
        assert set(missed) <= set(sequences)
        await back.close()

    in_fresh_loop(scenario)
