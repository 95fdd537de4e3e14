"""Audit appends under contention: several core processes (gunicorn, as deployed) on one database, many clients
mixing permission checks (two thirds) and audited writes (user updates, one third). Reports requests, 5xx and
whether `audit_verify` passes afterwards (every stream, every signed checkpoint).

    python -m bench.audit_contention --profile sqlite --processes 4 --clients 32 --seconds 60
    python -m bench.audit_contention --profile mongo  --processes 4 --clients 32 --seconds 60   # SecantusDB

The issue's figure before writer streams (one chain, head + 1): two core processes on the Mongo-wire test server,
16 clients, 20 s: 267 of 574 requests answered 500. tests/audit/test_contention.py runs a short version.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


def _verify(core, database_url) -> subprocess.CompletedProcess:
    launcher = [sys.executable, "-m", "tests.e2e.federations", "manage"] if database_url else [
        sys.executable, "manage.py"]
    return subprocess.run([*launcher, "audit_verify"], cwd=ROOT, env={**os.environ, **core.env}, capture_output=True,
                          text=True, timeout=600)


def _client(base: str, key: str, user: str, stop: float, number: int, tally: Counter, lock) -> None:
    """Checks about `user`, and updates of `user` (its own: the contention measured is the trail's, not two clients
    writing one user document), each update a real change, so every answered request is one audit event."""
    local = Counter()
    with httpx.Client(base_url=base, headers={"X-API-Key": key}, timeout=30) as http:
        turn = number
        while time.monotonic() < stop:
            turn += 1
            try:
                if turn % 3 == 2:
                    response = http.patch(f"/api/users/{user}", json={"display_name": f"client {number} #{turn}"})
                    kind = "write"
                else:
                    response = http.post("/api/rbac/check-permission", json={"user_id": user,
                                                                             "permission": "BAN_USERS"})
                    kind = "check"
            except httpx.HTTPError as exc:
                local[f"transport:{type(exc).__name__}"] += 1
                continue
            local[kind] += 1
            local[f"status:{response.status_code // 100}xx"] += 1
            local[f"{kind}:{response.status_code}"] += 1
            if response.status_code >= 500:
                local[f"5xx:{response.text[:80]}"] += 1
    with lock:
        tally.update(local)


def contend(*, profile: str, processes: int, clients: int, seconds: float, data_dir: Path) -> dict:
    """Runs the load and returns the figures (and `verified`, `verify_output`)."""
    from tests.e2e.federations import TEST_KEY, core_process, database, free_port

    with database(profile, data_dir) as database_url:
        cores = [core_process(data_dir, free_port(), database_url) for _ in range(processes)]  # all made, then run
        for number, core in enumerate(cores):
            core.log_path = data_dir / f"core-{number}.log"
        started = []
        try:
            for core in cores:
                started.append(core.start(timeout=90))
            first = f"http://127.0.0.1:{cores[0].env['PORT']}"
            users = []
            with httpx.Client(base_url=first, headers={"X-API-Key": TEST_KEY}, timeout=30) as http:
                for number in range(clients):
                    created = http.post("/api/users", json={"username": f"contender{number}"})
                    created.raise_for_status()
                    users.append(created.json()["data"]["id"])
            tally, lock = Counter(), threading.Lock()
            stop = time.monotonic() + seconds
            threads = [threading.Thread(target=_client, args=(f"http://127.0.0.1:{cores[n % processes].env['PORT']}",
                                                              TEST_KEY, users[n], stop, n, tally, lock))
                       for n in range(clients)]
            began = time.monotonic()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            elapsed = time.monotonic() - began
        finally:
            for core in started:
                core.stop()  # SIGTERM: each worker signs its streams' heads on the way out
        verified = _verify(cores[0], database_url)
    requests = tally["check"] + tally["write"]
    verified_count = re.search(r"(\d+) events verified", verified.stdout)
    return {"profile": profile, "processes": processes, "clients": clients, "seconds": round(elapsed, 1),
            "requests": requests, "checks": tally["check"], "writes": tally["write"],
            "requests_per_second": round(requests / elapsed, 1), "5xx": tally["status:5xx"],
            "expected_events": tally["check:200"] + tally["write:200"] + len(users),
            "transport_errors": sum(v for k, v in tally.items() if k.startswith("transport:")),
            "statuses": {k: v for k, v in sorted(tally.items()) if k.startswith(("check:", "write:"))},
            "errors": {k: v for k, v in tally.items() if k.startswith(("5xx:", "transport:"))},
            "verified": verified.returncode == 0, "events": int(verified_count.group(1)) if verified_count else None,
            "verify_output": (verified.stdout + verified.stderr).strip()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", choices=["sqlite", "mongo"], default="sqlite")
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=60)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="audit-contention-") as scratch:
        figures = contend(profile=args.profile, processes=args.processes, clients=args.clients,
                          seconds=args.seconds, data_dir=Path(scratch))
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
