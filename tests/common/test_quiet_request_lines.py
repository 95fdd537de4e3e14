"""Lines of requests that come every few seconds by themselves (probes, and web's check of a dashboard session on
every page) are logged at DEBUG; a request someone made is logged at INFO."""

import logging

import pytest


@pytest.mark.parametrize("path", ["/api/health", "/api/auth/revoked-families/sess1", "/api/auth/revoked-tokens/j1"])
def test_polling_is_logged_at_debug(api, db, caplog, path):
    with caplog.at_level(logging.DEBUG, logger="apps.request"):
        response = api.get(path)
    assert response.status_code < 500
    [line] = [record for record in caplog.records if record.name == "apps.request"]
    assert (line.levelno, line.path) == (logging.DEBUG, path)


def test_a_request_someone_made_is_logged_at_info(api, db, caplog):
    with caplog.at_level(logging.DEBUG, logger="apps.request"):
        api.get("/api/rbac/roles")
    [line] = [record for record in caplog.records if record.name == "apps.request"]
    assert line.levelno == logging.INFO
