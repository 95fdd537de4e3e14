"""Several core processes (gunicorn, as deployed) on one database, concurrent clients mixing permission checks and
audited writes: no 5xx, and the trail verifies afterwards (every writer's stream, every signed checkpoint). The
throughput figures live in bench/audit_contention.py; nothing here is timed."""

import pytest

from bench.audit_contention import contend


@pytest.mark.parametrize("profile", ["sqlite", "mongo"])
def test_two_core_processes_and_eight_clients_never_answer_5xx_and_the_trail_verifies(tmp_path, profile):
    figures = contend(profile=profile, processes=2, clients=8, seconds=4, data_dir=tmp_path)
    assert figures["checks"] > 0 and figures["writes"] > 0, figures
    assert (figures["5xx"], figures["transport_errors"]) == (0, 0), figures["errors"]
    assert figures["verified"], figures["verify_output"]
    assert figures["events"] == figures["expected_events"], figures  # every answered check and write is on the trail
