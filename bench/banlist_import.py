"""Ban lists in core (issue 16): an import of 100,000 ids, and a fban to a list with 200 subscribed groups, on both
storage profiles.

    python -m bench.banlist_import [--ids 100000] [--groups 200] [--members 1000] [--only sqlite,mongo]

Each profile runs in its own process with production settings (DEBUG off), migrated from scratch: SQLite in a temp
directory; MongoDB against a throwaway SecantusDB server (the test profile's MongoDB-wire server, started and stopped
here by its PID). The requests go through core's whole stack in that process (Django's test client: middleware, API
key, DRF parsing, the view, the envelope), without a network.

- import: a CSV of --ids rows (id, reason, date) POSTed to /api/banlists/{id}/import; --members of the ids are
  members of one of the list's 3 groups, so their bans are owed at once (the rest are banned on arrival). The figure
  is the request's wall time (and this process's CPU time in it: core's share on a busy machine; on MongoDB the
  server's own work is in its process); then the same file again (all unchanged), and the export of the list as CSV.
  Target: well under a minute (< 60 s, the issue's bound).
- fban: POST /api/banlists/{id}/bans on a list with --groups subscribed groups: the request's wall time, in which
  core writes a propagation row, a moderation record and its audit row per group (median of 5 users).
"""

import argparse
import json
import os
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.run import ROOT, bench_environment, free_port, remove_data_dir

TARGET_IMPORT_SECONDS = 60.0
FIRST_ID = 6_000_000_000


def _say(profile: str, what: str) -> None:
    print(f"    [{profile} {time.strftime('%H:%M:%S')}] {what}", file=sys.stderr, flush=True)


def _child(profile: str, options) -> dict:
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client

    from apps.banlists.models import Ban, BanList, Propagation, Subscription
    from apps.groups.models import Group, Membership
    from apps.users.models import User

    started = time.perf_counter()
    _say(profile, "migrating")
    call_command("migrate", interactive=False, verbosity=0)
    migrate_seconds = time.perf_counter() - started
    _say(profile, f"migrated in {migrate_seconds:.0f} s; seeding")
    client = Client(HTTP_X_API_KEY=os.environ["BENCH_API_KEY"], HTTP_HOST="127.0.0.1")
    owner = User.objects.create(username="owner", telegram_user_id=1, password="!")  # noqa: S106

    def new_list(name: str, groups: int) -> BanList:
        ban_list = BanList.objects.create(name=name, owner=owner)
        first = Group.objects.count()
        Group.objects.bulk_create([Group(telegram_chat_id=-1009000000000 - first - number, title=f"{name} {number}")
                                   for number in range(groups)])
        created = Group.objects.filter(title__startswith=f"{name} ")
        Subscription.objects.bulk_create([Subscription(ban_list=ban_list, group=group) for group in created])
        return ban_list

    # -- import
    imported = new_list("Imported", 3)
    group = Group.objects.filter(title="Imported 0").get()
    User.objects.bulk_create([User(username=f"m{number}", telegram_user_id=FIRST_ID + number * 7, password="!")  # noqa: S106
                              for number in range(options.members)], batch_size=5000)
    members = User.objects.filter(username__startswith="m").values_list("pk", flat=True)
    Membership.objects.bulk_create([Membership(group=group, user_id=pk) for pk in members], batch_size=5000)
    lines = ["telegram_user_id,reason,date"] + [
        f"{FIRST_ID + number * 7},{'known spammer' if number % 3 else ''},{1714557600 + number}"
        for number in range(options.ids)]
    body = json.dumps({"format": "csv", "content": "\n".join(lines) + "\n"})
    timings = {}
    for run in ("import", "import again (unchanged)"):
        _say(profile, run)
        started, cpu = time.perf_counter(), time.process_time()
        response = client.post(f"/api/banlists/{imported.pk}/import", data=body, content_type="application/json")
        timings[run] = time.perf_counter() - started
        timings[f"{run} cpu"] = time.process_time() - cpu
        if response.status_code != 200:
            raise RuntimeError(f"import answered {response.status_code}: {response.content[:500]!r}")
        timings[f"{run} answer"] = response.json()["data"]
    assert Ban.objects.filter(ban_list=imported, active=True).count() == options.ids
    _say(profile, "export")
    started = time.perf_counter()
    response = client.get(f"/api/banlists/{imported.pk}/export?format=csv")
    exported = b"".join(response.streaming_content)
    timings["export"] = time.perf_counter() - started
    assert exported.count(b"\n") == options.ids + 1, exported[:200]
    timings["body MB"] = len(body) / 1e6

    # -- fban to many groups
    _say(profile, "fban")
    wide = new_list("Wide", options.groups)
    fbans = []
    for number in range(5):
        started = time.perf_counter()
        response = client.post(f"/api/banlists/{wide.pk}/bans", data=json.dumps(
            {"telegram_user_id": 7_000_000_000 + number, "reason": "spam"}), content_type="application/json")
        fbans.append(time.perf_counter() - started)
        if response.status_code != 200:
            raise RuntimeError(f"fban answered {response.status_code}: {response.content[:500]!r}")
        assert response.json()["data"]["propagation"]["groups"] == options.groups
    assert Propagation.objects.filter(ban_list=wide).count() == 5 * options.groups
    timings["fban"] = statistics.median(fbans)
    timings["fban samples"] = fbans
    timings["migrate"] = migrate_seconds
    return timings


def _run_profile(profile: str, options, argv: list[str]) -> dict | None:
    data_dir = Path(tempfile.mkdtemp(prefix=f"tgmod-bench-banlists-{profile}-"))
    api_key = secrets.token_urlsafe(32)
    env = {**os.environ, **bench_environment(data_dir, free_port(), 1, api_key), "BENCH_API_KEY": api_key,
           "DJANGO_SETTINGS_MODULE": "config.settings.core", "LOG_LEVEL": "WARNING"}
    out = data_dir / "result.json"
    try:
        if profile == "mongo":
            from tests.mongo.server import secantus_server

            with secantus_server(database="bench", log_path=data_dir / "secantus.log") as url:
                env["DATABASE_URL"] = url
                code = subprocess.call([sys.executable, "-m", "bench.banlist_import", "--child", profile,
                                        "--out", str(out), *argv], cwd=ROOT, env=env)
        else:
            code = subprocess.call([sys.executable, "-m", "bench.banlist_import", "--child", profile,
                                    "--out", str(out), *argv], cwd=ROOT, env=env)
        if code != 0 or not out.exists():
            print(f"  {profile}: the run failed (exit {code})")
            return None
        return json.loads(out.read_text())
    finally:
        remove_data_dir(data_dir)


def _terminated(signum, frame):
    raise SystemExit(128 + signum)  # the servers started here are stopped on the way out


def main(argv: list[str]) -> int:
    signal.signal(signal.SIGTERM, _terminated)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ids", type=int, default=100_000)
    parser.add_argument("--groups", type=int, default=200)
    parser.add_argument("--members", type=int, default=1000)
    parser.add_argument("--only", default="sqlite,mongo")
    parser.add_argument("--child", choices=("sqlite", "mongo"))
    parser.add_argument("--out")
    options = parser.parse_args(argv)
    if options.child:
        Path(options.out).write_text(json.dumps(_child(options.child, options)))
        return 0
    passthrough = ["--ids", str(options.ids), "--groups", str(options.groups), "--members", str(options.members)]
    failed = False
    print(f"\nban lists in core: an import of {options.ids:,} ids, a fban to {options.groups} groups "
          "(production settings, the whole request stack in process)")
    for profile in options.only.split(","):
        result = _run_profile(profile, options, passthrough)
        if result is None:
            failed = True
            continue
        name = {"sqlite": "SQLite", "mongo": "MongoDB wire (SecantusDB)"}[profile]
        answer = result["import answer"]
        verdict = "PASS" if result["import"] < TARGET_IMPORT_SECONDS else "FAIL"
        failed |= verdict == "FAIL"
        print(f"  {name}  (migrated in {result['migrate']:.0f} s)")
        print(f"    import, {result['body MB']:.1f} MB of CSV   {result['import']:7.2f} s  (core's CPU "
              f"{result['import cpu']:.2f} s; added {answer['added']:,}, owed now to members "
              f"{answer['propagations']:,})   target < {TARGET_IMPORT_SECONDS:.0f} s: {verdict}")
        print(f"    same file again             {result['import again (unchanged)']:7.2f} s  (core's CPU "
              f"{result['import again (unchanged) cpu']:.2f} s; unchanged "
              f"{result['import again (unchanged) answer']['unchanged']:,})")
        print(f"    export as CSV               {result['export']:7.2f} s")
        samples = ", ".join(f"{value * 1000:.0f}" for value in result["fban samples"])
        print(f"    fban to {options.groups} groups          {result['fban'] * 1000:7.0f} ms median ({samples} ms): "
              f"{options.groups} propagation rows, moderation records and their audit rows")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
