"""The roles started by their deploy/start scripts on loopback, shared by the start-script and nginx checks."""

import functools
import os
import secrets
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.e2e.processes import BOT_TOKEN, WEBHOOK_SECRET, Process, free_port, sandbox_process

from .tools import DEPLOY

START = DEPLOY / "start"
VENV_BIN = str(Path(sys.executable).parent)


def script_env(**extra) -> dict:
    env = {key: value for key, value in os.environ.items() if key not in {"DJANGO_SETTINGS_MODULE", "PORT"}}
    env["PATH"] = f"{VENV_BIN}:{env.get('PATH', '/usr/bin:/bin')}"
    env.update({key: str(value) for key, value in extra.items()})
    return env


@pytest.fixture(scope="package")
def roles(tmp_path_factory):
    """core (production settings, SQLite) after migrate.sh, web and the bot (with the Telegram sandbox)."""
    tmp = tmp_path_factory.mktemp("start-scripts")
    core_port, web_port, bot_port, sandbox_port = free_port(), free_port(), free_port(), free_port()
    core_env = {"APP_ENV": "production", "SECRET_KEY": secrets.token_urlsafe(50), "DATA_DIR": str(tmp / "core"),
                "ALLOWED_HOSTS": "tgmod.test,core,localhost,127.0.0.1",
                "SERVICE_API_KEYS": "web=start-web-key,bot=start-bot-key",
                # As compose and the Kubernetes manifests run core: plain HTTP from bot and web, no redirect.
                "SECURE_SSL_REDIRECT": "false",
                "BIND_HOST": "127.0.0.1", "PORT": str(core_port), "WEB_CONCURRENCY": "2", "LOG_LEVEL": "WARNING"}
    dev = {"APP_ENV": "development", "BIND_HOST": "127.0.0.1", "LOG_LEVEL": "WARNING",
           "CORE_API_URL": f"http://127.0.0.1:{core_port}"}
    processes = {
        "core": Process("core", [str(START / "core.sh")], script_env(**core_env),
                        f"http://127.0.0.1:{core_port}/api/health", tmp),
        "web": Process("web", [str(START / "web.sh")],
                       # A worker class meant for core in the shared environment: web's script overrides it.
                       script_env(**dev, DATA_DIR=tmp / "web", PORT=web_port, WEB_CONCURRENCY=2,
                                  CORE_API_KEY="start-web-key", GUNICORN_WORKER_CLASS="gthread"),
                       f"http://127.0.0.1:{web_port}/api/health", tmp),
        "sandbox": sandbox_process(tmp, sandbox_port),
        "bot": Process("bot", [str(START / "bot.sh")],
                       script_env(**dev, DATA_DIR=tmp / "bot", PORT=bot_port, CORE_API_KEY="start-bot-key",
                                  TELEGRAM_BOT_TOKEN=BOT_TOKEN, TELEGRAM_WEBHOOK_SECRET=WEBHOOK_SECRET,
                                  TELEGRAM_API_BASE_URL=f"http://127.0.0.1:{sandbox_port}/bot"),
                       f"http://127.0.0.1:{bot_port}/api/health", tmp),
    }
    started, scripts = [], {}

    def start(name: str) -> None:
        processes[name].start(timeout=60)
        started.append(processes[name])

    def core_after_migrations() -> None:
        scripts["waiting"] = subprocess.run([str(START / "wait-for-migrations.sh")], env=script_env(
            **core_env, MIGRATION_WAIT_ATTEMPTS=1), capture_output=True, text=True, timeout=120)
        migrated = subprocess.run([str(START / "migrate.sh")], env=script_env(**core_env), capture_output=True,
                                  text=True, timeout=300)
        assert migrated.returncode == 0, migrated.stderr[-3000:]
        scripts["waited"] = subprocess.run([str(START / "wait-for-migrations.sh")], env=script_env(**core_env),
                                           capture_output=True, text=True, timeout=120)
        start("core")

    # As compose starts them, web and the bot once core is healthy (the bot asks Telegram, the sandbox, who it is as
    # it starts); what does not wait on another starts at once.
    try:
        for chains in ([core_after_migrations, functools.partial(start, "sandbox")],
                       [functools.partial(start, "web"), functools.partial(start, "bot")]):
            with ThreadPoolExecutor(len(chains)) as pool:
                for chain in [pool.submit(chain) for chain in chains]:
                    chain.result()
        yield {"ports": {"core": core_port, "web": web_port, "bot": bot_port}, "processes": processes, **scripts}
    finally:
        for process in reversed(started):
            process.stop()


