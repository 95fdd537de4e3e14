"""The bot on three replicas sharing a Redis Stream log (BOT_REDIS_URL): three real bot processes behind a
round-robin balancer, fed by the Telegram sandbox, one real redis-server, core.

People write numbered messages in several groups at once; one replica is killed with SIGKILL under that load.
Per-chat order holds (each group's messages reach core in the order they were sent), the killed replica's chats
go on on the others within the issue's 10 s, and every update the sandbox got a 200 for (all of them, as the
sandbox retries until it does) is counted in core exactly once.
"""

import contextlib
import http.server
import itertools
import os
import signal
import sqlite3
import threading
import time

import httpx
import pytest
import redis

from apps.coreclient import CoreClient
from tgsandbox.client import SandboxClient

from .conftest import ALLOWED_UPDATES, BOT, Platform
from .processes import TEST_KEY, WEBHOOK_SECRET, bot_process, core_process, free_port, sandbox_process

pytestmark = pytest.mark.e2e

REPLICAS = 3
PARTITIONS = 16
CHATS = 6
TAKEOVER_BOUND = 10.0  # seconds: the bound for a dead replica's chats to go on elsewhere
_prefixes = itertools.count(1)


class RoundRobin:
    """A load balancer in front of the replicas, as the Service is in Kubernetes: each request goes to the next
    replica; one that refuses the connection is skipped (a dead pod leaves the endpoints)."""

    def __init__(self, ports: list[int]):
        self.urls = [f"http://127.0.0.1:{port}/telegram/webhook" for port in ports]
        self.turn = itertools.count()
        self.client = httpx.Client(timeout=10, trust_env=False)
        balancer = self

        class Forward(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                headers = {name: value for name, value in self.headers.items()
                           if name.lower() in ("content-type", "x-telegram-bot-api-secret-token")}
                status, payload = balancer.forward(body, headers)
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Forward)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def forward(self, body: bytes, headers: dict) -> tuple[int, bytes]:
        start = next(self.turn)
        for offset in range(len(self.urls)):
            url = self.urls[(start + offset) % len(self.urls)]
            try:
                response = self.client.post(url, content=body, headers=headers)
            except httpx.HTTPError:
                continue
            return response.status_code, response.content
        return 502, b'{"ok": false}'

    def close(self):
        self.server.shutdown()
        self.client.close()


class ReplicaPlatform(Platform):
    def __init__(self, tmp, redis_url: str):
        self.tmp = tmp
        self.core_port, self.sandbox_port = free_port(), free_port()
        self.core = core_process(tmp, self.core_port)
        self.sandbox = sandbox_process(tmp, self.sandbox_port)
        self.bot_ports = [free_port() for _ in range(REPLICAS)]
        self.prefix = f"e2e-replicas-{os.getpid()}-{next(_prefixes)}"
        self.bots = []
        for number, port in enumerate(self.bot_ports):
            data_dir = tmp / f"replica-{number}"
            data_dir.mkdir(parents=True, exist_ok=True)
            bot = bot_process(data_dir, port, self.core_port, self.sandbox_port)
            bot.name = f"bot-{number}"
            bot.log_path = tmp / f"bot-{number}.log"
            bot.env.update(BOT_REDIS_URL=redis_url, BOT_STREAM_PREFIX=self.prefix,
                           BOT_STREAM_PARTITIONS=str(PARTITIONS), BOT_REPLICA_NAME=f"replica{number}")
            self.bots.append(bot)
        self.bot = self.bots[0]
        self.balancer: RoundRobin | None = None

    def start(self):
        self.core.start()
        self.sandbox.start()
        for bot in self.bots:
            bot.start()
        self.balancer = RoundRobin(self.bot_ports)
        self.telegram = SandboxClient(f"http://127.0.0.1:{self.sandbox_port}", timeout=10)
        self.api = CoreClient(f"http://127.0.0.1:{self.core_port}", TEST_KEY, timeout=5)
        self.point_webhook()
        return self

    def point_webhook(self):
        self.telegram.set_webhook(f"http://127.0.0.1:{self.balancer.port}/telegram/webhook",
                                  secret_token=WEBHOOK_SECRET, allowed_updates=ALLOWED_UPDATES)

    def stop(self):
        if self.balancer is not None:
            self.balancer.close()
        for process in (*self.bots, self.sandbox, self.core):
            process.stop()

    def core_message_ids(self) -> dict[int, list[int]]:
        """Each chat's message ids as core stored their events, in the order it stored them (its row ids)."""
        with contextlib.closing(sqlite3.connect(f"file:{self.tmp / 'core.sqlite3'}?mode=ro", uri=True,
                                                timeout=5)) as database:
            rows = database.execute("SELECT event_id FROM events_groupevent WHERE type = 'message' ORDER BY id")
            stored: dict[int, list[int]] = {}
            for (event_id,) in rows:
                chat, message = event_id.rsplit(":", 1)
                stored.setdefault(int(chat), []).append(int(message))
        return stored


@pytest.fixture
def platform(tmp_path, redis_url):
    platform = ReplicaPlatform(tmp_path, redis_url)
    try:
        platform.start()
    except Exception:
        platform.stop()
        raise
    yield platform
    platform.stop()


class Writers:
    """One thread per chat: a member writes numbered messages, one after another, until told to stop. `sent`
    holds each chat's message ids in the order they were sent."""

    def __init__(self, sandbox_port: int, chats: list[dict]):
        self.chats = chats
        self.sent: dict[int, list[int]] = {chat["id"]: [] for chat in chats}
        self.stopping = threading.Event()
        self.errors: list[str] = []
        self.threads = [threading.Thread(target=self._write, args=(sandbox_port, chat), daemon=True)
                        for chat in chats]

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=30)

    @property
    def total(self) -> int:
        return sum(len(ids) for ids in self.sent.values())

    def _write(self, sandbox_port: int, chat: dict) -> None:
        telegram = SandboxClient(f"http://127.0.0.1:{sandbox_port}", timeout=10)
        number = itertools.count(1)
        while not self.stopping.is_set():
            try:
                # Load, not a backlog: a message waits while the sandbox holds more than a few undelivered, so a
                # message sent after the kill measures the takeover, not a queue that the writers outran.
                while len(telegram.pending_updates(BOT)["pending"]) > 2 * CHATS and not self.stopping.is_set():
                    time.sleep(0.01)
                message = telegram.send_message(chat["id"], "carol", f"message {next(number)}")
            except Exception as exc:  # reported by the test
                self.errors.append(f"{type(exc).__name__}: {exc}")
                return
            self.sent[chat["id"]].append(message["message_id"])
            time.sleep(0.02)


def new_group(platform: ReplicaPlatform) -> dict:
    """A group owned by alice with carol in it and the bot as an admin, once core registered it (as
    Platform.new_group, with room for a loaded machine: the bot's first update of a chat is a core call away)."""
    chat = platform.telegram.create_chat(f"Replicas {next(_prefixes)}", "alice", type="supergroup",
                                         members=["carol"])
    platform.telegram.add_member(chat["id"], BOT, by="alice", status="administrator",
                                 rights={"can_restrict_members": True, "can_delete_messages": True})
    platform.wait_for(lambda: platform._core_group(chat["id"]) is not None, "core to register the group",
                      timeout=30)
    return chat


def lease_holders(platform: ReplicaPlatform, redis_url: str) -> dict[int, str]:
    client = redis.Redis.from_url(redis_url)
    try:
        return {partition: (client.get(f"{platform.prefix}:lease:{partition}") or b"").decode()
                for partition in range(PARTITIONS)}
    finally:
        client.close()


def test_three_replicas_keep_per_chat_order_survive_a_kill_and_count_each_update_once(platform, redis_url):
    def balanced() -> bool:  # every partition held, none by a replica over its share: the start is over
        holders = list(lease_holders(platform, redis_url).values())
        shares = [sum(holder.startswith(f"replica{number}-") for holder in holders) for number in range(REPLICAS)]
        return all(holders) and max(shares) <= -(-PARTITIONS // REPLICAS)

    platform.wait_for(balanced, "the replicas to share the partitions", timeout=30)
    chats = [new_group(platform) for _ in range(CHATS)]
    groups = {chat["id"]: platform.api.group_by_chat(chat["id"]).id for chat in chats}
    with Writers(platform.sandbox_port, chats) as writers:
        platform.wait_for(lambda: writers.total >= 300, "the load to get going", timeout=30)
        holders = lease_holders(platform, redis_url)
        # The replica holding the most of these chats' partitions is killed.
        held = {number: [chat["id"] for chat in chats
                         if holders[chat["id"] % PARTITIONS].startswith(f"replica{number}-")]
                for number in range(REPLICAS)}
        victim = max(held, key=lambda number: len(held[number]))
        assert held[victim], f"no replica held any of the chats: {holders}"
        sent_before_kill = {chat_id: len(ids) for chat_id, ids in writers.sent.items()}
        os.killpg(platform.bots[victim].popen.pid, signal.SIGKILL)
        platform.bots[victim].popen.wait()
        killed_at = time.monotonic()

        def going_on_after_the_kill() -> bool:
            stored = platform.core_message_ids()
            return all(len(writers.sent[chat_id]) > sent_before_kill[chat_id]
                       and writers.sent[chat_id][sent_before_kill[chat_id]] in stored.get(chat_id, ())
                       for chat_id in held[victim])

        victims_partitions = {chat_id % PARTITIONS for chat_id in held[victim]}

        def taken_over() -> bool:
            holders = lease_holders(platform, redis_url)
            return all(holders[partition] and not holders[partition].startswith(f"replica{victim}-")
                       for partition in victims_partitions)

        platform.wait_for(taken_over, "the killed replica's partitions to be taken", timeout=TAKEOVER_BOUND)
        taken_after = time.monotonic() - killed_at
        platform.wait_for(going_on_after_the_kill, "the killed replica's chats to go on elsewhere",
                          timeout=max(TAKEOVER_BOUND - (time.monotonic() - killed_at), 0.1))
        print(f"the killed replica's {len(held[victim])} chats: partitions taken after {taken_after:.1f} s, "
              f"chats going on in core after {time.monotonic() - killed_at:.1f} s")
        platform.wait_for(lambda: writers.total >= sum(sent_before_kill.values()) + 200, "more load after the kill",
                          timeout=30)
    assert not writers.errors, writers.errors[:5]

    # Everything sent is delivered (the sandbox holds nothing back: each update got its 200) and counted once.
    platform.wait_for(lambda: not platform.telegram.pending_updates(BOT)["pending"], "the sandbox to deliver all",
                      timeout=60)

    def counted() -> dict[int, int]:
        return {chat_id: platform.api.group_stats(group_id, bucket="hour")["totals"]["messages"]
                for chat_id, group_id in groups.items()}

    expected = {chat_id: len(ids) for chat_id, ids in writers.sent.items()}
    platform.wait_for(lambda: counted() == expected, "core to count every message", timeout=60)
    time.sleep(1.0)  # a batch handled twice would show now
    assert counted() == expected
    stored = platform.core_message_ids()
    for chat_id, sent in writers.sent.items():
        assert stored[chat_id] == sent, f"chat {chat_id}: core's order differs from the order sent"
    print(f"{writers.total} messages in {CHATS} chats on {REPLICAS} replicas, one killed: each counted once, "
          f"in order")
