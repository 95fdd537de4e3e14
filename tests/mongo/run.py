"""`make test-mongo`: the test suite's database tests on the MongoDB profile, against a throwaway SecantusDB server
(tests/mongo/database_only.py: the others run in `make test`).

    python -m tests.mongo.run [--no-secantus-compat] [pytest arguments, -n N for N workers]

Installs SecantusDB into .venv-secantus/ when needed, starts it on a free loopback port (one per xdist worker with
-n N: tests/mongo/worker_server.py points each worker at its own), runs pytest with
config.settings.test_mongo (MONGODB_TEST_URL points at the server), stops the server by its PID, and exits
with pytest's status. The plugin tests/mongo/secantus_compat.py works around two emulator differences (see there
and docs/mongodb.md); --no-secantus-compat runs without it, to see what the emulator alone gets wrong.

To run against a real MongoDB replica set instead, skip this script (and its plugin):
    MONGODB_TEST_URL=mongodb://host:27017/core?replicaSet=rs0 pytest --ds=config.settings.test_mongo
"""

import contextlib
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.mongo.server import ROOT, secantus_server


def worker_count(argv: list[str]) -> int:
    """How many xdist workers pytest will start (-n N, -nN, --numprocesses=N; auto: one per CPU); 0 without xdist."""
    value = None
    for index, arg in enumerate(argv):
        if arg in ("-n", "--numprocesses") and index + 1 < len(argv):
            value = argv[index + 1]
        elif arg.startswith("--numprocesses="):
            value = arg.split("=", 1)[1]
        elif arg.startswith("-n") and len(arg) > 2 and not arg.startswith("--"):
            value = arg[2:]
    if value in ("auto", "logical"):
        return os.cpu_count() or 1
    return int(value) if value and value.isdigit() else 0


def main(argv: list[str]) -> int:
    compat = "--no-secantus-compat" not in argv
    argv = [arg for arg in argv if arg != "--no-secantus-compat"]
    plugins = ["-p", "tests.mongo.worker_server", "-p", "tests.mongo.fast_flush", "-p", "tests.mongo.database_only",
               *(["-p", "tests.mongo.secantus_compat"] if compat else [])]
    # One server per xdist worker (tests/mongo/worker_server.py picks its own): the server, not the test process,
    # is where most of a test's time goes, and one server serves one request at a time.
    servers = max(1, worker_count(argv))
    with contextlib.ExitStack() as stack:
        urls = []
        for number in range(servers):
            name = "secantusd-test.log" if servers == 1 else f"secantusd-test-gw{number}.log"
            log_path = Path(tempfile.gettempdir()) / name
            urls.append(stack.enter_context(secantus_server(log_path=log_path)))
            print(f"SecantusDB serving at {urls[-1]} (log: {log_path})", flush=True)
        env = {**os.environ, "MONGODB_TEST_URL": urls[0], "MONGODB_TEST_URLS": ",".join(urls),
               "DJANGO_SETTINGS_MODULE": "config.settings.test_mongo"}
        return subprocess.call([sys.executable, "-m", "pytest", "--ds=config.settings.test_mongo", *plugins, *argv],
                               cwd=ROOT, env=env)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
