import pytest

from tests.deploy_models.conftest import require_role_processes
from tests.deploy_models.roles import Deployment, Placement


@pytest.fixture(scope="session")
def deployment(tmp_path_factory):
    """Every role on loopback under its production server (core: gunicorn, 2 workers), logging at INFO.

    Core's multiprocess metrics directory is the test's, so a test can read what each worker counted."""
    require_role_processes()
    tmp = tmp_path_factory.mktemp("observability")
    deployment = Deployment(tmp, Placement.loopback())
    metrics_dir = tmp / "core-metrics"
    metrics_dir.mkdir()
    deployment.core.env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
    deployment.core_metrics_dir = metrics_dir
    try:
        deployment.start()
    except Exception:
        deployment.stop()
        raise
    yield deployment
    deployment.stop()
