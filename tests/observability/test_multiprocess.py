"""/metrics under gunicorn with two workers (core: sync workers; web: uvicorn workers): whichever worker answers
the scrape, it reports what all the workers counted (prometheus_client's multiprocess mode), not its own share."""

import json
import re
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from prometheus_client.mmap_dict import MmapedDict

from tests.e2e.processes import TEST_KEY

from .scrape import Scrape

pytestmark = pytest.mark.e2e

N = 60


def per_worker(metrics_dir, sample_name: str, labels: dict) -> Counter:
    """What each worker process wrote for one series, read from its own file in the multiprocess directory."""
    counts: Counter = Counter()
    for path in metrics_dir.glob("*.db"):
        pid = re.search(r"_(\d+)\.db$", path.name)
        for key, value, _, _ in MmapedDict.read_all_values_from_file(str(path)):
            _, name, series_labels, _ = json.loads(key)
            if pid and name == sample_name and labels.items() <= series_labels.items():
                counts[pid.group(1)] += value
    return counts


@pytest.mark.parametrize(("role", "path", "endpoint"), [
    ("core", "/api/rbac/roles/moderator", "api/rbac/roles/<str:name>"),
    ("web", "/api/health", "api/health"),
])
def test_counts_from_both_workers_are_summed_in_every_scrape(deployment, role, path, endpoint):
    labels = {"endpoint": endpoint, "method": "GET", "status": "200"}
    metrics_dir = deployment.metrics_dirs[role]
    before = Scrape(deployment.scrape(role))
    workers_before = per_worker(metrics_dir, "api_requests_total", labels)
    assert before.value("api_requests_total", **labels) == sum(workers_before.values())

    with httpx.Client(base_url=deployment.placement.url(role), headers={"X-API-Key": TEST_KEY}, timeout=10) as http:
        def fetch(_):
            # A fresh connection each time, so gunicorn hands requests to whichever worker is free.
            return http.get(path, headers={"Connection": "close"}).status_code

        with ThreadPoolExecutor(max_workers=8) as pool:
            statuses = list(pool.map(fetch, range(N)))
    assert statuses == [200] * N

    workers = per_worker(metrics_dir, "api_requests_total", labels) - workers_before
    assert len(workers) == 2, workers  # both workers served some of them
    assert sum(workers.values()) == N

    for _ in range(6):  # each scrape lands on either worker
        scrape = Scrape(deployment.scrape(role))
        grown = {sample: scrape.value(sample, **series) - before.value(sample, **series) for sample, series in [
            ("api_requests_total", labels),
            ("api_request_duration_seconds_count", {"endpoint": endpoint, "method": "GET"}),
            ("api_request_duration_seconds_bucket", {"endpoint": endpoint, "method": "GET", "le": "+Inf"}),
        ]}
        assert set(grown.values()) == {N}, grown
