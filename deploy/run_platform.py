#!/usr/bin/env python
"""`make run`: migrate, load demo data once, start every role on loopback, stop them all on Ctrl-C.

Runs on the embedded defaults: SQLite under data/, locmem cache, no Redis, no Docker, no token.
"""

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
GUNICORN = str(Path(PYTHON).with_name("gunicorn"))

ROLES = [
    # name, settings module, port, wsgi module
    ("core", "config.settings.core", int(os.environ.get("CORE_PORT", "8000")), "config.wsgi"),
]


def manage(*args: str, settings: str = "config.settings.core") -> None:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": settings}
    subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True)


def wait_healthy(port: int, deadline: float) -> bool:
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=1) as response:
                if response.status == 200:
                    return True
        except OSError:
            time.sleep(0.2)
    return False


def main() -> int:
    os.environ.setdefault("APP_ENV", "development")
    manage("migrate", "--noinput", "-v0")
    manage("seed_demo")

    processes: list[subprocess.Popen] = []

    def stop(*_):
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()

    signal.signal(signal.SIGTERM, lambda *_: (stop(), sys.exit(0)))
    try:
        for _name, settings, port, app in ROLES:
            env = {**os.environ, "DJANGO_SETTINGS_MODULE": settings, "PORT": str(port)}
            env.pop("PROMETHEUS_MULTIPROC_DIR", None)
            processes.append(
                subprocess.Popen([GUNICORN, "-c", "deploy/gunicorn/conf.py", app], cwd=ROOT, env=env)
            )
        deadline = time.monotonic() + 30
        for name, _, port, _ in ROLES:
            if not wait_healthy(port, deadline):
                print(f"{name} did not become healthy on port {port}; stopping.", file=sys.stderr)
                stop()
                return 1
        print("\nThe platform is up (Ctrl-C stops everything):")
        print("  core API          http://127.0.0.1:8000/api/health")
        print("  API docs          http://127.0.0.1:8000/api/docs   (log in at /api-auth/login/ as the admin)")
        print("  Django admin      http://127.0.0.1:8000/admin/")
        print("  service API key   X-API-Key: dev-service-key   (SERVICE_API_KEYS, development only)")
        print("  demo admin login  printed above on the first run; reset with: manage.py changepassword admin\n")
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
