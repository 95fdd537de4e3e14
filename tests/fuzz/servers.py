"""Core and web as real processes on loopback ports (tests/e2e/processes.py), with the demo data and the two
identities the fuzzer calls them with: a `fuzz` service key for core, a demo admin's JWT for web.

Two cores, each on its own database: one fuzzed directly, one behind web. Fuzzing core changes users, roles and
grants at random (the demo admin's included), so web's own core must not be that one when both run at once."""

import os
import secrets
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx

from apps.dashboard.keys import generate_private_pem
from tests.e2e.processes import ROOT, Process, core_process, free_port, web_process

# Not `bot` or `web`: those names get least-privilege scopes; a service with no scope configured has full access.
FUZZ_SERVICE = "fuzz"
FUZZ_KEY = "fuzz-" + secrets.token_hex(8)
ADMIN_USERNAME = "admin"  # seed_demo's platform admin (global owner)


@dataclass
class Servers:
    core_url: str  # the core fuzzed directly
    web_url: str
    admin_token: str
    processes: list[Process]

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.stop()


def _core(data_dir: Path) -> tuple[Process, str]:
    data_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    core = core_process(data_dir, port)
    core.env["SERVICE_API_KEYS"] += f",{FUZZ_SERVICE}={FUZZ_KEY}"
    # The test profile's fast password hash: with production's (PBKDF2, about 0.5 s of CPU a check) the fuzzer's
    # hundreds of logins and credential checks would cost minutes and push web's login past its timeout (503).
    core.env["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    core.env["LOGIN_MAX_FAILURES_PER_IP"] = "1000000"  # see web's below
    subprocess.run([sys.executable, "manage.py", "seed_demo"], cwd=ROOT, env={**os.environ, **core.env},
                   check=True, stdout=subprocess.DEVNULL)
    return core, f"http://127.0.0.1:{port}"


def _started_core(data_dir: Path, processes: list[Process]) -> tuple[str, Process]:
    core, url = _core(data_dir)
    processes.append(core)  # before it is up: stopped with the others should the start fail
    core.start(timeout=120)
    return url, core


def start(data_dir: Path) -> Servers:
    processes: list[Process] = []
    try:
        # The two cores are independent: each migrated, seeded and started at once, side by side.
        with ThreadPoolExecutor(2) as pool:
            cores = [pool.submit(_started_core, data_dir / name, processes) for name in ("core", "web-core")]
            (core_url, _), (web_core_url, _) = [core.result() for core in cores]
        password = _admin_password(web_core_url)
        web_port = free_port()
        web = web_process(data_dir / "web-core", web_port, int(web_core_url.rsplit(":", 1)[1]), env={
            "JWT_PRIVATE_KEY": generate_private_pem("EdDSA"),
            # A long run outlives the default 5-minute access token; the fuzzer's own failed logins (random
            # names and passwords, all from 127.0.0.1) must not lock the address out of the login it explores.
            "JWT_ACCESS_TOKEN_SECONDS": "86400",
            "LOGIN_MAX_FAILURES_PER_IP": "1000000",
        })
        processes.append(web.start(timeout=120))
        web_url = f"http://127.0.0.1:{web_port}"
        login = httpx.post(f"{web_url}/api/auth/login", json={"username": ADMIN_USERNAME, "password": password},
                           timeout=10)
        assert login.status_code == 200, login.text
        return Servers(core_url, web_url, login.json()["data"]["access"], processes)
    except BaseException:
        for process in reversed(processes):
            process.stop()
        raise


def _admin_password(core_url: str) -> str:
    """seed_demo prints a generated password once; set a known one through core's own API instead."""
    headers = {"X-API-Key": FUZZ_KEY}
    found = httpx.get(f"{core_url}/api/users", params={"username": ADMIN_USERNAME}, headers=headers, timeout=10)
    assert found.status_code == 200, found.text
    (admin,) = found.json()["data"]["items"]
    password = secrets.token_urlsafe(16)
    changed = httpx.patch(f"{core_url}/api/users/{admin['id']}", json={"password": password}, headers=headers,
                          timeout=10)
    assert changed.status_code == 200, changed.text
    return password
