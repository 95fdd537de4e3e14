#!/usr/bin/env python
"""`make run`: migrate, load demo data once, start every role on loopback, stop them all on Ctrl-C.

Runs on the embedded defaults: SQLite under data/, locmem cache, no Redis, no Docker. Without
TELEGRAM_BOT_TOKEN the bot talks to the local Telegram sandbox, which this also starts.
"""

import os
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
CORE_PORT = int(os.environ.get("CORE_PORT", "8000"))
BOT_PORT = int(os.environ.get("BOT_PORT", "8001"))
WEB_PORT = int(os.environ.get("WEB_PORT", "8002"))
SANDBOX_PORT = int(os.environ.get("SANDBOX_PORT", "8081"))


@dataclass
class Role:
    name: str
    command: list[str]
    health_url: str
    env: dict = field(default_factory=dict)


def roles() -> list[Role]:
    core = Role("core", [str(BIN / "gunicorn"), "-c", "deploy/gunicorn/conf.py", "config.wsgi"],
                f"http://127.0.0.1:{CORE_PORT}/api/health",
                {"DJANGO_SETTINGS_MODULE": "config.settings.core", "PORT": str(CORE_PORT)})
    bot_env = {"DJANGO_SETTINGS_MODULE": "config.settings.bot", "CORE_API_URL": f"http://127.0.0.1:{CORE_PORT}"}
    started = [core]
    if not os.environ.get("TELEGRAM_BOT_TOKEN"):
        started.append(Role("sandbox", [sys.executable, "-m", "tgsandbox", "--log-level", "warning"],
                            f"http://127.0.0.1:{SANDBOX_PORT}/sandbox", {"SANDBOX_PORT": str(SANDBOX_PORT)}))
        bot_env["TELEGRAM_API_BASE_URL"] = f"http://127.0.0.1:{SANDBOX_PORT}/bot"
    started.append(Role("bot", [str(BIN / "uvicorn"), "apps.botgateway.asgi:application", "--host", "127.0.0.1",
                                "--port", str(BOT_PORT), "--lifespan", "on", "--no-access-log"],
                        f"http://127.0.0.1:{BOT_PORT}/api/health", bot_env))
    started.append(Role("web", [str(BIN / "uvicorn"), "apps.dashboard.asgi:application", "--host", "127.0.0.1",
                                "--port", str(WEB_PORT), "--lifespan", "on", "--no-access-log"],
                        f"http://127.0.0.1:{WEB_PORT}/api/health",
                        {"DJANGO_SETTINGS_MODULE": "config.settings.web", "PORT": str(WEB_PORT),
                         "CORE_API_URL": f"http://127.0.0.1:{CORE_PORT}"}))
    return started


def manage(*args: str, env: dict | None = None) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env={**os.environ, **(env or {})}, check=True)


def wait_healthy(url: str, deadline: float) -> bool:
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1) as response:  # noqa: S310 (our own loopback URL)
                if response.status == 200:
                    return True
        except OSError:
            time.sleep(0.2)
    return False


def admin_login_hint() -> str:
    """The demo admin's login for the banner: the password seed_demo generated (kept in DATA_DIR, 0600), and how to
    reset it."""
    kept = Path(os.environ.get("DATA_DIR") or ROOT / "data") / "demo-admin-password"
    reset = ".venv/bin/python manage.py changepassword admin"
    try:
        password = kept.read_text().strip()
    except OSError:
        return f"admin / the password you set; reset with: {reset}"
    return f"admin / {password}   (generated the first time, kept in {kept}; changed it? reset with: {reset})"


def main() -> int:
    os.environ.setdefault("APP_ENV", "development")
    os.environ.setdefault("LOG_FORMAT", "console")  # one human line per record; production logs JSON
    manage("migrate", "--noinput", "-v0")
    manage("seed_demo")

    processes: list[subprocess.Popen] = []

    def stop(*_):
        for process in reversed(processes):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()

    signal.signal(signal.SIGTERM, lambda *_: (stop(), sys.exit(0)))
    try:
        for role in roles():
            env = {**os.environ, **role.env}
            env.pop("PROMETHEUS_MULTIPROC_DIR", None)
            processes.append(subprocess.Popen(role.command, cwd=ROOT, env=env))
            if not wait_healthy(role.health_url, time.monotonic() + 30):
                print(f"{role.name} did not become healthy ({role.health_url}); stopping.", file=sys.stderr)
                return 1
            if role.name == "bot" and not os.environ.get("TELEGRAM_BOT_TOKEN"):
                manage("telegram_webhook", "set", "--url", f"http://127.0.0.1:{BOT_PORT}/telegram/webhook",
                       env=role.env)
        print("\nThe platform is up (Ctrl-C stops everything):")
        print(f"  core API          http://127.0.0.1:{CORE_PORT}/api/health")
        print(f"  API docs          http://127.0.0.1:{CORE_PORT}/api/docs   (log in at /api-auth/login/ as the admin)")
        print(f"  Django admin      http://127.0.0.1:{CORE_PORT}/admin/")
        print("  service API key   X-API-Key: dev-service-key   (SERVICE_API_KEYS, development only)")
        print(f"  bot               http://127.0.0.1:{BOT_PORT}/api/health")
        if not os.environ.get("TELEGRAM_BOT_TOKEN"):
            port = "" if SANDBOX_PORT == 8081 else f"SANDBOX_PORT={SANDBOX_PORT} "
            print(f"  Telegram sandbox  http://127.0.0.1:{SANDBOX_PORT}/sandbox   chat with the bot: "
                  f"{port}.venv/bin/python -m tgsandbox.botchat   (then /ban @spammer flooding as @alice)")
        print(f"  dashboard         http://127.0.0.1:{WEB_PORT}/   (log in as the demo admin below)")
        print(f"  dashboard API     http://127.0.0.1:{WEB_PORT}/api/docs   (POST /api/auth/login as the demo admin, "
              "then Authorize with the access token)")
        print(f"  demo admin login  {admin_login_hint()}\n", flush=True)
        while all(process.poll() is None for process in processes):
            time.sleep(0.5)
        print("A role exited; stopping the others.", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        stop()


if __name__ == "__main__":
    sys.exit(main())
