"""Fixtures: one sandbox server per test session (uvicorn on a free loopback port, in a thread),
a fresh demo world per test, and PTB ``telegram.Bot`` clients pointed at it."""

from __future__ import annotations

import contextlib
import json
import re
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
import telegram

from tgsandbox.seed import DEFAULT_BOT_TOKEN, seed_demo
from tgsandbox.server import SandboxServer
from tgsandbox.world import World
from tgsandbox.world.model import Chat, User


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture(scope="session")
def sandbox():
    server = SandboxServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def http():
    """One plain HTTP client for raw requests (building a client per request costs ~30 ms of TLS setup)."""
    with httpx.Client(trust_env=False, timeout=10) as client:
        yield client


@dataclass
class Demo:
    world: World
    url: str
    token: str
    group: Chat  # "Sandbox Group", a supergroup; the bot is an admin with all rights
    basic: Chat  # "Basic Group", a basic group; the bot is a plain member
    alice: User  # owner of both
    bob: User  # admin of the supergroup (promoted by alice)
    carol: User
    dave: User
    spammer: User

    def bot(self, token: str | None = None) -> telegram.Bot:
        return telegram.Bot(token or self.token, base_url=f"{self.url}/bot")

    @property
    def bot_id(self) -> int:
        return self.world.bot().id


@pytest.fixture
def demo(sandbox) -> Demo:
    world = sandbox.world
    world.reset()
    world.webhook_retry_initial, world.webhook_retry_max = 0.05, 0.2
    seed_demo(world, history=False)  # the rules tests count messages from the first one
    yield Demo(world=world, url=sandbox.url, token=DEFAULT_BOT_TOKEN, group=world.chat("Sandbox Group"),
               basic=world.chat("Basic Group"), alice=world.user("alice"), bob=world.user("bob_mod"),
               carol=world.user("carol"), dave=world.user("dave"), spammer=world.user("spammer"))
    world.reset()


@contextlib.contextmanager
def telegram_error(kind: type[telegram.error.TelegramError], message: str):
    """Like pytest.raises, and the error's message (as PTB presents it) must be exactly ``message``."""
    with pytest.raises(kind) as info:
        yield info
    assert info.value.message == message


def retry_seconds(error: telegram.error.RetryAfter) -> int:
    """RetryAfter's delay without touching the deprecated int/timedelta property."""
    match = re.search(r"Retry in (\d+) seconds|Retry in (\d+):(\d\d):(\d\d)", error.message)
    if match.group(1):
        return int(match.group(1))
    hours, minutes, seconds = (int(g) for g in match.groups()[1:])
    return hours * 3600 + minutes * 60 + seconds


class Receiver:
    """A tiny webhook endpoint: records each POST and answers with scripted status codes/bodies."""

    def __init__(self):
        self.requests: list[dict] = []
        self.answers: list[tuple[int, dict | None]] = []
        self.event = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                status, reply = receiver.answers.pop(0) if receiver.answers else (200, None)
                with receiver.event:
                    receiver.requests.append({"headers": dict(self.headers), "body": json.loads(body),
                                              "status": status})
                    receiver.event.notify_all()
                data = json.dumps(reply).encode() if reply is not None else b""
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def wait_for(self, count: int, timeout: float = 5.0) -> list[dict]:
        with self.event:
            self.event.wait_for(lambda: len(self.requests) >= count, timeout)
            return list(self.requests)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    hook = Receiver()
    yield hook
    hook.close()
