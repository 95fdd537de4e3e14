"""Profile the permission-check hot path in-process (cProfile), on the bench data set; or event ingest.

    python -m bench.profile [--single 2000] [--batches 50] [--top 40]
    python -m bench.profile --ingest 30 [--top 40]      # batches of 500 events, as bench.core_data posts them

Same settings profile as `make bench` (bench.settings, APP_ENV=production, DEBUG off), requests through
Django's test client (the whole middleware and DRF stack, no sockets), caches warmed first.
"""

import argparse
import cProfile
import json
import os
import pstats
import secrets
import sys
import tempfile
import time
from pathlib import Path

from bench.run import BATCH_SIZE, ROOT, bench_environment, remove_data_dir


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile")
    parser.add_argument("--single", type=int, default=2000)
    parser.add_argument("--batches", type=int, default=50)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--sort", default="cumulative")
    parser.add_argument("--scale", choices=("default", "large"), default="default", help="as in bench.run")
    parser.add_argument("--ingest", type=int, default=0, help="profile this many event batches instead of checks")
    args = parser.parse_args(argv)

    data_dir = Path(tempfile.mkdtemp(prefix="tgmod-bench-profile-"))
    try:
        api_key = secrets.token_urlsafe(32)
        env = bench_environment(data_dir, 0, 1, api_key)
        env["ALLOWED_HOSTS"] = "127.0.0.1,testserver"
        os.environ.update(env)
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        from django.core.management import call_command
        from django.test import Client

        from bench.seed import check_queries, seed, seed_bulk

        call_command("migrate", interactive=False, verbosity=0)
        client = Client(HTTP_X_API_KEY=api_key)
        if args.ingest:
            return profile_ingest(client, args)
        seeded = seed_bulk() if args.scale == "large" else seed()
        singles = [json.dumps(q) for q in check_queries(seeded, 5000)]
        batch_queries = check_queries(seeded, 300 * BATCH_SIZE, seed_value=11)
        batches = [json.dumps({"checks": batch_queries[i:i + BATCH_SIZE]})
                   for i in range(0, len(batch_queries), BATCH_SIZE)]

        def single(i):
            response = client.post("/api/rbac/check-permission", singles[i % len(singles)],
                                   content_type="application/json")
            assert response.status_code == 200, response.content

        def batch(i):
            response = client.post("/api/rbac/check-permissions", batches[i % len(batches)],
                                   content_type="application/json")
            assert response.status_code == 200, response.content

        def echo(i):
            response = client.post("/bench/echo", singles[i % len(singles)], content_type="application/json")
            assert response.status_code == 200, response.content

        for i in range(len(singles)):  # warm the decision cache
            single(i)
        for i in range(len(batches)):
            batch(i)
        for name, fn, count in (("echo", echo, args.single), ("single", single, args.single),
                                ("batch", batch, args.batches)):
            started, cpu_started = time.perf_counter(), time.process_time()
            for i in range(count):
                fn(i)
            elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
            # CPU time is the figure to compare on a shared machine; wall time includes waiting for a CPU.
            print(f"{name:<7} {count} requests in {elapsed:.2f} s: {elapsed / count * 1000:.3f} ms/request, "
                  f"{cpu / count * 1000:.3f} ms CPU/request")
        for name, fn, count in (("single", single, args.single), ("batch", batch, args.batches)):
            profiler = cProfile.Profile()
            profiler.enable()
            for i in range(count):
                fn(i)
            profiler.disable()
            print(f"\n=== {name} x{count} ===")
            pstats.Stats(profiler).sort_stats(args.sort).print_stats(args.top)
        return 0
    finally:
        remove_data_dir(data_dir)


def profile_ingest(client, args) -> int:
    """CPU time per batch of 500 events (one process, no sockets), then cProfile over the same number."""
    from apps.groups.services import group_register
    from bench.core_data import event_batches

    group, _ = group_register(telegram_chat_id=-1009000000002, title="Ingest", type="supergroup")
    bodies = event_batches(group.telegram_chat_id, 0)

    def post(body):
        response = client.post("/api/events/batch", body, content_type="application/json")
        assert response.status_code == 200, response.content

    for _ in range(5):  # the first batch creates the 200 senders and their memberships
        post(next(bodies))
    prepared = [next(bodies) for _ in range(args.ingest)]
    started = time.process_time()
    for body in prepared:
        post(body)
    per = (time.process_time() - started) / args.ingest * 1000
    print(f"ingest  {args.ingest} batches of 500: {per:.2f} ms CPU per batch, {500 / per * 1000:,.0f} events per "
          f"CPU-second")
    prepared = [next(bodies) for _ in range(args.ingest)]
    profiler = cProfile.Profile()
    profiler.enable()
    for body in prepared:
        post(body)
    profiler.disable()
    pstats.Stats(profiler).sort_stats(args.sort).print_stats(args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
