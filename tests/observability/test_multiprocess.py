"""/metrics under gunicorn with two workers: whichever worker answers the scrape, it reports what all the
workers counted (prometheus_client's multiprocess mode), not its own share."""

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
ENDPOINT = "api/rbac/roles/<str:name>"


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


def test_counts_from_both_workers_are_summed_in_every_scrape(deployment):
    labels = {"endpoint": ENDPOINT, "method": "GET", "status": "200"}
    before = Scrape(deployment.scrape("core")).value("api_requests_total", **labels)
    assert before == 0  # this route is this test's alone

    core = deployment.placement.url("core")
    with httpx.Client(base_url=core, headers={"X-API-Key": TEST_KEY}, timeout=10) as http:
        def fetch(_):
            # A fresh connection each time, so gunicorn hands requests to whichever worker is free.
            return http.get("/api/rbac/roles/moderator", headers={"Connection": "close"}).status_code

        with ThreadPoolExecutor(max_workers=8) as pool:
            statuses = list(pool.map(fetch, range(N)))
    assert statuses == [200] * N

    workers = per_worker(deployment.core_metrics_dir, "api_requests_total", labels)
    assert len([pid for pid, count in workers.items() if count]) == 2, workers  # both served some
    assert sum(workers.values()) == N

    for _ in range(6):  # each scrape lands on either worker
        scrape = Scrape(deployment.scrape("core"))
        assert scrape.value("api_requests_total", **labels) == N
        assert scrape.value("api_request_duration_seconds_count", endpoint=ENDPOINT, method="GET") == N
        assert scrape.value("api_request_duration_seconds_bucket", endpoint=ENDPOINT, method="GET", le="+Inf") == N
