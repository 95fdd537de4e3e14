import pytest

from tests.deploy_models.conftest import require_role_processes
from tests.deploy_models.roles import Deployment, Placement


@pytest.fixture(scope="session")
def deployment(tmp_path_factory):
    """Every role on loopback under its production server (core and web: gunicorn, 2 workers), logging at INFO.

    Core's and web's multiprocess metrics directories are the test's, so a test can read what each worker
    counted."""
    require_role_processes()
    tmp = tmp_path_factory.mktemp("observability")
    deployment = Deployment(tmp, Placement.loopback())
    deployment.metrics_dirs = {}
    for role in ("core", "web"):
        metrics_dir = tmp / f"{role}-metrics"
        metrics_dir.mkdir()
        getattr(deployment, role).env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
        deployment.metrics_dirs[role] = metrics_dir
    try:
        deployment.start()
    except Exception:
        deployment.stop()
        raise
    yield deployment
    deployment.stop()
