"""Web benchmarks: the dashboard API's groups list through web (JWT check + core round trip) against core's own
groups list in the same run, and 1,000 WebSocket clients of the live feed on one web instance.

    python -m bench.web [--duration 10] [--connections 32] [--clients 1000] [--rounds 5] [--web-workers 1]

Real processes on loopback: core as deployed (gunicorn, 2 gthread workers of 4 threads, APP_ENV=production, DEBUG off,
SQLite) and web as deployed (APP_ENV=production; uvicorn, or gunicorn with uvicorn workers for --web-workers
above 1), both on this machine, and the floor (bench/floor.py: DRF without middleware, its own gunicorn). (1) wrk
GETs /bench/floor from the floor, then /api/groups?limit=20 from core with the service key (the baseline), then
from web with a bearer token: web verifies the JWT, asks core for the VIEW_GROUPS decision and for the list.
(2) `--clients` WebSocket clients connect to /ws/live (asyncio + websockets, one process);
then, `--rounds` times, one audit event is made in core (a group registered) and the time from that request
until each client has the event is recorded. Missed targets print FAIL.
"""

import argparse
import asyncio
import json
import os
import re
import resource
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from apps.coreclient import CoreClient
from apps.dashboard.keys import generate_private_pem
from bench.run import bench_environment, busy_elsewhere, server_cpu
from tests.e2e.processes import BIN, ROOT, Process, free_port, web_command

SCRIPT = Path(__file__).resolve().parent / "wrk" / "get_headers.lua"
LIST_PATH = "/api/groups?limit=20"
TARGET_WEB_RPS = 500
FLOOR_PATH = "/bench/floor"
TARGET_CORE_TO_FLOOR = 0.35  # issue 17: core's groups list over the floor's requests/s, same run
TARGET_WEB_TO_CORE = 0.85  # issue 17: web's groups list over core's
TARGET_FANOUT_SECONDS = 1.0
PASSWORD = secrets.token_urlsafe(18)  # the benchmark admin's, for its one login


def wrk(url: str, *args: str, duration: int, connections: int) -> dict:
    command = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--timeout", "10s", "-s", str(SCRIPT), url,
               "--", *args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=duration + 60, check=False)
    match = re.search(r"^BENCH_RESULT (\{.*\})$", done.stdout, re.MULTILINE)
    if done.returncode != 0 or not match:
        raise RuntimeError(f"wrk failed: {done.stderr or done.stdout}")
    result = json.loads(match.group(1))
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    result["failed"] = sum(result["errors"].values())
    return result


def raise_fd_limit(needed: int) -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = hard if hard == resource.RLIM_INFINITY else min(hard, max(soft, needed))
    if wanted > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def start_core(tmp: Path, port: int, keys: dict) -> Process:
    env = bench_environment(tmp, port, 2, keys["bench"])
    env["SERVICE_API_KEYS"] = ",".join(f"{name}={key}" for name, key in keys.items())
    env["LOG_LEVEL"] = "WARNING"
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT,
                   env={**os.environ, **env}, check=True)
    return Process("core", [str(BIN / "gunicorn"), "-c", "deploy/gunicorn/conf.py", "config.wsgi"], env,
                   f"http://127.0.0.1:{port}/api/health", tmp).start()


def start_floor(tmp: Path, port: int) -> Process:
    """The floor (bench/floor.py): a DRF view with no middleware and no authentication, served like core."""
    env = bench_environment(tmp, port, 2, "unused")
    env |= {"DJANGO_SETTINGS_MODULE": "bench.floor_settings", "LOG_LEVEL": "WARNING",
            "PROMETHEUS_MULTIPROC_DIR": str(tmp / "prometheus-floor")}
    (tmp / "prometheus-floor").mkdir(exist_ok=True)
    return Process("floor", [str(BIN / "gunicorn"), "-c", "deploy/gunicorn/conf.py", "config.wsgi"], env,
                   f"http://127.0.0.1:{port}/api/health", tmp).start()


def start_web(tmp: Path, port: int, core_port: int, api_key: str, workers: int) -> Process:
    env = {
        "DJANGO_SETTINGS_MODULE": "config.settings.web",
        "APP_ENV": "production",
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "DATA_DIR": str(tmp),
        "CORE_API_URL": f"http://127.0.0.1:{core_port}",
        "CORE_API_KEY": api_key,
        "JWT_PRIVATE_KEY": generate_private_pem("EdDSA"),
        "JWT_ACCESS_TOKEN_SECONDS": "3600",
        "REDIS_URL": "",
        "PORT": str(port),
        "BIND_HOST": "127.0.0.1",
        "WEB_CONCURRENCY": str(workers),
        "LOG_LEVEL": "WARNING",
    }
    return Process("web", web_command(port, workers), env, f"http://127.0.0.1:{port}/api/health", tmp).start()


def seed(api: CoreClient, groups: int) -> dict:
    for number in range(groups):
        api.group_register(telegram_chat_id=-1009000000000 - number, title=f"Bench group {number}", type="supergroup")
    admin = api.user_create(username="bench_web_admin", password=PASSWORD)
    api.assign_role(user_id=admin["id"], role="admin")
    return admin


# -- WebSocket fan-out


class Clients:
    def __init__(self, url: str, token: str, count: int):
        self.url, self.token, self.count = url, token, count
        self.sockets: list = []
        self.arrivals: list[dict[str, float]] = []  # per client: target_id -> arrival time of its group.create
        self.duplicates = 0

    async def connect(self, concurrency: int = 50):
        import websockets

        gate = asyncio.Semaphore(concurrency)

        async def one(index: int):
            async with gate:
                socket = await websockets.connect(self.url, additional_headers={
                    "Cookie": f"dashboard_access={self.token}"}, open_timeout=60, max_queue=None)
                hello = json.loads(await asyncio.wait_for(socket.recv(), 60))
                if hello.get("type") != "hello":
                    raise RuntimeError(f"client {index}: {hello}")
                return socket

        self.sockets = await asyncio.gather(*(one(index) for index in range(self.count)))
        self.arrivals = [{} for _ in self.sockets]
        self.readers = [asyncio.get_running_loop().create_task(self._read(index, socket))
                        for index, socket in enumerate(self.sockets)]

    async def _read(self, index: int, socket):
        import websockets

        seen = self.arrivals[index]
        try:
            async for text in socket:
                now = time.perf_counter()
                if '"group.create"' not in text:
                    continue
                event = json.loads(text)["event"]
                if event["target_id"] in seen:
                    self.duplicates += 1
                else:
                    seen[event["target_id"]] = now
        except websockets.ConnectionClosed:
            pass

    async def close(self):
        await asyncio.gather(*(socket.close() for socket in self.sockets), return_exceptions=True)
        for reader in self.readers:
            reader.cancel()


async def fanout(url: str, token: str, clients: int, rounds: int, api: CoreClient) -> dict:
    group = Clients(url, token, clients)
    started = time.perf_counter()
    await group.connect()
    connect_seconds = time.perf_counter() - started
    await asyncio.sleep(2.0)  # the feed has published the connections' own audit events; the sockets are quiet
    last_client, every_client, missing = [], [], 0
    for number in range(rounds):
        sent = time.perf_counter()
        created = await asyncio.to_thread(api.group_register, telegram_chat_id=-1008000000000 - number,
                                          title=f"Fan-out {number}", type="supergroup")
        deadline = time.perf_counter() + 10
        while time.perf_counter() < deadline and not all(created.id in seen for seen in group.arrivals):
            await asyncio.sleep(0.005)
        latencies = [seen[created.id] - sent for seen in group.arrivals if created.id in seen]
        missing += clients - len(latencies)
        every_client += latencies
        last_client.append(max(latencies) if latencies else float("inf"))
        await asyncio.sleep(1.0)
    await asyncio.sleep(1.0)
    await group.close()
    ordered = sorted(every_client)
    return {
        "clients": clients, "connect_seconds": connect_seconds, "rounds": rounds, "missing": missing,
        "duplicates": group.duplicates, "last_client": last_client,
        "p50": statistics.median(ordered) if ordered else float("inf"),
        "p99": ordered[int(len(ordered) * 0.99) - 1] if ordered else float("inf"),
        "max": ordered[-1] if ordered else float("inf"),
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--groups", type=int, default=50)
    parser.add_argument("--web-workers", type=int, default=1)
    options = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        print("wrk is required: apt-get install wrk", file=sys.stderr)
        return 2
    fd_limit = raise_fd_limit(options.clients * 2 + 512)
    if fd_limit < options.clients + 256:
        print(f"the open-file limit ({fd_limit}) is too low for {options.clients} clients", file=sys.stderr)
        return 2
    busy = busy_elsewhere()
    tmp = Path(tempfile.mkdtemp(prefix="bench-web-"))
    keys = {"bench": secrets.token_urlsafe(24), "web": secrets.token_urlsafe(24)}
    core_port, web_port, floor_port = free_port(), free_port(), free_port()
    processes = []
    try:
        processes.append(start_core(tmp, core_port, keys))
        api = CoreClient(f"http://127.0.0.1:{core_port}", keys["bench"], timeout=30)
        admin = seed(api, options.groups)
        processes.append(start_web(tmp, web_port, core_port, keys["web"], options.web_workers))
        processes.append(start_floor(tmp, floor_port))
        floor_url = f"http://127.0.0.1:{floor_port}"
        web = f"http://127.0.0.1:{web_port}"
        login = httpx.post(f"{web}/api/auth/login", json={"username": admin["username"], "password": PASSWORD},
                           timeout=30)
        login.raise_for_status()
        token = login.json()["data"]["access"]
        bearer, service = f"Authorization: Bearer {token}", f"X-API-Key: {keys['bench']}"
        for base, header in ((web, bearer), (f"http://127.0.0.1:{core_port}", service)):
            name, value = header.split(": ", 1)
            response = httpx.get(f"{base}{LIST_PATH}", headers={name: value}, timeout=10)
            body = response.json() if response.status_code == 200 else {}
            total = body.get("total", body.get("data", {}).get("total") if isinstance(body.get("data"), dict) else 0)
            if response.status_code != 200 or (total or 0) < options.groups:
                raise RuntimeError(f"{base}{LIST_PATH} answered {response.status_code}: {response.text[:300]}")

        core_url = f"http://127.0.0.1:{core_port}"
        print("warming up ...", flush=True)
        wrk(floor_url, FLOOR_PATH, duration=options.warmup, connections=options.connections)
        wrk(core_url, LIST_PATH, service, duration=options.warmup, connections=options.connections)
        wrk(web, LIST_PATH, bearer, duration=options.warmup, connections=options.connections)
        core_pid, web_pid, floor_pid = (process.popen.pid for process in processes)

        def measured(url: str, *header: str, path: str = LIST_PATH) -> dict:
            before = server_cpu(core_pid), server_cpu(web_pid), server_cpu(floor_pid)
            run = wrk(url, path, *header, duration=options.duration, connections=options.connections)
            run["core_cpu_ms"] = (server_cpu(core_pid) - before[0]) * 1000 / max(1, run["requests"])
            run["web_cpu_ms"] = (server_cpu(web_pid) - before[1]) * 1000 / max(1, run["requests"])
            run["floor_cpu_ms"] = (server_cpu(floor_pid) - before[2]) * 1000 / max(1, run["requests"])
            return run

        print("measuring the floor (GET /bench/floor) ...", flush=True)
        floor = measured(floor_url, path=FLOOR_PATH)
        print("measuring core's groups list (baseline) ...", flush=True)
        baseline = measured(core_url, service)
        print("measuring web's groups list ...", flush=True)
        through_web = measured(web, bearer)

        print(f"connecting {options.clients} WebSocket clients ...", flush=True)
        ws_url = f"ws://127.0.0.1:{web_port}/ws/live"
        result = asyncio.run(fanout(ws_url, token, options.clients, options.rounds, api))

        server = "uvicorn, 1 process" if options.web_workers == 1 else \
            f"gunicorn, {options.web_workers} uvicorn workers"
        print(f"\nbusy elsewhere before the run: {busy:.2f} CPUs")
        print(f"web benchmarks (core: gunicorn 2 gthread workers; web: {server}; both APP_ENV=production, DEBUG off,"
              f" on this machine)")
        print(f"wrk: 2 threads, {options.connections} connections, {options.duration} s, GET {LIST_PATH}")
        for label, run in (("floor, DRF without middleware", floor), ("core, service key (baseline)", baseline),
                           ("web, JWT + core round trip", through_web)):
            latency = run["latency_ms"]
            print(f"  {label:32} {run['rps']:8.0f} req/s  p50 {latency['p50']:6.1f} ms  p99 {latency['p99']:6.1f} ms"
                  f"  errors {run['failed']}  CPU ms/request: core {run['core_cpu_ms']:.2f}"
                  f" web {run['web_cpu_ms']:.2f} floor {run['floor_cpu_ms']:.2f}")
        core_ratio, web_ratio = baseline["rps"] / floor["rps"], through_web["rps"] / baseline["rps"]
        print(f"  core / floor ratio {core_ratio:.2f} (target >= {TARGET_CORE_TO_FLOOR}): "
              f"{'PASS' if core_ratio >= TARGET_CORE_TO_FLOOR else 'FAIL'}; web / core ratio {web_ratio:.2f} "
              f"(target >= {TARGET_WEB_TO_CORE}): {'PASS' if web_ratio >= TARGET_WEB_TO_CORE else 'FAIL'}")
        verdict = "PASS" if through_web["rps"] >= TARGET_WEB_RPS and not through_web["failed"] else "FAIL"
        print(f"  web / core ratio {through_web['rps'] / baseline['rps']:.2f};"
              f" target >= {TARGET_WEB_RPS} req/s per web instance: {verdict}")
        last = result["last_client"]
        print(f"live feed: {result['clients']} WebSocket clients on one web instance"
              f" (connected in {result['connect_seconds']:.1f} s), {result['rounds']} events")
        print(f"  event -> client  p50 {result['p50'] * 1000:.0f} ms  p99 {result['p99'] * 1000:.0f} ms"
              f"  max {result['max'] * 1000:.0f} ms;  last client per event: "
              + ", ".join(f"{value * 1000:.0f}" for value in last) + " ms")
        ok = max(last) <= TARGET_FANOUT_SECONDS and not result["missing"] and not result["duplicates"]
        print(f"  missing {result['missing']}, duplicates {result['duplicates']};"
              f" target: every client within {TARGET_FANOUT_SECONDS:.0f} s: {'PASS' if ok else 'FAIL'}")
        return 0
    finally:
        for process in reversed(processes):
            process.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
