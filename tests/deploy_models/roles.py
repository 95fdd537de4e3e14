"""The whole platform as real processes under their production servers, for the deployment-model and
observability tests: core (gunicorn, 2 workers), the bot (uvicorn), web (2 workers: gunicorn with uvicorn
workers, as tests/e2e/processes.py starts it), the Telegram sandbox and a redis-server.

Every role gets its own data directory (its log file, the bot's outbox, core's SQLite), as on separate servers.
Where each role listens is a `Placement`: loopback with free ports on one machine, or one network namespace per
role (tests/deploy_models/netns.py) on the roles' production ports. A role only knows the others' addresses.
"""

import json
import shutil
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from apps.coreclient import CoreClient, CoreError
from apps.dashboard.keys import generate_private_pem
from tests.e2e.conftest import ALLOWED_UPDATES, Platform
from tests.e2e.processes import (
    TEST_KEY,
    WEBHOOK_SECRET,
    Process,
    bot_process,
    core_process,
    free_port,
    sandbox_process,
    web_process,
)
from tgsandbox.client import SandboxClient

ROLES = ("core", "bot", "web", "sandbox", "redis")
PASSWORD = "correct-Horse-battery-9"


@dataclass
class Placement:
    """Where each role listens: host and port per role, and the network namespace it runs in (None: this one)."""

    hosts: dict[str, str]
    ports: dict[str, int]
    namespaces: dict[str, str | None] = field(default_factory=dict)

    @classmethod
    def loopback(cls) -> "Placement":
        return cls(hosts=dict.fromkeys(ROLES, "127.0.0.1"), ports={role: free_port() for role in ROLES})

    def url(self, role: str) -> str:
        return f"http://{self.hosts[role]}:{self.ports[role]}"

    def wrap(self, role: str, command: list[str]) -> list[str]:
        namespace = self.namespaces.get(role)
        return ["ip", "netns", "exec", namespace, *command] if namespace else command


def _relocate(process: Process, placement: Placement, role: str, env: dict) -> Process:
    """Moves a process built for loopback to its placement: its own address (in its namespace) and the others'."""
    host, port = placement.hosts[role], placement.ports[role]
    command = [host if part == "127.0.0.1" else part for part in process.command]
    process.command = placement.wrap(role, command)
    process.env.update(env)
    process.health_url = process.health_url.replace("127.0.0.1", host)
    assert f":{port}/" in process.health_url, process.health_url
    return process


class RedisProcess(Process):
    def __init__(self, placement: Placement, log_dir: Path):
        binary = shutil.which("redis-server")
        assert binary, "redis-server is not installed (CI installs it)"
        command = [binary, "--bind", placement.hosts["redis"], "--port", str(placement.ports["redis"]),
                   "--save", "", "--appendonly", "no", "--protected-mode", "no"]
        super().__init__("redis", placement.wrap("redis", command), {}, "", log_dir)
        self.placement = placement

    def start(self, timeout: float = 10) -> "RedisProcess":
        log = self.log_path.open("ab")
        self.popen = subprocess.Popen(self.command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                raise RuntimeError(f"redis exited: {self.log_tail()}")
            if "Ready to accept connections" in self.log_path.read_text(errors="replace"):
                return self
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"redis did not start: {self.log_tail()}")


class Deployment(Platform):
    """Platform (tests/e2e/conftest.py) with web and Redis, each role placed by a `Placement`."""

    def __init__(self, tmp: Path, placement: Placement, *, log_level: str = "INFO", web_workers: int = 2):
        self.tmp, self.placement = tmp, placement
        hosts, ports = placement.hosts, placement.ports
        redis_url = f"redis://{hosts['redis']}:{ports['redis']}/0"
        dirs = {role: tmp / role for role in ROLES}
        for directory in dirs.values():
            directory.mkdir(parents=True, exist_ok=True)
        common = {"LOG_LEVEL": log_level, "REDIS_URL": redis_url}

        def allowed(role: str) -> str:
            return f"{hosts[role]},localhost,127.0.0.1"

        self.redis = RedisProcess(placement, dirs["redis"])
        self.core = _relocate(core_process(dirs["core"], ports["core"]), placement, "core", {
            **common, "BIND_HOST": hosts["core"], "ALLOWED_HOSTS": allowed("core"), "WEB_CONCURRENCY": "2"})
        self.sandbox = _relocate(sandbox_process(dirs["sandbox"], ports["sandbox"]), placement, "sandbox", {
            "SANDBOX_HOST": hosts["sandbox"]})
        self.bot = _relocate(bot_process(dirs["bot"], ports["bot"], ports["core"], ports["sandbox"]), placement,
                             "bot", {**common, "ALLOWED_HOSTS": allowed("bot"),
                                     "CORE_API_URL": placement.url("core"),
                                     "TELEGRAM_API_BASE_URL": f"{placement.url('sandbox')}/bot"})
        self.private_pem = generate_private_pem("EdDSA")
        web = web_process(dirs["web"], ports["web"], ports["core"], workers=web_workers)
        self.web = _relocate(web, placement, "web", {
            **common, "BIND_HOST": hosts["web"], "ALLOWED_HOSTS": allowed("web"),
            "CORE_API_URL": placement.url("core"), "JWT_PRIVATE_KEY": self.private_pem})
        self.core_port, self.sandbox_port, self.bot_port = ports["core"], ports["sandbox"], ports["bot"]

    @property
    def processes(self) -> list[Process]:
        return [self.redis, self.core, self.sandbox, self.bot, self.web]

    def start(self) -> "Deployment":
        for process in self.processes:
            process.start()
        self.telegram = SandboxClient(self.placement.url("sandbox"), timeout=10)
        self.api = CoreClient(self.placement.url("core"), TEST_KEY, timeout=5)
        self.point_webhook()
        return self

    def point_webhook(self) -> None:
        self.telegram.set_webhook(f"{self.placement.url('bot')}/telegram/webhook", secret_token=WEBHOOK_SECRET,
                                  allowed_updates=ALLOWED_UPDATES)

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.stop()

    # -- the web flow

    def web_user(self, role: str = "admin") -> dict:
        user = self.api.user_create(username=f"op_{uuid.uuid4().hex[:10]}", password=PASSWORD)
        self.api.assign_role(user_id=user["id"], role=role)
        return user

    def web_request(self, method: str, path: str, request_id: str, *, token: str | None = None,
                    timeout: float = 10, **kwargs) -> httpx.Response:
        headers = {"X-Request-ID": request_id}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return httpx.request(method, f"{self.placement.url('web')}{path}", headers=headers, timeout=timeout,
                             **kwargs)

    def web_login(self, username: str, request_id: str) -> httpx.Response:
        return self.web_request("POST", "/api/auth/login", request_id,
                                json={"username": username, "password": PASSWORD})

    # -- what the roles say about themselves

    def scrape(self, role: str) -> str:
        response = httpx.get(f"{self.placement.url(role)}/metrics", timeout=10)
        assert response.status_code == 200, response.text
        return response.text

    def audit_since(self, since: str, **filters) -> list[dict]:
        """Core's audit events from `since` on (ISO time), every page."""
        events, cursor = [], None
        while True:
            page = self.api.audit_events(since=since, limit=200, cursor=cursor, **filters)
            events.extend(page["items"])
            cursor = page.get("next_cursor")
            if not cursor:
                return events

    def core_group_id(self, chat_id: int) -> str | None:
        try:
            return self.api.group_by_chat(chat_id).id
        except CoreError:
            return None


def log_lines(process: Process) -> list[dict]:
    """The JSON objects of a role's log (lines that are not JSON, e.g. a server's banner, left out)."""
    lines = []
    for line in process.log_path.read_text(errors="replace").splitlines():
        if line.startswith("{"):
            try:
                lines.append(json.loads(line))
            except ValueError:
                continue
    return lines


def wait_for_log(process: Process, match, what: str, timeout: float = 5.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        found = [line for line in log_lines(process) if match(line)]
        if found:
            return found[-1]
        if time.monotonic() > deadline:
            raise AssertionError(f"{process.name}'s log has no line for {what}:\n{process.log_tail(15)}")
        time.sleep(0.1)
