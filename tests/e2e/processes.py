"""Real role processes on loopback ports, for end-to-end tests: core under gunicorn, the bot and web under
uvicorn (web under gunicorn's uvicorn workers when it has several), the Telegram sandbox. Each is started
with its production server and stopped by PID."""

import fcntl
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
BOT_KEY = "e2e-bot-key"
TEST_KEY = "e2e-test-key"
WEB_KEY = "e2e-web-key"
WEBHOOK_SECRET = "e2e-webhook-secret"
BOT_TOKEN = "123456:sandbox-token"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _serving(health: httpx.Response) -> bool:
    """Up, or up and saying in the seed's body that a dependency is down (web started before its core, say)."""
    if health.status_code < 500:
        return True
    try:
        return health.json().get("status") == "unhealthy"
    except (ValueError, AttributeError):
        return False


class Process:
    """`ready` replaces the health URL for a process that serves no HTTP (the polling bot): called with no
    argument after each start, true once the process is up."""

    def __init__(self, name: str, command: list[str], env: dict, health_url: str | None, log_dir: Path, *,
                 ready: Callable[[], Callable[[], bool]] | None = None):
        self.name, self.command, self.env, self.health_url = name, command, env, health_url
        self.log_path = log_dir / f"{name}.log"
        self.popen: subprocess.Popen | None = None
        self.ready = ready

    def _up(self, check: Callable[[], bool] | None) -> bool:
        if check is not None:
            return check()
        try:
            return _serving(httpx.get(self.health_url, timeout=1, headers={"X-API-Key": TEST_KEY}))
        except httpx.HTTPError:
            return False

    def start(self, timeout: float = 30) -> "Process":
        check = self.ready() if self.ready is not None else None  # taken before the start: "up since then"
        log = self.log_path.open("ab")
        self.popen = subprocess.Popen(self.command, cwd=ROOT, env={**os.environ, **self.env}, stdout=log,
                                      stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {self.log_tail()}")
            if self._up(check):
                return self
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"{self.name} did not become healthy: {self.log_tail()}")

    def stop(self) -> None:
        if self.popen is None or self.popen.poll() is not None:
            return
        os.killpg(self.popen.pid, signal.SIGTERM)
        try:
            self.popen.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait()

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def core_process(data_dir: Path, port: int) -> Process:
    env = {
        "APP_ENV": "development",
        "DJANGO_SETTINGS_MODULE": "config.settings.core",
        "DATA_DIR": str(data_dir),
        "SERVICE_API_KEYS": f"bot={BOT_KEY},tests={TEST_KEY},web={WEB_KEY}",
        "PORT": str(port),
        "WEB_CONCURRENCY": "2",
        "LOG_LEVEL": "WARNING",
    }
    migrated_database(data_dir, env)
    return Process("core", [str(BIN / "gunicorn"), "-c", "deploy/gunicorn/conf.py", "config.wsgi"], env,
                   f"http://127.0.0.1:{port}/api/health", data_dir)


TEMPLATES = ROOT / ".pytest_cache" / "core-databases"


def _migrations_digest() -> str:
    digest = hashlib.sha256()
    for path in sorted(ROOT.glob("apps/*/migrations/*.py")):
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def migrated_database(data_dir: Path, env: dict) -> None:
    """Core's SQLite database in `data_dir`, migrated: a copy of one migrated once for the current migrations (by
    whichever test process needs it first) instead of `migrate` for every core a test starts (some 4 s of CPU each,
    dozens of cores a run)."""
    template = migrated_template(env)
    data_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(template, data_dir / "core.sqlite3")


def migrated_template(env: dict) -> Path:
    """The SQLite database migrated once for the current migrations, built with `env` (core's settings) by whichever
    test process asks first; the others wait for it. Copy it, never open it in place."""
    TEMPLATES.mkdir(parents=True, exist_ok=True)
    template = TEMPLATES / f"core-{_migrations_digest()}.sqlite3"
    if not template.exists():
        with (TEMPLATES / "build.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not template.exists():
                with tempfile.TemporaryDirectory(dir=TEMPLATES) as scratch:
                    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT,
                                   env={**os.environ, **env, "DATA_DIR": scratch}, check=True)
                    os.replace(Path(scratch) / "core.sqlite3", template)
    return template


def sandbox_process(data_dir: Path, port: int) -> Process:
    return Process("sandbox", [sys.executable, "-m", "tgsandbox", "--port", str(port), "--no-rate-limits"],
                   {"SANDBOX_PORT": str(port), "SANDBOX_BOT_TOKEN": BOT_TOKEN},
                   f"http://127.0.0.1:{port}/sandbox", data_dir)


def _bot_env(data_dir: Path, core_port: int, sandbox_port: int) -> dict:
    return {
        "APP_ENV": "development",
        "DJANGO_SETTINGS_MODULE": "config.settings.bot",
        "DATA_DIR": str(data_dir),
        "TELEGRAM_BOT_TOKEN": BOT_TOKEN,
        "TELEGRAM_API_BASE_URL": f"http://127.0.0.1:{sandbox_port}/bot",
        "TELEGRAM_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "CORE_API_URL": f"http://127.0.0.1:{core_port}",
        "CORE_API_KEY": BOT_KEY,
        "LOG_LEVEL": "WARNING",
    }


def bot_process(data_dir: Path, port: int, core_port: int, sandbox_port: int) -> Process:
    env = _bot_env(data_dir, core_port, sandbox_port)
    command = [str(BIN / "uvicorn"), "apps.botgateway.asgi:application", "--host", "127.0.0.1", "--port", str(port),
               "--lifespan", "on", "--no-access-log", "--log-level", "warning"]
    return Process("bot", command, env, f"http://127.0.0.1:{port}/api/health", data_dir)


def polling_bot_process(data_dir: Path, core_port: int, sandbox_port: int,
                        ready: Callable[[], Callable[[], bool]]) -> Process:
    """The bot in long-polling mode, as `make run-bot BOT_MODE=polling` and deploy/start/bot.sh start it
    (`manage.py runbot`): no HTTP server, so `ready` (the sandbox seeing its getUpdates) says when it is up."""
    env = {**_bot_env(data_dir, core_port, sandbox_port), "BOT_MODE": "polling"}
    return Process("bot-polling", [sys.executable, "manage.py", "runbot"], env, None, data_dir, ready=ready)


def web_process(data_dir: Path, port: int, core_port: int, *, name: str = "web", workers: int = 1,
                env: dict | None = None) -> Process:
    """The web role under its ASGI server: uvicorn for one worker (as `make run-web`), gunicorn with uvicorn
    workers for more (as in production). On locmem the login limits and the live feed are per process: several
    workers need REDIS_URL in `env` to share them."""
    web_env = {
        "APP_ENV": "development",
        "DJANGO_SETTINGS_MODULE": "config.settings.web",
        "DATA_DIR": str(data_dir),
        "CORE_API_URL": f"http://127.0.0.1:{core_port}",
        "CORE_API_KEY": WEB_KEY,
        "PORT": str(port),
        "WEB_CONCURRENCY": str(workers),
        "LOG_LEVEL": "WARNING",
        **(env or {}),
    }
    return Process(name, web_command(port, workers), web_env, f"http://127.0.0.1:{port}/api/health", data_dir)


def web_command(port: int, workers: int = 1) -> list[str]:
    """uvicorn for one process; gunicorn with uvicorn workers (as deploy/start/web.sh) for several."""
    if workers > 1:
        return [str(BIN / "gunicorn"), "-c", "deploy/gunicorn/conf.py", "-k", "uvicorn_worker.UvicornWorker",
                "apps.dashboard.asgi:application"]
    return [str(BIN / "uvicorn"), "apps.dashboard.asgi:application", "--host", "127.0.0.1", "--port", str(port),
            "--lifespan", "on", "--no-access-log", "--log-level", "warning"]
