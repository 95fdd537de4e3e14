import contextlib
import json
import os
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.test import Client

from apps.common.context import bind_context
from tests.in_process_core import core_transport, keeping_test_connection
from tests.openapi import validate_response

API_KEY = "test-key"


class ApiClient:
    """A service client of core: sends X-API-Key and JSON, checks every response against the OpenAPI schema."""

    def __init__(self, api_key: str | None = API_KEY, validate: bool = True):
        headers = {"HTTP_X_API_KEY": api_key} if api_key else {}
        self.client = Client(**headers)
        self.validate = validate

    def _check(self, method: str, path: str, response):
        is_json = response.get("Content-Type", "").startswith("application/json")
        if self.validate and is_json and path.startswith("/api/"):
            validate_response(urlsplit(path).path, method, response.status_code, response.json())
        return response

    def get(self, path, **extra):
        return self._check("get", path, self.client.get(path, **extra))

    def post(self, path, body=None, *, raw: str | bytes | None = None, **extra):
        data = raw if raw is not None else json.dumps(body if body is not None else {})
        return self._check("post", path, self.client.post(path, data=data, content_type="application/json", **extra))

    def patch(self, path, body=None, **extra):
        data = json.dumps(body if body is not None else {})
        return self._check("patch", path, self.client.patch(path, data=data, content_type="application/json", **extra))


@pytest.fixture
def api(db):
    return ApiClient()


@pytest.fixture
def core_app(db):
    """Core's real WSGI app, in process, as an httpx transport for the core client."""
    with keeping_test_connection():
        yield core_transport()


@pytest.fixture(scope="session")
def django_db_keepdb(request, django_db_keepdb, django_db_createdb, django_db_use_migrations,
                     django_db_modify_db_settings):
    """On SQLite, each pytest process's test database starts as a copy of the migrated template the e2e tests' core
    processes start from (tests/e2e/processes.py: migrated once for the current migrations) instead of migrating its
    own (some 3 s of CPU for each worker). Django then opens it as a kept database: `migrate` still runs on it, finds
    nothing to apply, and sends post_migrate as usual; the copy is removed at the end of the session, as Django would
    remove the database it made."""
    from django.db import connections

    if django_db_keepdb or django_db_createdb or not django_db_use_migrations or len(connections.settings) != 1:
        return django_db_keepdb
    connection = connections["default"]
    if connection.vendor != "sqlite":  # the MongoDB profile: no file to copy, migrate as usual
        return django_db_keepdb
    name = connection.creation._get_test_db_name()
    if connection.creation.is_in_memory_db(name):
        return django_db_keepdb
    from tests.e2e.processes import migrated_template

    name = Path(name)
    template = migrated_template({"APP_ENV": "development", "DJANGO_SETTINGS_MODULE": "config.settings.core"})
    shutil.copyfile(template, name)

    def remove():
        connection.close()
        for path in (name, *(Path(f"{name}-{suffix}") for suffix in ("wal", "shm", "writer.lock"))):
            with contextlib.suppress(FileNotFoundError):
                os.remove(path)

    request.addfinalizer(remove)
    return True


def _uses_database(request) -> bool:
    return request.node.get_closest_marker("django_db") is not None or bool(
        {"db", "transactional_db", "_django_db_helper"} & set(request.fixturenames)
    )


@pytest.fixture(autouse=True)
def _builtin_catalogue(request):
    """The built-in roles every test may rely on, as the data migration installed them.

    On SQLite a test is rolled back, so they stay. A backend without Django-managed transactions (MongoDB)
    runs each test like a TransactionTestCase: the database is flushed after it, catalogue included, unless the
    MongoDB profile's flush puts back what the migrations installed (tests/mongo/fast_flush.py): then nothing to do.
    """
    if not _uses_database(request) or request.config.pluginmanager.hasplugin("tests.mongo.fast_flush"):
        return
    request.getfixturevalue("_django_db_helper")
    from apps.rbac.catalogue import install_builtin_catalogue
    from apps.rbac.models import CatalogueVersion, Permission, Role

    if not Role.objects.filter(is_builtin=True).exists():
        install_builtin_catalogue(
            permission_model=Permission, role_model=Role, catalogue_version_model=CatalogueVersion
        )


@pytest.fixture(autouse=True)
def _clean_state():
    cache.clear()
    bind_context(request_id="", service="tests")
    yield
    cache.clear()
    # A test that runs on_commit callbacks inside its rolled-back transaction (captureOnCommitCallbacks(execute=True))
    # leaves its writers remembering stream heads the rollback took away: the next test's appends would start past
    # them. In production a remembered head is always a committed one.
    from apps.audit.streams import lanes

    lanes.forget_heads()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _RequestsInFlight:
    """Requests the live server's threads are serving, from Django's own signals (the test client's, in the test's
    thread, are not counted: a streaming answer a test never reads would hold the count up)."""

    def __init__(self):
        self.threads, self.lock = set(), threading.Lock()
        request_started.connect(self.started, dispatch_uid="tests-requests-started")
        request_finished.connect(self.finished, dispatch_uid="tests-requests-finished")

    @staticmethod
    def _server_thread() -> int | None:
        thread = threading.current_thread()
        return thread.ident if thread.name.endswith("(process_request_thread)") else None

    def started(self, **_signal):
        if (ident := self._server_thread()) is not None:
            with self.lock:
                self.threads.add(ident)

    def finished(self, **_signal):
        if (ident := self._server_thread()) is not None:
            with self.lock:
                self.threads.discard(ident)

    def wait_until_none(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while self.threads and time.monotonic() < deadline:
            time.sleep(0.02)


_requests_in_flight = _RequestsInFlight()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    """A test against the live server ends only once the server has answered what it was asked: a client that gave
    up (a bot's shipping bounded at shutdown) leaves the server thread writing, and a write after the test's database
    was flushed would leave its rows (a user, a dangling audit event) to the next test."""
    yield
    if "live_server" in getattr(item, "fixturenames", ()):
        _requests_in_flight.wait_until_none(timeout=30)


@pytest.fixture(scope="session")
def redis_url():
    """A real redis-server on a free loopback port, for this test session only."""
    binary = shutil.which("redis-server")
    if binary is None:
        message = "redis-server is not installed (CI installs it: apt-get install redis-server)"
        if os.environ.get("REQUIRE_REDIS_TESTS"):
            pytest.fail(message)
        pytest.skip(message)
    port = _free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
        except OSError:
            time.sleep(0.05)
    else:
        process.kill()
        pytest.fail("redis-server did not start")
    yield f"redis://127.0.0.1:{port}/0"
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def redis_cache(redis_url, settings):
    """Switches Django's default cache to the real Redis for one test (Django resets its cache handlers)."""
    settings.CACHES = {
        "default": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": redis_url, "KEY_PREFIX": "test"}
    }
    cache.clear()
    yield cache
    cache.clear()



# With several workers (`make test`: pytest -n N --dist loadgroup) xdist hands out work units (worker_group) in the
# order below, the longest first, so that no long one starts near the end while the other workers run out of work
# (longest processing time first). Named: units of a minute or more of one worker (setups included), longest first
# as measured; then whole directories whose tests start processes; then the rest, larger units (more tests) first.
_LONGEST_FIRST = (
    "tests/e2e/test_web_api.py", "tests/docs/test_readme_commands.py", "tests/browser/", "tests/observability/",
    "tests/fuzz/test_openapi_fuzz.py",  # two role sets, then schemathesis on both schemas
    "tests/e2e/test_locks.py", "tests/deploy_models/test_netns.py",
    "tests/e2e/test_captcha.py",  # a bot restart waits out a challenge's timeout and core's claim lease
    "tests/e2e/test_durability.py", "tests/deploy_models/test_one_machine.py", "tests/e2e/test_readme_demo.py",
    "tests/e2e/test_welcome_rules_log.py", "tests/e2e/test_antiflood.py", "tests/e2e/test_bot_lifecycle.py",
    "tests/e2e/test_bot_commands.py", "tests/dashboard/test_banlist_pages.py", "tests/dashboard/test_invalid_ids.py",
    "tests/dashboard/test_live.py", "tests/dashboard/test_banlist_api.py", "tests/dashboard/test_content_pages.py",
    "tests/dashboard/test_group_warn_expiry_pages.py", "tests/dashboard/test_content_api.py",
    "tests/dashboard/test_pages.py", "tests/e2e/test_bot_trust.py", "tests/e2e/test_quiet_moderation.py",
    "tests/e2e/test_filters_notes.py", "tests/e2e/test_blocklist.py", "tests/dashboard/test_protection_pages.py",
    "tests/dashboard/test_refresh_reuse.py",
    "tests/deploy/test_start_scripts.py",  # with test_nginx.py: the roles started by their scripts
    "tests/e2e/", "tests/dashboard/", "tests/deploy_models/", "tests/docs/", "tests/deploy/", "tests/fuzz/",
    "tests/botgateway/", "tests/tgsandbox/",
)
# Units whose files share one session or package fixture of their own (a browser and its platform, a whole
# deployment, the roles started by their deploy scripts): all on one worker, so the fixture is built once. The e2e
# platform, the dashboard's pages platform and Redis are built once per worker that needs them: their files are
# long, so they spread.
_SHARED = {
    "tests/browser/": "tests/browser/",
    "tests/observability/": "tests/observability/",
    "tests/deploy/test_nginx.py": "tests/deploy/test_start_scripts.py",
}


def worker_group(nodeid: str) -> str:
    """What runs on one worker, in collection order: a file (a module may share a platform, or leave state its next
    test expects, as in a serial run), or several files of _SHARED."""
    path = nodeid.split("::", 1)[0]
    return next((group for prefix, group in _SHARED.items() if path.startswith(prefix)), path)


def _rank(group: str) -> int:
    return next((rank for rank, prefix in enumerate(_LONGEST_FIRST) if group.startswith(prefix)), len(_LONGEST_FIRST))


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """--dist loadgroup, with the groups of worker_group, handed out in the workers' collection order (see
    pytest_collection_modifyitems). (xdist's own loadgroup renames a marked test's node id, which pytest 9 no
    longer lets it do: its groups would be silently ignored.)"""
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class FileAndDirectoryScheduling(LoadScopeScheduling):
        def __init__(self, config, log=None):
            super().__init__(config, log)
            # xdist would hand the units out by their number of tests instead, one test of a few minutes last.
            self.config.option.loadscopereorder = False

        def _split_scope(self, nodeid: str) -> str:
            return worker_group(nodeid)

    return FileAndDirectoryScheduling(config, log)


@pytest.hookimpl(hookwrapper=True)
def pytest_collection_modifyitems(config, items):
    """In an xdist worker (whose collection sets the order work is handed out in), the units in _LONGEST_FIRST's
    order, the rest by size; after pytest-django's reordering, which puts the tests without a database (the slowest
    among them) last. Serial runs keep pytest's order."""
    yield
    if hasattr(config, "workerinput"):
        sizes = {}
        for item in items:
            group = worker_group(item.nodeid)
            sizes[group] = sizes.get(group, 0) + 1
        first_seen = {}
        for index, item in enumerate(items):
            first_seen.setdefault(worker_group(item.nodeid), index)

        def order(item):
            group = worker_group(item.nodeid)
            return _rank(group), -sizes[group], first_seen[group]

        items.sort(key=order)
