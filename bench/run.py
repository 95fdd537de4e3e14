"""`make bench`: wrk against core served as deployed, and against the floor (a bare DRF view) served the same way.

    python -m bench.run [--duration 10] [--warmup 3] [--cache-warmup 40] [--connections 32] [--threads 2]
                        [--workers 2] [--worker-threads 0] [--scale default|large] [--json FILE]

Steps: a temporary data directory; migrate; seed a realistic data set in-process (bench.seed; `--scale large`:
100,000 users, 1,000 groups and 200,000 role assignments inserted in bulk by bench.seed.seed_bulk); gunicorn with
deploy/gunicorn/conf.py, APP_ENV=production, DEBUG off, on a free loopback port; a smoke request per endpoint;
batches covering every check in rotation until throughput stops rising (warm decision caches in every worker), a
short warm-up per scenario; then wrk on (a) POST /bench/floor, the floor (bench/floor.py: a DRF APIView with no
middleware, no authentication, only the JSON parser and renderer, in a second gunicorn with the same settings), (b)
POST /bench/echo, core's bare view (core's middleware, auth and envelope, no work), (c) single permission checks,
(d) batches of 100 checks, and as bounds (not targets) (e) and (f), single checks and batches through the same
parsing and decisions with their audit events left out (bench/views.py). Every figure is also reported as a ratio
to the floor's. Afterwards: the audit trail grew by exactly the checks served (by none for the bounds), a revoke is
honoured by the very next checks in every worker, and `manage.py audit_verify` finds the hash chain intact. CPU
use is read from /proc: the server's per request, and what other processes took meanwhile. Gunicorn is stopped by
PID and the directory removed whatever happens. Missed targets print FAIL; the exit status is non-zero only when the
run itself broke.
"""

import argparse
import json
import os
import random
import re
import resource
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WRK_SCRIPT = Path(__file__).resolve().parent / "wrk" / "post_json.lua"
BATCH_SIZE = 100
POOL_SIZE = 5000  # distinct checks (user, group, permission) the load rotates through
BATCH_BODIES = 300

# The targets (issue 17), as ratios to the floor measured in the same run.
TARGET_RATIO = 0.6  # single check requests/s over the floor's
TARGET_P99_RATIO = 2.0  # single check p99 over the floor's
TARGET_BATCH_CHECKS_PER_S = 40_000


class BenchError(Exception):
    """The run itself broke (not a missed target)."""


@dataclass
class Scenario:
    name: str
    path: str
    bodies: list[str]
    checks_per_request: int
    server: str = "core"  # which gunicorn answers it: "core" or "floor"
    recorded: bool = True  # each check writes its audit event (False: a bound, bench/views.py)

    @property
    def events_per_request(self) -> int:
        return self.checks_per_request if self.recorded else 0


@dataclass
class Result:
    scenario: Scenario
    requests: int
    seconds: float
    errors: dict
    latency_ms: dict
    audit_growth: int
    cpu: dict  # CPU-seconds over the run: server (gunicorn), wrk, other (every other process), wall seconds

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    @property
    def checks_per_s(self) -> float:
        return self.rps * self.scenario.checks_per_request

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    @property
    def server_cpu_ms_per_request(self) -> float:
        return self.cpu["server"] * 1000 / self.requests if self.requests else 0.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# One per bench process: every server it starts signs audit checkpoints that its own audit_verify can check.
_CHECKPOINT_KEY = f"bench:{secrets.token_hex(32)}"


def bench_environment(data_dir: Path, port: int, workers: int, api_key: str) -> dict:
    """Production settings as deployed, minus TLS (loopback) and with the database in the temp directory; the audit
    trail signs its checkpoints as production's must (a key from the environment)."""
    return {
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "APP_ENV": "production",
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": f"sqlite:///{data_dir / 'core.sqlite3'}",
        "DATA_DIR": str(data_dir),
        "SERVICE_API_KEYS": f"bench={api_key}",
        "AUDIT_CHECKPOINT_KEYS": _CHECKPOINT_KEY,
        "PORT": str(port),
        "BIND_HOST": "127.0.0.1",
        "WEB_CONCURRENCY": str(workers),
        "REDIS_URL": "",
    }


def post(url: str, api_key: str, body: dict, timeout: float = 10) -> dict:
    request = urllib.request.Request(  # noqa: S310 (a loopback URL we built)
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Accept": "application/json", "X-API-Key": api_key},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (a loopback URL we built)
            return json.loads(response.read())
    except urllib.error.HTTPError as exc:
        raise BenchError(f"POST {url} answered {exc.code}: {exc.read()[:500]!r}") from None


def start_gunicorn(env: dict, log_path: Path) -> subprocess.Popen:
    with log_path.open("wb") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn/conf.py", "config.wsgi"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )


def wait_healthy(base: str, process: subprocess.Popen, deadline: float) -> None:
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BenchError(f"gunicorn exited with status {process.returncode} before becoming healthy")
        try:
            with urllib.request.urlopen(f"{base}/api/health", timeout=1) as response:  # noqa: S310
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise BenchError("gunicorn did not become healthy within 30 s")


def lua_data_file(path: Path, scenario: Scenario, api_key: str) -> Path:
    def long_string(text: str) -> str:
        if "]==]" in text:
            raise BenchError("body cannot be quoted as a Lua long string")
        return f"[==[{text}]==]"

    lines = [
        "return {",
        f"  path = {long_string(scenario.path)},",
        f"  api_key = {long_string(api_key)},",
        "  bodies = {",
        *(f"    {long_string(body)}," for body in scenario.bodies),
        "  },",
        "}",
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def run_wrk(base: str, data_file: Path, *, duration: float, connections: int, threads: int) -> dict:
    command = [
        "wrk", f"-t{threads}", f"-c{connections}", f"-d{max(1, round(duration))}s", "--timeout", "10s",
        "-s", str(WRK_SCRIPT), base, "--", str(data_file),
    ]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=duration + 60, check=False)
    if completed.returncode != 0:
        raise BenchError(f"wrk failed ({completed.returncode}): {completed.stderr.strip() or completed.stdout}")
    match = re.search(r"^BENCH_RESULT (\{.*\})$", completed.stdout, re.MULTILINE)
    if not match:
        raise BenchError(f"wrk printed no result line:\n{completed.stdout}\n{completed.stderr}")
    return json.loads(match.group(1))


_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _process_cpu(pid: int) -> tuple[int, float]:
    """(parent pid, user + system CPU-seconds) of a process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / _TICKS


def server_cpu(master: int) -> float:
    """CPU-seconds used so far by the gunicorn master and its workers."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent, seconds = _process_cpu(int(entry.name))
        except (OSError, ValueError, IndexError):
            continue
        if int(entry.name) == master or parent == master:
            total += seconds
    return total


def machine_busy() -> float:
    """CPU-seconds the whole machine has been busy (all CPUs), from /proc/stat."""
    user, nice, system, _idle, _iowait, irq, softirq, steal = (
        int(value) for value in Path("/proc/stat").read_text().splitlines()[0].split()[1:9]
    )
    return (user + nice + system + irq + softirq + steal) / _TICKS


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def worker_pids(master: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if _process_cpu(int(entry.name))[0] == master:
                    pids.append(int(entry.name))
            except (OSError, ValueError, IndexError):
                continue
    return pids


def start_py_spy(directory: Path, name: str, master: int, duration: float) -> list[subprocess.Popen]:
    """py-spy sampling every worker of `master` for `duration` s, as collapsed stacks (bench.stacks reads them)."""
    return [
        subprocess.Popen([str(Path(sys.executable).parent / "py-spy"), "record", "--nonblocking", "--format", "raw",
                          "--rate", "200", "--duration", str(max(1, round(duration))), "--pid", str(pid),
                          "--output", str(directory / f"{name}-{pid}.txt")],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for pid in worker_pids(master)
    ]


def cpu_sample(master: int) -> dict:
    return {"server": server_cpu(master), "wrk": children_cpu(), "machine": machine_busy(), "wall": time.monotonic()}


def cpu_used(before: dict, after: dict) -> dict:
    server, wrk = after["server"] - before["server"], after["wrk"] - before["wrk"]
    other = max(0.0, after["machine"] - before["machine"] - server - wrk)
    return {"server": server, "wrk": wrk, "other": other, "wall": after["wall"] - before["wall"]}


def busy_elsewhere(seconds: float = 2.0) -> float:
    """CPUs kept busy by other processes, averaged over `seconds` before the benchmark starts."""
    start, started = machine_busy(), time.monotonic()
    time.sleep(seconds)
    return (machine_busy() - start) / (time.monotonic() - started)


def audit_count() -> int:
    from django.db import connections

    from apps.audit.models import AuditEvent

    count = AuditEvent.objects.count()
    connections.close_all()
    return count


def settled_audit_count(timeout: float = 60, quiet: float = 2.0) -> int:
    """The audit count once the requests still in flight after wrk stopped are done (unchanged for `quiet` s: on a
    busy machine a backlog of batches can pause for a moment and then write again)."""
    previous, since = audit_count(), time.monotonic()
    deadline = since + timeout
    while time.monotonic() < deadline:
        time.sleep(0.5)
        current = audit_count()
        if current != previous:
            previous, since = current, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return current
    raise BenchError("the audit trail kept growing after the load stopped")


def machine() -> dict:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpus": os.cpu_count(), "cpu_model": model}


def smoke(bases: dict[str, str], api_key: str, scenarios: list[Scenario]) -> None:
    """One request per endpoint, checked for the envelope (the floor: its bare payload), before any load."""
    for scenario in scenarios:
        body = post(bases[scenario.server] + scenario.path, api_key, json.loads(scenario.bodies[0]))
        if scenario.server == "floor":
            if set(body) != {"allowed", "reason"}:
                raise BenchError(f"{scenario.name}: unexpected answer {body}")
            continue
        if body.get("success") is not True:
            raise BenchError(f"{scenario.name}: unexpected answer {body}")
        data = body["data"]
        if scenario.checks_per_request > 1:
            if len(data.get("results", [])) != scenario.checks_per_request:
                raise BenchError(f"{scenario.name}: expected {scenario.checks_per_request} results, got {data}")
        elif "allowed" not in data:
            raise BenchError(f"{scenario.name}: unexpected answer {data}")


def revoke_sanity(base: str, api_key: str, workers: int) -> str:
    """A grant, then its revoke: every following check, on fresh connections spread over the workers, is denied."""
    from django.db import connections

    from apps.rbac.models import RoleAssignment

    global_holders = RoleAssignment.objects.filter(group__isnull=True).values_list("user_id", flat=True)
    assignment = (
        RoleAssignment.objects.filter(role__name="moderator", revoked_at__isnull=True, user__is_active=True,
                                      group__isnull=False)
        .exclude(user_id__in=global_holders)
        .order_by("pk")
        .first()
    )
    user_pk, group_pk, assignment_pk = assignment.user_id, assignment.group_id, assignment.pk
    connections.close_all()
    query = {"user_id": str(user_pk), "permission": "BAN_USERS", "group_id": str(group_pk)}
    before = post(f"{base}/api/rbac/check-permission", api_key, query)["data"]
    if before != {"allowed": True, "reason": "granted_by_role:moderator"}:
        raise BenchError(f"revoke sanity: the moderator was not allowed before the revoke: {before}")
    post(f"{base}/api/rbac/assignments/{assignment_pk}/revoke", api_key, {"reason": "bench revoke sanity"})
    after = [post(f"{base}/api/rbac/check-permission", api_key, query)["data"] for _ in range(10 * workers)]
    allowed = [decision for decision in after if decision["allowed"]]
    if allowed:
        raise BenchError(f"revoke sanity: {len(allowed)} checks after the revoke were still allowed: {allowed[0]}")
    return f"allowed before ({before['reason']}), {len(after)} checks after the revoke all answered {after[0]}"


def _ratio(value: float, floor: float) -> float:
    return value / floor if floor else 0.0


def print_report(results: dict[str, Result], context: dict) -> dict:
    floor, bare, single, batch = results["floor"], results["bare"], results["single"], results["batch"]
    ratio = _ratio(single.rps, floor.rps)
    p99_ratio = _ratio(single.latency_ms["p99"], floor.latency_ms["p99"])
    verdicts = {
        "single_ratio": ratio >= TARGET_RATIO,
        "single_p99_ratio": p99_ratio <= TARGET_P99_RATIO,
        "batch_checks": batch.checks_per_s >= TARGET_BATCH_CHECKS_PER_S,
    }

    def verdict(ok: bool) -> str:
        return "PASS" if ok else "FAIL"

    machine_info = context["machine"]
    print()
    kind = f"gthread, {context['worker_threads']} threads each" if context["worker_threads"] else "sync"
    print(f"core under gunicorn: {context['workers']} workers ({kind}), DEBUG off, APP_ENV=production, SQLite (WAL), "
          f"locmem cache, audit on; the floor: a second gunicorn, same settings, bench.floor_settings")
    print(f"wrk: {context['threads']} threads, {context['connections']} connections, {context['duration']:.0f} s "
          f"per scenario, after warming the decision caches and {context['warmup']:.0f} s per scenario")
    print(f"machine: {machine_info['cpus']} CPUs, {machine_info['cpu_model']}; busy elsewhere before the run: "
          f"{context['busy_before']:.2f} CPUs; load average {context['load']}")
    print(f"data: {context['data']}")
    print()
    header = (f"{'scenario':<36}{'req/s':>9}{'checks/s':>10}{'p50 ms':>8}{'p99 ms':>8}{'x floor':>8}"
              f"{'p99 x fl':>9}{'errors':>7}{'CPU ms/req':>11}{'other CPUs':>11}")
    print(header)
    print("-" * len(header))
    for label, result in (("floor: DRF, no middleware  /floor", floor),
                          ("core's bare view   /bench/echo", bare),
                          ("single check   check-permission", single),
                          ("batch of 100   check-permissions", batch),
                          ("bound: single, no audit event", results["single unrecorded"]),
                          ("bound: batch, no audit events", results["batch unrecorded"])):
        checks = f"{result.checks_per_s:,.0f}" if result.scenario.checks_per_request else "-"
        latency = result.latency_ms
        other = result.cpu["other"] / result.cpu["wall"] if result.cpu["wall"] else 0.0
        print(f"{label:<36}{result.rps:>9,.0f}{checks:>10}{latency['p50']:>8.1f}{latency['p99']:>8.1f}"
              f"{_ratio(result.rps, floor.rps):>8.2f}{_ratio(latency['p99'], floor.latency_ms['p99']):>9.2f}"
              f"{result.error_count:>7}{result.server_cpu_ms_per_request:>11.3f}{other:>11.2f}")
    print()
    print("targets (issue 17)")
    rows = [
        ("single/floor requests/s", f"{ratio:.2f}", f">= {TARGET_RATIO}", verdicts["single_ratio"]),
        ("single/floor p99", f"{p99_ratio:.2f}", f"<= {TARGET_P99_RATIO:.0f}", verdicts["single_p99_ratio"]),
        ("batch checks/s", f"{batch.checks_per_s:,.0f}", f">= {TARGET_BATCH_CHECKS_PER_S:,}", verdicts["batch_checks"]),
    ]
    for name, value, target, ok in rows:
        print(f"  {name:<30}{value:>12}   ({target}){'':<4}{verdict(ok)}")
    unrecorded_single, unrecorded_batch = results["single unrecorded"], results["batch unrecorded"]
    print("bounds (not targets): the same views, parsing and decisions with the audit events left out, which no "
          "design of the trail can beat")
    print(f"  {'single unrecorded/floor':<30}{_ratio(unrecorded_single.rps, floor.rps):>12.2f}   "
          f"p99 x floor {_ratio(unrecorded_single.latency_ms['p99'], floor.latency_ms['p99']):.2f}")
    print(f"  {'batch unrecorded checks/s':<30}{unrecorded_batch.checks_per_s:>12,.0f}")
    # Not a target: what the ratio would be if both scenarios had the same CPUs to themselves. Other processes'
    # load moves requests/s from one scenario to the next; the server's CPU per request moves much less.
    cpu_ratio = _ratio(floor.server_cpu_ms_per_request, single.server_cpu_ms_per_request)
    print(f"  {'single/floor server CPU ratio':<30}{cpu_ratio:>12.2f}   (the floor's CPU per request over a single "
          f"check's: about the ratio if each server had CPUs of its own)")
    if context["busy_before"] > 0.25 or max(r.cpu["other"] / (r.cpu["wall"] or 1) for r in results.values()) > 0.25:
        print("  note: other processes kept CPUs busy during the run; these figures understate an idle machine")
    print()
    print("sanity")
    for line in context["sanity"]:
        print(f"  {line}")
    return {
        "command": "make bench",
        "machine": machine_info,
        "busy_elsewhere_before_cpus": round(context["busy_before"], 2),
        "load_average": context["load"],
        "settings": {key: context[key] for key in ("workers", "worker_threads", "threads", "connections", "duration",
                                                   "warmup", "scale")},
        "data": context["data"],
        "results": {
            name: {"requests_per_s": round(result.rps, 1), "checks_per_s": round(result.checks_per_s, 1),
                   "requests": result.requests, "errors": result.errors, "latency_ms": result.latency_ms,
                   "audit_growth": result.audit_growth,
                   "ratio_to_floor": round(_ratio(result.rps, floor.rps), 3),
                   "p99_ratio_to_floor": round(_ratio(result.latency_ms["p99"], floor.latency_ms["p99"]), 3),
                   "server_cpu_ms_per_request": round(result.server_cpu_ms_per_request, 3),
                   "cpu_seconds": {key: round(value, 2) for key, value in result.cpu.items()}}
            for name, result in results.items()
        },
        "ratio_single_to_floor": round(ratio, 3),
        "p99_ratio_single_to_floor": round(p99_ratio, 3),
        "cpu_ratio_single_to_floor": round(cpu_ratio, 3),
        "verdicts": {name: verdict(ok) for name, ok in verdicts.items()},
        "sanity": context["sanity"],
    }


def warm_caches(base: str, data_file: Path, limit: float, wrk_options: dict) -> None:
    """Sends the whole check pool, in batches, until throughput stops rising (every worker's decision cache is
    then as warm as in steady state), or for `limit` seconds."""
    previous, spent, sweep = 0.0, 0.0, 5.0
    while spent < limit:
        raw = run_wrk(base, data_file, duration=sweep, **wrk_options)
        spent += sweep
        rate = raw["requests"] * BATCH_SIZE / (raw["duration_us"] / 1e6)
        print(f"warm-up: decision caches, {rate:,.0f} checks/s", flush=True)
        if previous and rate and rate < previous * 1.1:
            return
        previous = rate


def check_audit_growth(result: Result, connections: int) -> str:
    """Every served check wrote one event. wrk drops the answers still in flight when time is up, so the
    server may have served (and audited) up to one request per connection more than wrk counted."""
    per_request = result.scenario.events_per_request
    low = result.requests * per_request
    high = (result.requests + connections) * per_request
    if result.error_count:
        raise BenchError(f"{result.scenario.name}: wrk saw errors {result.errors}")
    if not low <= result.audit_growth <= high:
        raise BenchError(f"{result.scenario.name}: audit trail grew by {result.audit_growth}, "
                         f"expected {low}..{high} for {result.requests} requests")
    return (f"{result.scenario.name}: {result.requests:,} requests answered by wrk, audit trail +"
            f"{result.audit_growth:,} events (expected {low:,}..{high:,})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10, help="seconds of load per scenario (default 10)")
    parser.add_argument("--warmup", type=float, default=3, help="seconds of warm-up per scenario (default 3)")
    parser.add_argument("--cache-warmup", type=float, default=40,
                        help="at most this many seconds of batches covering the whole check pool, sent until "
                             "throughput stops rising (default 40)")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2, as deployed)")
    parser.add_argument("--worker-threads", type=int, default=4,
                        help="N: gthread workers with N threads each (default 4, as deployed), whose concurrent "
                             "checks share audit commits; 0: gunicorn's sync workers")
    parser.add_argument("--scale", choices=("default", "large"), default="default",
                        help="default: 1,000 users seeded through the services; large: 100,000 users, 1,000 groups "
                             "and 200,000 role assignments inserted in bulk")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--py-spy", type=Path, metavar="DIR",
                        help="sample every worker with py-spy while each scenario is measured; collapsed stacks "
                             "go to DIR/<scenario>-<pid>.txt (summarise them with python -m bench.stacks)")
    args = parser.parse_args(argv)

    if shutil.which("wrk") is None:
        print("wrk is not installed. Install it (Debian/Ubuntu: `sudo apt-get install -y wrk`, macOS: "
              "`brew install wrk`) and run `make bench` again.", file=sys.stderr)
        return 2

    busy_before = busy_elsewhere()
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    data_dir = Path(tempfile.mkdtemp(prefix="tgmod-bench-"))
    gunicorn: subprocess.Popen | None = None
    floor_gunicorn: subprocess.Popen | None = None
    log_path, floor_log_path = data_dir / "gunicorn.log", data_dir / "gunicorn-floor.log"
    try:
        port = free_port()
        api_key = secrets.token_urlsafe(32)
        env = bench_environment(data_dir, port, args.workers, api_key)
        if args.worker_threads:
            env |= {"GUNICORN_WORKER_CLASS": "gthread", "GUNICORN_THREADS": str(args.worker_threads)}
        else:
            env |= {"GUNICORN_WORKER_CLASS": "sync"}
        os.environ.update(env)
        sys.path.insert(0, str(ROOT))

        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connections

        from bench.seed import check_queries, seed, seed_bulk

        started = time.monotonic()
        call_command("migrate", interactive=False, verbosity=0)
        seeded = seed_bulk() if args.scale == "large" else seed()
        seed_seconds = time.monotonic() - started
        data_summary = (f"{len(seeded.users):,} users, {len(seeded.groups):,} groups, {seeded.memberships:,} "
                        f"memberships, {seeded.assignments:,} role assignments (migrate + seed {seed_seconds:.1f} s), "
                        f"{POOL_SIZE:,} distinct checks in rotation")
        print(f"seeded: {data_summary}", flush=True)

        # One pool of distinct checks feeds every scenario, so a warm-up that sends the whole pool to every
        # worker leaves the decision caches as they are in steady state (most asked-about pairs cached).
        pool = check_queries(seeded, POOL_SIZE)
        singles = [json.dumps(query) for query in pool]
        sampler = random.Random(11)
        batches = [json.dumps({"checks": sampler.sample(pool, BATCH_SIZE)}) for _ in range(BATCH_BODIES)]
        covering = [json.dumps({"checks": pool[i:i + BATCH_SIZE]}) for i in range(0, len(pool), BATCH_SIZE)]
        cache_warmup = Scenario("cache warm-up", "/api/rbac/check-permissions", covering, BATCH_SIZE)
        data_files = {"warm": lua_data_file(data_dir / "warm.lua", cache_warmup, api_key)}
        scenarios = [
            Scenario("floor", "/bench/floor", singles, 0, server="floor"),
            Scenario("bare", "/bench/echo", singles, 0),
            Scenario("single", "/api/rbac/check-permission", singles, 1),
            Scenario("batch", "/api/rbac/check-permissions", batches, BATCH_SIZE),
            Scenario("single unrecorded", "/bench/check-unrecorded", singles, 1, recorded=False),
            Scenario("batch unrecorded", "/bench/check-many-unrecorded", batches, BATCH_SIZE, recorded=False),
        ]
        data_files |= {s.name: lua_data_file(data_dir / f"{s.name.replace(' ', '-')}.lua", s, api_key)
                       for s in scenarios}
        connections.close_all()

        base = f"http://127.0.0.1:{port}"
        server_env = {**os.environ, **env, "PROMETHEUS_MULTIPROC_DIR": str(data_dir / "prometheus")}
        (data_dir / "prometheus").mkdir()
        gunicorn = start_gunicorn(server_env, log_path)
        floor_port = free_port()
        floor_env = {**server_env, "DJANGO_SETTINGS_MODULE": "bench.floor_settings", "PORT": str(floor_port),
                     "PROMETHEUS_MULTIPROC_DIR": str(data_dir / "prometheus-floor")}
        (data_dir / "prometheus-floor").mkdir()
        floor_gunicorn = start_gunicorn(floor_env, floor_log_path)
        bases = {"core": base, "floor": f"http://127.0.0.1:{floor_port}"}
        masters = {"core": gunicorn, "floor": floor_gunicorn}
        wait_healthy(base, gunicorn, time.monotonic() + 30)
        wait_healthy(bases["floor"], floor_gunicorn, time.monotonic() + 30)
        smoke(bases, api_key, scenarios)

        wrk_options = {"connections": args.connections, "threads": args.threads}
        warm_caches(base, data_files["warm"], args.cache_warmup, wrk_options)
        for scenario in reversed(scenarios):  # the floor last: core drains what the others left queued meanwhile
            print(f"warm-up: {scenario.name} ({args.warmup:.0f} s)", flush=True)
            run_wrk(bases[scenario.server], data_files[scenario.name], duration=args.warmup, **wrk_options)

        results: dict[str, Result] = {}
        for scenario in scenarios:
            print(f"measuring: {scenario.name} ({args.duration:.0f} s)", flush=True)
            before = settled_audit_count()
            master = masters[scenario.server].pid
            spies = start_py_spy(args.py_spy, scenario.name, master, args.duration) if args.py_spy else []
            cpu_before = cpu_sample(master)
            raw = run_wrk(bases[scenario.server], data_files[scenario.name], duration=args.duration, **wrk_options)
            cpu = cpu_used(cpu_before, cpu_sample(master))
            for spy in spies:
                spy.wait(timeout=60)
            results[scenario.name] = Result(
                scenario=scenario, requests=raw["requests"], seconds=raw["duration_us"] / 1e6,
                errors=raw["errors"], latency_ms=raw["latency_ms"], audit_growth=settled_audit_count() - before,
                cpu=cpu,
            )
            for name, process in masters.items():
                if process.poll() is not None:
                    raise BenchError(f"{name}'s gunicorn exited with status {process.returncode} during the run")

        sanity = []
        for scenario in scenarios:
            name = scenario.name
            if scenario.server != "core":
                continue
            if scenario.events_per_request:
                sanity.append(check_audit_growth(results[name], args.connections))
            elif results[name].audit_growth or results[name].error_count:
                raise BenchError(f"{name}: audit grew by {results[name].audit_growth}, errors {results[name].errors}")
            else:
                sanity.append(f"{name}: {results[name].requests:,} requests, no audit events written, no errors")
        if results["floor"].error_count:  # its own server: core's audit count is not its business
            raise BenchError(f"floor: wrk saw errors {results['floor'].errors}")
        sanity.append("revoke: " + revoke_sanity(base, api_key, args.workers))

        stop(floor_gunicorn)
        stop(gunicorn)
        verified = subprocess.run(
            [sys.executable, "manage.py", "audit_verify"], cwd=ROOT, env=server_env, capture_output=True, text=True,
            check=False,
        )
        if verified.returncode != 0:
            raise BenchError(f"audit_verify failed: {verified.stderr.strip() or verified.stdout.strip()}")
        sanity.append("audit_verify: " + verified.stdout.strip())

        context = {"workers": args.workers, "threads": args.threads, "connections": args.connections,
                   "duration": args.duration, "warmup": args.warmup, "machine": machine(), "data": data_summary,
                   "sanity": sanity, "busy_before": busy_before, "scale": args.scale,
                   "worker_threads": args.worker_threads, "load": load}
        report = print_report(results, context)
        if args.json:
            args.json.write_text(json.dumps(report, indent=2) + "\n")
        return 0
    except BenchError as exc:
        print(f"\nbench run failed: {exc}", file=sys.stderr)
        if log_path.exists():
            tail = log_path.read_text(errors="replace").splitlines()[-30:]
            print("last lines of the gunicorn log:\n  " + "\n  ".join(tail), file=sys.stderr)
        return 1
    finally:
        for process in (floor_gunicorn, gunicorn):
            if process is not None:
                stop(process)
        remove_data_dir(data_dir)


def remove_data_dir(path: Path) -> None:
    """Removes a bench's database directory, after signing the audit trail's streams this process appended to
    (seeding): otherwise its shutdown checkpoint finds the database gone and logs a warning with a traceback."""
    if "apps.audit.services" in sys.modules:
        from django.db import connections

        from apps.audit.services import audit_checkpoint_now

        audit_checkpoint_now()
        connections.close_all()
    shutil.rmtree(path, ignore_errors=True)


def stop(process: subprocess.Popen) -> None:
    """SIGTERM to the gunicorn master (by PID): it stops its workers; SIGKILL if it does not within 15 s."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


if __name__ == "__main__":
    sys.exit(main())
