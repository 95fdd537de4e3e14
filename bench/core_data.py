"""Core's data benchmarks: event ingest, and the member list of a 100,000-member group.

    python -m bench.core_data [--seconds 10] [--members 100000]

Ingest: core served as deployed (gunicorn, 2 workers, DEBUG off, SQLite), 4 client threads posting fresh
batches of 500 events (unique event ids, 200 senders, messages mostly) to POST /api/events/batch for
`--seconds`; the same bodies to the bare DRF view (POST /bench/echo) in the same run as the baseline. The
figure is events core stored per second (read back from the database, duplicates excluded).
Member list: a group with `--members` memberships, seeded in bulk; pages 1, the middle and the last page of
GET /api/groups/{id}/members at limit 200, timed inside the server process (Django test client, no network),
best of 5 per page.
"""

import argparse
import itertools
import json
import logging
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from bench.run import ROOT, bench_environment, cpu_sample, cpu_used, free_port, remove_data_dir, wait_healthy

TARGET_EVENTS_PER_S = 20_000
TARGET_PAGE_MS = 50.0
BATCH = 500


def event_batches(chat_id: int, start: int):
    """Endless fresh batches: every event id is new."""
    number = start
    moment = datetime.now(UTC) - timedelta(minutes=30)
    while True:
        events = []
        for _ in range(BATCH):
            number += 1
            events.append({"event_id": f"bench-{number}", "type": "message" if number % 50 else "join",
                           "telegram_chat_id": chat_id, "telegram_user_id": 4_000_000 + number % 200,
                           "occurred_at": (moment + timedelta(milliseconds=number % 600_000)).isoformat()})
        yield json.dumps({"events": events})


def hammer(url: str, api_key: str, bodies_for_thread, seconds: float, threads: int = 4,
           prepared: int = 0) -> tuple[int, float]:
    """Posts fresh bodies from `threads` threads for `seconds`; returns (requests answered 200, elapsed).
    `prepared` bodies per thread are encoded before the clock starts, so that the client's own CPU use (which
    shares the machine with the server) is mostly sending."""
    headers = {"Content-Type": "application/json", "X-API-Key": api_key}
    sources = []
    for index in range(threads):
        generator = bodies_for_thread(index)
        sources.append(itertools.chain(list(itertools.islice(generator, prepared)), generator))
    done, stop_at = [0] * threads, time.monotonic() + seconds

    def run(index: int):
        bodies = sources[index]
        with httpx.Client(timeout=30) as client:
            while time.monotonic() < stop_at:
                response = client.post(url, content=next(bodies), headers=headers)
                if response.status_code != 200:
                    raise RuntimeError(f"{url} answered {response.status_code}: {response.text[:300]}")
                done[index] += 1

    started = time.monotonic()
    workers = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return sum(done), time.monotonic() - started


def seed_members(count: int):
    """One group with `count` members, in bulk (the services would audit each row; this measures reads)."""
    from apps.groups.models import Group, Membership
    from apps.users.models import User

    group = Group.objects.create(telegram_chat_id=-1009000000001, title="Huge", member_count=count)
    User.objects.bulk_create([User(username=f"m{i}", telegram_user_id=5_000_000 + i, password="!")  # noqa: S106
                              for i in range(count)], batch_size=5000)
    users = User.objects.filter(username__startswith="m").values_list("pk", flat=True)
    Membership.objects.bulk_create([Membership(group=group, user_id=pk) for pk in users], batch_size=5000)
    return group


def page_timings(group, count: int) -> dict[int, float]:
    from django.test import Client

    client = Client(HTTP_X_API_KEY=os.environ["BENCH_API_KEY"], HTTP_HOST="127.0.0.1")
    last = (count + 199) // 200
    timings = {}
    for page in (1, last // 2, last):
        samples = []
        for _ in range(5):
            started = time.perf_counter()
            response = client.get(f"/api/groups/{group.pk}/members?page={page}&limit=200")
            samples.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.content[:300]
        timings[page] = min(samples)
    return timings


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--members", type=int, default=100_000)
    options = parser.parse_args(argv)
    data_dir = Path(tempfile.mkdtemp(prefix="tgmod-bench-data-"))
    api_key = secrets.token_urlsafe(32)
    port = free_port()
    env = bench_environment(data_dir, port, 2, api_key)
    os.environ.update(env)
    os.environ["BENCH_API_KEY"] = api_key
    server = None
    logging.getLogger("httpx").setLevel(logging.WARNING)
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connections

        from apps.events.models import GroupEvent
        from apps.groups.services import group_register

        call_command("migrate", interactive=False, verbosity=0)
        ingest_group, _ = group_register(telegram_chat_id=-1009000000002, title="Ingest", type="supergroup")
        started = time.monotonic()
        huge = seed_members(options.members)
        seed_seconds = time.monotonic() - started
        timings = page_timings(huge, options.members)
        connections.close_all()

        (data_dir / "prometheus").mkdir()
        server_env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(data_dir / "prometheus")}
        with (data_dir / "gunicorn.log").open("wb") as log:
            server = subprocess.Popen([str(Path(sys.executable).with_name("gunicorn")), "-c",
                                       "deploy/gunicorn/conf.py", "config.wsgi"], cwd=ROOT, env=server_env,
                                      stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        wait_healthy(base, server, time.monotonic() + 30)

        chat_id = ingest_group.telegram_chat_id
        prepared = int(options.seconds * 15)  # per thread: about what 4 threads send at 60 batches/s
        hammer(f"{base}/api/events/batch", api_key, lambda i: event_batches(chat_id, 900_000_000 + i * 10_000_000),
               2)  # warm-up (its events are stored too; the count below starts after it)
        before = GroupEvent.objects.count()
        cpu_before = cpu_sample(server.pid)
        ingest_requests, ingest_seconds = hammer(
            f"{base}/api/events/batch", api_key, lambda i: event_batches(chat_id, i * 10_000_000), options.seconds,
            prepared=prepared)
        ingest_cpu = cpu_used(cpu_before, cpu_sample(server.pid))
        stored = GroupEvent.objects.count() - before
        connections.close_all()
        cpu_before = cpu_sample(server.pid)
        echo_requests, echo_seconds = hammer(
            f"{base}/bench/echo", api_key, lambda i: event_batches(chat_id, 500_000_000 + i * 10_000_000),
            options.seconds, prepared=prepared)
        echo_cpu = cpu_used(cpu_before, cpu_sample(server.pid))

        events_per_s = stored / ingest_seconds
        ratio = (ingest_requests / ingest_seconds) / (echo_requests / echo_seconds)
        print(f"\ncore data benchmarks (gunicorn, 2 workers, SQLite; 4 client threads, {options.seconds:.0f} s each)")
        print(f"  bare view, same 500-event bodies   {echo_requests / echo_seconds:8.1f} requests/s  "
              f"server CPU {echo_cpu['server'] * 1000 / max(echo_requests, 1):6.2f} ms/request  "
              f"client and other CPUs {echo_cpu['other'] / echo_cpu['wall']:.2f}")
        print(f"  event ingest, batches of {BATCH}       {ingest_requests / ingest_seconds:8.1f} requests/s  "
              f"server CPU {ingest_cpu['server'] * 1000 / max(ingest_requests, 1):6.2f} ms/request  "
              f"client and other CPUs {ingest_cpu['other'] / ingest_cpu['wall']:.2f}  ratio {ratio:.2f}")
        verdict = "PASS" if events_per_s >= TARGET_EVENTS_PER_S else "FAIL"
        print(f"  events stored                      {events_per_s:8.0f} events/s  ({stored:,} in "
              f"{ingest_seconds:.1f} s)   target >= {TARGET_EVENTS_PER_S:,}: {verdict}")
        worst = max(timings.values())
        verdict = "PASS" if worst <= TARGET_PAGE_MS else "FAIL"
        pages = ", ".join(f"page {page}: {ms:.1f} ms" for page, ms in timings.items())
        print(f"  member list, {options.members:,} members (seeded in {seed_seconds:.0f} s), limit 200: {pages}"
              f"   target <= {TARGET_PAGE_MS:.0f} ms: {verdict}")
        print(f"  (median of the three pages {statistics.median(timings.values()):.1f} ms)")
        return 0
    finally:
        if server is not None and server.poll() is None:
            server.terminate()
            server.wait(timeout=15)
        remove_data_dir(data_dir)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
