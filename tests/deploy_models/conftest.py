import os
import shutil

import pytest

from .roles import Deployment, Placement


def require_redis_server() -> None:
    if shutil.which("redis-server") is None:
        message = "redis-server is not installed (CI installs it: apt-get install redis-server)"
        if os.environ.get("REQUIRE_REDIS_TESTS"):
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(scope="module")
def one_machine(tmp_path_factory):
    """Every role on this machine's loopback, under its production server, with a real Redis; logs at INFO."""
    require_redis_server()
    deployment = Deployment(tmp_path_factory.mktemp("one-machine"), Placement.loopback())
    try:
        deployment.start()
    except Exception:
        deployment.stop()
        raise
    yield deployment
    deployment.stop()
