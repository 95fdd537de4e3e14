"""The start scripts the image runs: their command lines (dry run) name modules that import, and each one,
run for real on loopback, serves its role; the image's health check script judges them as Docker would."""

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.e2e.processes import WEBHOOK_SECRET, free_port

from .conftest import START, script_env
from .tools import ROOT, health_body

ROLES = {"core": "config.settings.core", "web": "config.settings.web", "bot": "config.settings.bot",
         "migrate": "config.settings.core", "wait-for-migrations": "config.settings.core"}


def dry_run(name: str, **extra) -> list[str]:
    result = subprocess.run([str(START / f"{name}.sh")], env=script_env(START_DRY_RUN=1, **extra),
                            capture_output=True, text=True, timeout=30, cwd="/")
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def import_in_role(settings: str, tmp_path: Path, code: str) -> None:
    env = script_env(DJANGO_SETTINGS_MODULE=settings, APP_ENV="development", DATA_DIR=tmp_path)
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]


VALUE_OPTIONS = {"-c", "-k", "--host", "--port", "--log-level", "--lifespan", "--timeout-graceful-shutdown"}


def app_target(argv: list[str]) -> tuple[str, str]:
    """The application a gunicorn or uvicorn command line serves: its one `module[:attribute]` argument."""
    positional = [arg for index, arg in enumerate(argv[1:], 1)
                  if not arg.startswith("-") and argv[index - 1] not in VALUE_OPTIONS]
    assert len(positional) == 1, argv
    module, _, attribute = positional[0].partition(":")
    return module, attribute or "application"


def test_each_script_forces_its_role_settings():
    for name, settings in ROLES.items():
        text = (START / f"{name}.sh").read_text()
        assert f"export DJANGO_SETTINGS_MODULE={settings}\n" in text, name


@pytest.mark.parametrize(("name", "program", "target"), [
    ("core", "gunicorn", ("config.wsgi", "application")),
    ("web", "gunicorn", ("apps.dashboard.asgi", "application")),
    ("bot", "uvicorn", ("apps.botgateway.asgi", "application")),
])
def test_server_command_lines_name_importable_applications(name, program, target, tmp_path):
    argv = dry_run(name)
    assert argv[0] == program
    assert app_target(argv) == target
    if program == "gunicorn":
        config = argv[argv.index("-c") + 1]
        assert (ROOT / config).exists()
        assert "PORT" in (ROOT / config).read_text() and "WEB_CONCURRENCY" in (ROOT / config).read_text()
    checks = [f"import importlib; app = getattr(importlib.import_module({target[0]!r}), {target[1]!r})",
              "assert callable(app)"]
    if "-k" in argv:
        worker = argv[argv.index("-k") + 1]
        module, _, cls = worker.rpartition(".")
        checks.append(f"getattr(importlib.import_module({module!r}), {cls!r})")
    import_in_role(ROLES[name], tmp_path, "; ".join(checks))


def test_script_listens_where_the_environment_says():
    argv = dry_run("bot", BIND_HOST="127.0.0.9", PORT=9123, LOG_LEVEL="WARNING")
    assert argv[argv.index("--host") + 1] == "127.0.0.9"
    assert argv[argv.index("--port") + 1] == "9123"
    assert argv[argv.index("--log-level") + 1] == "warning"


def test_bot_modes():
    assert dry_run("bot", BOT_MODE="polling") == ["python", "manage.py", "runbot"]
    result = subprocess.run([str(START / "bot.sh")], env=script_env(BOT_MODE="sideways", START_DRY_RUN=1),
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 2 and "BOT_MODE must be webhook or polling" in result.stderr


@pytest.mark.parametrize(("name", "argv"), [
    ("migrate", ["python", "manage.py", "migrate", "--noinput"]),
    ("wait-for-migrations", ["python", "manage.py", "migrate", "--check"]),
])
def test_management_commands(name, argv, tmp_path):
    assert dry_run(name) == argv
    import_in_role(ROLES[name], tmp_path, "import django; django.setup(); from django.core.management import "
                   "get_commands; assert 'migrate' in get_commands()")


def test_runbot_command_exists(tmp_path):
    import_in_role("config.settings.bot", tmp_path, "import django; django.setup(); from django.core.management "
                   "import get_commands; assert get_commands()['runbot'] == 'apps.botgateway'")


# -- the real thing: each script started as the image starts it, on loopback


def healthcheck(port: int, **extra) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(START / "healthcheck.py")], env=script_env(PORT=port, **extra),
                          capture_output=True, text=True, timeout=30)


def children(pid: int) -> list[int]:
    """The processes whose parent is `pid` (gunicorn's workers), from /proc."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def health(port: int, host: str) -> httpx.Response:
    return httpx.get(f"http://127.0.0.1:{port}/api/health", headers={"Host": host}, timeout=10)


pytestmark_live = pytest.mark.e2e


@pytestmark_live
def test_core_waits_for_migrations_then_serves_on_production_settings(roles):
    assert roles["waiting"].returncode == 1 and "migrations still pending" in roles["waiting"].stderr
    assert roles["waited"].returncode == 0, roles["waited"].stderr
    port = roles["ports"]["core"]
    response = health(port, "tgmod.test")
    assert response.status_code == 200
    assert health_body(response)["service"] == "centralized-api"
    assert health_body(response)["database"] == "connected"
    # Production settings refuse a host they do not know: the reason the health check names one.
    assert health(port, "elsewhere.test").status_code == 400


@pytestmark_live
def test_core_runs_several_gunicorn_workers(roles):
    assert len(children(roles["processes"]["core"].popen.pid)) == 2


@pytestmark_live
@pytest.mark.parametrize(("role", "service"), [("web", "web"), ("bot", "bot")])
def test_asgi_roles_serve_health(roles, role, service):
    response = health(roles["ports"][role], "localhost")
    assert response.status_code == 200, response.text
    assert health_body(response)["service"] == service
    assert health_body(response)["core_api"] == "connected"


@pytestmark_live
def test_web_serves_websockets_from_several_uvicorn_workers(roles):
    from websockets.sync.client import connect

    assert len(children(roles["processes"]["web"].popen.pid)) == 2
    # Only the ASGI application accepts a WebSocket handshake on /ws/live (WSGI cannot upgrade).
    with connect(f"ws://127.0.0.1:{roles['ports']['web']}/ws/live", open_timeout=10) as socket:
        assert socket.response.status_code == 101


@pytestmark_live
def test_bot_webhook_is_served_by_the_script(roles):
    url = f"http://127.0.0.1:{roles['ports']['bot']}/telegram/webhook"
    assert httpx.post(url, json={"update_id": 1}, timeout=10).status_code == 403
    ok = httpx.post(url, content=b"not json", headers={"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET},
                    timeout=10)
    assert ok.status_code == 200 and ok.json() == {"ok": True, "dropped": True}


@pytestmark_live
def test_image_healthcheck_script(roles):
    ports = roles["ports"]
    # The first concrete ALLOWED_HOSTS entry is the Host it sends; a wildcard entry is skipped.
    assert healthcheck(ports["core"], ALLOWED_HOSTS="*,.tgmod.test,core").returncode == 0
    assert healthcheck(ports["web"], ALLOWED_HOSTS="").returncode == 0
    assert healthcheck(ports["bot"], ALLOWED_HOSTS="localhost").returncode == 0
    refused = healthcheck(ports["core"], ALLOWED_HOSTS="not-allowed.test")
    assert refused.returncode == 1 and "400" in refused.stderr
    nothing = healthcheck(free_port(), ALLOWED_HOSTS="localhost")
    assert nothing.returncode == 1 and "health check failed" in nothing.stderr


def test_healthcheck_host_header_choice():
    sys.path.insert(0, str(START))
    try:
        from healthcheck import host_header
    finally:
        sys.path.remove(str(START))
    assert host_header("*,.example.org,core") == "example.org"
    assert host_header(" core , web") == "core"
    assert host_header("") == "localhost"
    assert host_header("*") == "localhost"
