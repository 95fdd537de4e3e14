import os
import shutil

import pytest

from .roles import Deployment, Placement


def require_role_processes() -> None:
    """The role processes run on their own profiles (SQLite) whatever profile this pytest runs on: on the Mongo
    profile (`make test-mongo`) they would only repeat `make test`, as tests/e2e would (it is left out there)."""
    from django.conf import settings

    if getattr(settings, "MONGODB", False):
        pytest.skip("role processes are tested by `make test`; nothing here varies with the database profile")
    require_redis_server()


def require_redis_server() -> None:
    if shutil.which("redis-server") is None:
        message = "redis-server is not installed (CI installs it: apt-get install redis-server)"
        if os.environ.get("REQUIRE_REDIS_TESTS"):
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(scope="module")
def one_machine(tmp_path_factory):
    """Every role on this machine's loopback, under its production server, with a real Redis; logs at INFO."""
    require_role_processes()
    deployment = Deployment(tmp_path_factory.mktemp("one-machine"), Placement.loopback())
    try:
        deployment.start()
    except Exception:
        deployment.stop()
        raise
    yield deployment
    deployment.stop()
