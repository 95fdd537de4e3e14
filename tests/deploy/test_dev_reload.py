"""The development workflow of compose.yaml without Docker: deploy/start/dev.sh, the command each development
container runs, started for real on loopback from a copy of the code (as the bind mounts give it to a container):
core migrates, loads the demo data and serves; the bot (against the Telegram sandbox) and web serve; then one edit
to a settings file and every role serves the changed code without a restart."""

import os
import re
import shutil
import signal
import subprocess
import time

import httpx
import pytest
import yaml

from tests.e2e.processes import free_port

from .conftest import script_env
from .tools import ROOT

# What compose.yaml mounts into each container (its x-app anchor's volumes: ./<path>:/app/<path>).
MOUNTED = tuple(volume.split(":")[0].removeprefix("./")
                for volume in yaml.safe_load((ROOT / "compose.yaml").read_text())["x-app"]["volumes"])


class DevRole:
    def __init__(self, root, role: str, port: int, env: dict, log_dir):
        self.role, self.port = role, port
        self.log_path = log_dir / f"dev-{role}.log"
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen([str(root / "deploy/start/dev.sh"), role], cwd=root,
                                            env=script_env(PORT=port, BIND_HOST="127.0.0.1", **env), stdout=log,
                                            stderr=subprocess.STDOUT, start_new_session=True)

    def version(self) -> str | None:
        try:
            body = httpx.get(f"http://127.0.0.1:{self.port}/api/health", timeout=2).text
        except httpx.HTTPError:
            return None
        match = re.search(r'"version"\s*:\s*"([^"]+)"', body)
        return match.group(1) if match else None

    def wait_for_version(self, expected: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"{self.role} exited:\n{self.log_tail()}"
            if self.version() == expected:
                return
            time.sleep(0.3)
        raise AssertionError(f"{self.role} never served version {expected}:\n{self.log_tail()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()

    def log_tail(self) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-40:])


@pytest.fixture(scope="module")
def dev_world(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("dev-world")
    code = tmp / "code"
    for name in MOUNTED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, code / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, code / name)
    ports = {role: free_port() for role in ("core", "bot", "web", "sandbox")}
    common = {"APP_ENV": "development", "LOG_LEVEL": "WARNING", "LOG_FORMAT": "console",
              "PYTHONDONTWRITEBYTECODE": "1"}
    # The wiring of compose.yaml, with loopback ports for the service names.
    env = {
        "core": {**common, "DATA_DIR": tmp / "core", "SERVICE_API_KEYS": "dev=dev-service-key,bot=dev-bot-key,"
                                                                        "web=dev-web-key"},
        "sandbox": {**common, "SANDBOX_WEBHOOK_URL": f"http://127.0.0.1:{ports['bot']}/telegram/webhook",
                    "SANDBOX_WEBHOOK_SECRET": "dev-webhook-secret"},
        "bot": {**common, "DATA_DIR": tmp / "bot", "CORE_API_URL": f"http://127.0.0.1:{ports['core']}",
                "CORE_API_KEY": "dev-bot-key", "TELEGRAM_WEBHOOK_SECRET": "dev-webhook-secret",
                "TELEGRAM_API_BASE_URL": f"http://127.0.0.1:{ports['sandbox']}/bot"},
        "web": {**common, "DATA_DIR": tmp / "web", "CORE_API_URL": f"http://127.0.0.1:{ports['core']}",
                "CORE_API_KEY": "dev-web-key"},
    }
    roles = {}
    try:
        for role in ("core", "sandbox", "bot", "web"):
            roles[role] = DevRole(code, role, ports[role], env[role], tmp)
        yield code, roles
    finally:
        for role in reversed(list(roles.values())):
            role.stop()


def test_every_role_serves_the_mounted_code_and_reloads_it_when_edited(dev_world):
    code, roles = dev_world
    servers = {role: process for role, process in roles.items() if role != "sandbox"}
    settings = code / "config" / "settings" / "base.py"
    version = re.search(r'^VERSION = "([^"]+)"$', settings.read_text(), re.M).group(1)
    # Core migrates and loads the demo data first.
    servers["core"].wait_for_version(version, timeout=240)
    for role in ("bot", "web"):
        servers[role].wait_for_version(version, timeout=90)
    assert httpx.get(f"http://127.0.0.1:{roles['sandbox'].port}/sandbox", timeout=5).status_code == 200

    edited = f"{version}+edited"
    settings.write_text(settings.read_text().replace(f'VERSION = "{version}"', f'VERSION = "{edited}"'))
    for role, process in servers.items():
        process.wait_for_version(edited, timeout=90)
        assert process.process.poll() is None, role
