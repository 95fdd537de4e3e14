"""`make test-mongo`: the whole test suite on the MongoDB profile, against a throwaway SecantusDB server.

    python -m tests.mongo.run [--no-secantus-compat] [pytest arguments]

Installs SecantusDB into .venv-secantus/ when needed, starts it on a free loopback port, runs pytest with
config.settings.test_mongo (MONGODB_TEST_URL points at the server), stops the server by its PID, and exits
with pytest's status. The plugin tests/mongo/secantus_compat.py works around two emulator differences (see there
and docs/mongodb.md); --no-secantus-compat runs without it, to see what the emulator alone gets wrong.

To run against a real MongoDB replica set instead, skip this script (and its plugin):
    MONGODB_TEST_URL=mongodb://host:27017/core?replicaSet=rs0 pytest --ds=config.settings.test_mongo
"""

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.mongo.server import ROOT, secantus_server


def main(argv: list[str]) -> int:
    compat = "--no-secantus-compat" not in argv
    argv = [arg for arg in argv if arg != "--no-secantus-compat"]
    plugins = ["-p", "tests.mongo.fast_flush", *(["-p", "tests.mongo.secantus_compat"] if compat else [])]
    log_path = Path(tempfile.gettempdir()) / "secantusd-test.log"
    with secantus_server(log_path=log_path) as url:
        print(f"SecantusDB serving at {url} (log: {log_path})", flush=True)
        env = {**os.environ, "MONGODB_TEST_URL": url, "DJANGO_SETTINGS_MODULE": "config.settings.test_mongo"}
        return subprocess.call([sys.executable, "-m", "pytest", "--ds=config.settings.test_mongo", *plugins, *argv],
                               cwd=ROOT, env=env)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
