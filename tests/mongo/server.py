"""A throwaway SecantusDB server for the MongoDB test profile.

SecantusDB (PyPI `secantusdb`, GPL) speaks the MongoDB wire protocol and advertises itself as a one-node replica
set, so multi-document transactions work. It is a test tool only: it lives in its own virtualenv
(.venv-secantus/ at the repository root, pinned by tests/mongo/requirements.txt), never in the product's.
"""

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REQUIREMENTS = Path(__file__).with_name("requirements.txt")
VENV = Path(os.environ.get("SECANTUS_VENV", ROOT / ".venv-secantus"))
STAMP = VENV / ".installed-requirements"
START_TIMEOUT_SECONDS = 60


def ensure_installed() -> Path:
    """Creates .venv-secantus/ and installs the pinned SecantusDB once; returns the server's launcher."""
    wanted = REQUIREMENTS.read_text()
    launcher = VENV / "bin" / "secantusd-py"
    if launcher.exists() and STAMP.exists() and STAMP.read_text() == wanted:
        return launcher
    python = VENV / "bin" / "python"
    if not python.exists():
        # The base interpreter, not this virtualenv's: the server's environment must not see the product's.
        base = getattr(sys, "_base_executable", sys.executable)
        subprocess.run([base, "-m", "venv", str(VENV)], check=True)
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r", str(REQUIREMENTS)],
        check=True,
    )
    STAMP.write_text(wanted)
    return launcher


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_serving(url: str, process: subprocess.Popen) -> None:
    from pymongo import MongoClient

    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"secantusd-py exited with {process.returncode} before serving")
        client = MongoClient(url, serverSelectionTimeoutMS=500)
        try:
            client.admin.command("ping")
            return
        except Exception:
            time.sleep(0.2)
        finally:
            client.close()
    raise RuntimeError(f"secantusd-py did not answer within {START_TIMEOUT_SECONDS} s")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    os.kill(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


@contextlib.contextmanager
def secantus_server(*, database: str = "core", log_path: Path | None = None) -> Iterator[str]:
    """Starts SecantusDB on a free loopback port with a fresh data folder; yields its URL; stops it by its PID."""
    launcher = ensure_installed()
    storage = Path(tempfile.mkdtemp(prefix="secantus-"))
    port = _free_port()
    log = open(log_path or storage.with_name(storage.name + ".log"), "w")  # noqa: SIM115 (closed below)
    process = subprocess.Popen(
        [str(launcher), "--host", "127.0.0.1", "--port", str(port), "--storage-path", str(storage / "data"),
         "--log-level", "WARNING"],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"mongodb://127.0.0.1:{port}/{database}"
    try:
        _wait_until_serving(url, process)
        yield url
    finally:
        _stop(process)
        log.close()
        shutil.rmtree(storage, ignore_errors=True)


if __name__ == "__main__":  # python -m tests.mongo.server: install only (.ci/run, before the suites start)
    print(ensure_installed())
