"""Every command the README (and deploy/README.md) names works as written, from a checkout's plain shell: no
DJANGO_SETTINGS_MODULE, no APP_ENV. `make run` is started as a new user would (on free ports and a temporary data
folder), and the commands its banner and the README give are then typed exactly as written."""

import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", ROOT / "deploy" / "README.md"]
PYTHON = ".venv/bin/python"
# The settings a user's shell does not have (the test process has them, from pytest's settings).
NOT_IN_A_USERS_SHELL = {"DJANGO_SETTINGS_MODULE", "APP_ENV", "LOG_FORMAT", "SERVICE_API_KEYS", "PORT", "DATA_DIR",
                        "SANDBOX_PORT", "CORE_API_URL", "CORE_API_KEY", "TELEGRAM_API_BASE_URL", "TELEGRAM_BOT_TOKEN"}
# How each manage.py command the docs name is exercised here. Each must be listed: a new one fails the test until
# it is. "run": typed as written against `make run`'s platform; "help": its settings load and it parses (it needs
# what a test cannot give it: Telegram, production settings, a terminal).
MANAGE_COMMANDS = {
    "audit_verify": "run",
    "seed_demo": "run",
    "changepassword": "run",
    "purge_revoked_tokens": "run",
    "createsuperuser": "run",
    "telegram_webhook": "help",  # registers the webhook with Telegram itself
    "runbot": "help",  # long polling against Telegram, until stopped
    "check": "help",  # `check --deploy` is for production settings (tests/deploy run it)
    "migrate": "run",
}
MAKE_TARGETS = {"run", "run-core", "run-bot", "run-web", "test", "test-mongo", "lint", "bench", "deploy-check"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def users_shell(**env) -> dict:
    return {**{key: value for key, value in os.environ.items() if key not in NOT_IN_A_USERS_SHELL}, **env}


def documented_commands() -> list[str]:
    """`manage.py ...` and `make ...` as the docs write them: code blocks' lines and inline code spans."""
    found = []
    for path in DOCS:
        text = path.read_text()
        blocks = re.findall(r"```[a-z]*\n(.*?)```", text, flags=re.S)
        spans = re.findall(r"`([^`\n]+)`", re.sub(r"```.*?```", "", text, flags=re.S).replace("\n", " "))
        for line in [*(line for block in blocks for line in block.splitlines()), *spans]:
            command = line.split("#", 1)[0].strip()
            if re.search(r"(^|\s)manage\.py \w", command) or re.match(r"make [a-z-]+", command):
                found.append(command)
    return found


def manage_command_name(command: str) -> str | None:
    match = re.search(r"manage\.py (\w+)", command)
    return match.group(1) if match else None


def test_every_documented_command_is_exercised_here():
    commands = documented_commands()
    names = {manage_command_name(command) for command in commands} - {None}
    assert {"audit_verify", "seed_demo", "changepassword"} <= names
    assert "python -m tgsandbox.botchat" in DOCS[0].read_text()
    assert names <= set(MANAGE_COMMANDS), f"exercise these in this test: {names - set(MANAGE_COMMANDS)}"
    targets = {re.match(r"make ([a-z-]+)", command).group(1) for command in commands if command.startswith("make ")}
    assert {"run", "test"} <= targets and targets <= MAKE_TARGETS, targets
    # Nothing in the docs asks for a role's settings or APP_ENV by hand in front of manage.py on the host.
    for command in commands:
        if "docker" not in command and "kubectl" not in command:
            assert "DJANGO_SETTINGS_MODULE" not in command and "APP_ENV" not in command, command


@pytest.mark.parametrize("name", sorted(name for name, how in MANAGE_COMMANDS.items() if how == "help"))
def test_commands_that_need_the_outside_world_load_their_roles_settings(name, tmp_path):
    result = subprocess.run([PYTHON, "manage.py", name, "--help"], cwd=ROOT, env=users_shell(DATA_DIR=str(tmp_path)),
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert f"manage.py {name}" in result.stdout


class MakeRun:
    """`make run` (or another target) as its own process group, its output in a file."""

    def __init__(self, target: str, tmp: Path, **env):
        self.log = tmp / f"make-{target}.log"
        self.env = users_shell(DATA_DIR=str(tmp), **env)
        # -o: the virtualenv is there; never reinstall it from a test.
        self.process = subprocess.Popen(["make", "-o", ".venv/.installed", target], cwd=ROOT, env=self.env,
                                        stdout=self.log.open("wb"), stderr=subprocess.STDOUT,
                                        start_new_session=True)

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for(self, condition, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return
            if self.process.poll() is not None:
                raise AssertionError(f"make exited: {self.output()[-3000:]}")
            time.sleep(0.5)
        raise AssertionError(f"timed out: {self.output()[-3000:]}")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def healthy(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.mark.e2e
def test_make_run_core_logs_no_logging_error(tmp_path):
    port = free_port()
    run = MakeRun("run-core", tmp_path, PORT=str(port))
    try:
        run.wait_for(lambda: healthy(f"http://127.0.0.1:{port}/api/health"))
        assert httpx.get(f"http://127.0.0.1:{port}/api/health").json()["status"] == "healthy"
    finally:
        run.stop()
        deadline = time.monotonic() + 30  # gunicorn outlives make by its graceful shutdown
        while healthy(f"http://127.0.0.1:{port}/api/health") and time.monotonic() < deadline:
            time.sleep(0.5)
        time.sleep(1)
    output = run.output()
    assert "Starting gunicorn" in output and "Handling signal: term" in output
    assert '"service": "centralized-api"' in output  # the master's lines too
    assert "Logging error" not in output and "Traceback" not in output, output[-3000:]


def login(web: str, username: str, password: str) -> int:
    """web's login status; a 503 (core slower than web's 0.8 s budget on a loaded machine) is asked again."""
    for _ in range(3):
        status = httpx.post(f"{web}/api/auth/login", json={"username": username, "password": password},
                            timeout=10).status_code
        if status != 503:
            return status
        time.sleep(1)
    return status


def typed(command: str, env: dict, stdin: str = "", timeout: float = 120) -> subprocess.CompletedProcess:
    """A command line as the docs write it, through a shell, without a controlling terminal (getpass reads stdin)."""
    return subprocess.run(["/bin/sh", "-c", command], cwd=ROOT, env=env, input=stdin, capture_output=True, text=True,
                          timeout=timeout, start_new_session=True)


@pytest.mark.e2e
def test_make_run_then_the_readme_commands_as_written(tmp_path):
    ports = {name: free_port() for name in ("CORE_PORT", "BOT_PORT", "WEB_PORT", "SANDBOX_PORT")}
    run = MakeRun("run", tmp_path, **{name: str(port) for name, port in ports.items()})
    try:
        run.wait_for(lambda: "demo admin login" in run.output())
        output = run.output()
        banner = output[output.index("The platform is up"):]
        before_banner = output[:output.index("The platform is up")]

        # Human-readable log lines, none of them JSON, no logging failures, no per-call HTTP client lines.
        log_lines = [line for line in before_banner.splitlines() if re.match(r"\d\d:\d\d:\d\d\.\d{3} ", line)]
        assert len(log_lines) >= 5, before_banner[-2000:]
        assert not any(line.lstrip().startswith("{") for line in before_banner.splitlines())
        assert "Logging error" not in before_banner and "HTTP Request:" not in before_banner
        assert "sandbox-token" not in output

        # The banner repeats the one-time password, and it logs in.
        password = re.search(r"demo admin login\s+admin / (\S+)", banner).group(1)
        assert (tmp_path / "demo-admin-password").read_text().strip() == password
        web = f"http://127.0.0.1:{ports['WEB_PORT']}"
        assert login(web, "admin", password) == 200

        env = users_shell(DATA_DIR=str(tmp_path))  # the checkout's data folder, as `make run` used it

        # botchat, as the banner gives it: the README's demo, and the chat without log lines.
        botchat = re.search(r"chat with the bot: (.+?-m tgsandbox\.botchat)", banner).group(1)
        session = typed(botchat, env, stdin="/ban @spammer flooding\n/quit\n")
        assert session.returncode == 0, session.stderr
        assert "you are @alice in Sandbox Group" in session.stdout
        assert re.search(r"bot> #\d+ @sandbox_mod_bot.*: @spammer is banned\.", session.stdout), session.stdout
        assert "banChatMember(" in session.stdout
        for stream in (session.stdout, session.stderr):
            assert not any(line.lstrip().startswith("{") for line in stream.splitlines()), stream
            assert "HTTP Request" not in stream

        verify = typed(f"{PYTHON} manage.py audit_verify", env)
        assert verify.returncode == 0 and "intact" in verify.stdout, verify.stdout + verify.stderr
        again = typed(f"{PYTHON} manage.py seed_demo", env)
        assert again.returncode == 0 and "already loaded" in again.stdout, again.stderr
        purge = typed(f"{PYTHON} manage.py purge_revoked_tokens", env)
        assert purge.returncode == 0, purge.stderr
        migrate = typed(f"{PYTHON} manage.py migrate", env)
        assert migrate.returncode == 0 and "No migrations to apply" in migrate.stdout, migrate.stderr

        # The banner's reset hint, as written: the new password logs in, the old one no longer does.
        reset = re.search(r"reset with: (\S+ manage\.py changepassword admin)", banner).group(1)
        new_password = "a-New-demo-passw0rd"
        changed = typed(reset, env, stdin=f"{new_password}\n{new_password}\n")
        assert changed.returncode == 0 and "changed successfully" in changed.stdout, changed.stdout + changed.stderr
        assert login(web, "admin", new_password) == 200
        assert login(web, "admin", password) == 401

        # createsuperuser, as an operator would script it.
        created = typed(f"{PYTHON} manage.py createsuperuser --noinput --username operator --email op@example.org",
                        {**env, "DJANGO_SUPERUSER_PASSWORD": "an-operator-passw0rd"})
        assert created.returncode == 0 and "Superuser created successfully" in created.stdout, created.stderr
    finally:
        run.stop()
    assert "Logging error" not in run.output()
