import json
import os
import shutil
import socket
import subprocess
import time
from urllib.parse import urlsplit

import pytest
from django.core.cache import cache
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


def _uses_database(request) -> bool:
    return request.node.get_closest_marker("django_db") is not None or bool(
        {"db", "transactional_db", "_django_db_helper"} & set(request.fixturenames)
    )


@pytest.fixture(autouse=True)
def _builtin_catalogue(request):
    """The built-in roles every test may rely on, as the data migration installed them.

    On SQLite a test is rolled back, so they stay. A backend without Django-managed transactions (MongoDB)
    runs each test like a TransactionTestCase: the database is flushed after it, catalogue included.
    """
    if not _uses_database(request):
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


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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



# With several workers (`make test`: pytest -n N --dist loadgroup), the slowest directories start first, so that the
# run does not end waiting on one of them; serial runs keep pytest's order.
_SLOWEST_FIRST = ("tests/e2e/", "tests/browser/", "tests/docs/", "tests/deploy_models/", "tests/fuzz/", "tests/deploy/",
                  "tests/dashboard/", "tests/observability/", "tests/botgateway/", "tests/tgsandbox/")
# Directories whose files share one session fixture of their own (a browser and its platform, the dashboard's pages
# platform, a whole deployment): each runs on one worker, so the fixture is built once. The e2e platform and Redis
# are built once per worker that needs them: e2e files are long, so they spread.
_SHARED_DIRECTORIES = ("tests/browser/", "tests/dashboard/", "tests/observability/")


def _slowness_rank(item) -> int:
    path = item.nodeid
    return next((rank for rank, prefix in enumerate(_SLOWEST_FIRST) if path.startswith(prefix)), len(_SLOWEST_FIRST))


def worker_group(nodeid: str) -> str:
    """What runs on one worker, in collection order: a file (a module may share a platform, or leave state its next
    test expects, as in a serial run), or a whole directory of _SHARED_DIRECTORIES."""
    path = nodeid.split("::", 1)[0]
    return next((directory for directory in _SHARED_DIRECTORIES if path.startswith(directory)), path)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """--dist loadgroup, with the groups of worker_group. (xdist's own loadgroup renames a marked test's node id,
    which pytest 9 no longer lets it do: its groups would be silently ignored.)"""
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class FileAndDirectoryScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return worker_group(nodeid)

    return FileAndDirectoryScheduling(config, log)


@pytest.hookimpl(hookwrapper=True)
def pytest_collection_modifyitems(config, items):
    """In an xdist worker (whose collection sets the order work is handed out in), the slowest directories first;
    after pytest-django's reordering, which puts the tests without a database (the slowest among them) last."""
    yield
    if hasattr(config, "workerinput"):
        items.sort(key=_slowness_rank)
