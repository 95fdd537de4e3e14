"""What each hand-compiled statement (apps/common/prepared.py) buys: CPU per request with it and with its caller's
ORM path, measured side by side in one process.

    python -m bench.prepared_seam [--requests 1500] [--batches 60] [--lists 1500] [--rounds 3]

Same settings profile and data as `make bench` (bench.settings, APP_ENV=production, DEBUG off, bench.seed), the
requests `make bench` and `bench.web` send (single checks, batches of 100 checks, GET /api/groups?limit=20),
through Django's test client (the whole middleware and DRF stack, no sockets, so no gunicorn or wrk noise). For
each statement, rounds alternate between it on and it switched off (`apps.common.prepared.switched_off`); the
figure is each side's best round of CPU time per request. A statement stays where it buys at least 15% more
requests per CPU-second (issue 17).
"""

import argparse
import json
import os
import secrets
import sys
import tempfile
import time
from pathlib import Path

from bench.run import BATCH_SIZE, ROOT, bench_environment, remove_data_dir

KEEP_THRESHOLD = 0.15

# scenario -> the statements switched off in turn: the check and list paths' own, then "all" (which includes the
# audit append's, apps/audit; the batch path's lookups went back to the ORM after buying 2-5% here)
STATEMENTS = {
    "single": ("rbac:subject", "all"),
    "batch": ("all",),
    "groups list": ("groups:page",),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.prepared_seam", description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=1500, help="single checks per round")
    parser.add_argument("--batches", type=int, default=60, help="batches of 100 per round")
    parser.add_argument("--lists", type=int, default=1500, help="groups list pages per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warm", type=int, default=5000, help="single checks sent first, to warm the decision cache")
    args = parser.parse_args(argv)

    data_dir = Path(tempfile.mkdtemp(prefix="tgmod-bench-seam-"))
    try:
        api_key = secrets.token_urlsafe(32)
        env = bench_environment(data_dir, 0, 1, api_key)
        env["ALLOWED_HOSTS"] = "127.0.0.1,testserver"
        env["LOG_LEVEL"] = "WARNING"
        os.environ.update(env)
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        from django.core.management import call_command
        from django.test import Client

        from apps.common.prepared import switched_off
        from bench.seed import check_queries, seed

        call_command("migrate", interactive=False, verbosity=0)
        client = Client(HTTP_X_API_KEY=api_key)
        seeded = seed()
        singles = [json.dumps(q) for q in check_queries(seeded, 5000)]
        batch_queries = check_queries(seeded, 300 * BATCH_SIZE, seed_value=11)
        batches = [json.dumps({"checks": batch_queries[i:i + BATCH_SIZE]})
                   for i in range(0, len(batch_queries), BATCH_SIZE)]

        def post(path, body):
            response = client.post(path, body, content_type="application/json")
            assert response.status_code == 200, response.content

        def get(path):
            response = client.get(path)
            assert response.status_code == 200, response.content

        runs = {
            "single": (lambda i: post("/api/rbac/check-permission", singles[i % len(singles)]), args.requests),
            "batch": (lambda i: post("/api/rbac/check-permissions", batches[i % len(batches)]), args.batches),
            "groups list": (lambda i: get("/api/groups?limit=20"), args.lists),
        }
        for i in range(args.warm):  # warm the decision cache, as make bench does
            runs["single"][0](i)

        def cpu_per_request(scenario: str) -> float:
            fn, count = runs[scenario]
            started = time.process_time()
            for i in range(count):
                fn(i)
            return (time.process_time() - started) / count * 1000

        print(f"{'scenario':<13}{'statement off':<18}{'CPU ms/req on':>14}{'off':>9}{'buys':>8}  verdict")
        for scenario, names in STATEMENTS.items():
            for name in names:
                on, off = [], []
                for _ in range(args.rounds):
                    on.append(cpu_per_request(scenario))
                    with switched_off(name):
                        off.append(cpu_per_request(scenario))
                best_on, best_off = min(on), min(off)
                gain = best_off / best_on - 1
                verdict = "keep" if gain >= KEEP_THRESHOLD else "back to the ORM"
                print(f"{scenario:<13}{name:<18}{best_on:>14.3f}{best_off:>9.3f}{gain:>8.1%}  {verdict}", flush=True)
        return 0
    finally:
        remove_data_dir(data_dir)


if __name__ == "__main__":
    sys.exit(main())
