"""GET /api/health: no key, reports each dependency; 503 when the database is unreachable."""

import socket

import pytest
from django.db import OperationalError, connections

from apps.common import health
from apps.common.db import is_mongodb
from tests.common.assertions import assert_error
from tests.conftest import ApiClient


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def anonymous(db):
    return ApiClient(api_key=None)  # still validated against the schema


def test_healthy(anonymous):
    response = anonymous.get("/api/health")
    assert response.status_code == 200
    assert response.json() == {
        "success": True,
        "data": {
            "status": "healthy",
            "service": "centralized-api",
            "version": "1.0.0",
            "database": "connected",
            "cache": "connected",
        },
    }


def _refuse_connection(self, *args, **kwargs):
    raise OperationalError("unable to open database file")


def test_unreachable_database_is_503_in_the_envelope(anonymous, monkeypatch):
    with monkeypatch.context() as patch:
        patch.setattr(type(connections["default"]), "ensure_connection", _refuse_connection)
        response = anonymous.get("/api/health")
    body = assert_error(response, 503, "service_unavailable", "database unreachable")
    assert body["details"]["status"] == "unhealthy"
    assert body["details"]["database"] == "unreachable"
    assert body["details"]["cache"] == "connected"


def test_failing_query_counts_as_unreachable(db, monkeypatch):
    """The driver's error on the round trip (SQL or Mongo's ping) marks the database unreachable."""

    def broken_round_trip(*args, **kwargs):
        raise OperationalError("disk I/O error")

    with monkeypatch.context() as patch:
        if is_mongodb():
            patch.setattr(type(connections["default"].connection.admin), "command", broken_round_trip)
        else:
            patch.setattr(type(connections["default"]), "cursor", lambda self: broken_round_trip())
        assert health.probe_database() is False
    assert health.probe_database() is True


def test_unreachable_cache_only_degrades(anonymous, settings):
    # A Redis nobody listens on: a real connection failure, not a mock.
    settings.CACHES = {"default": {"BACKEND": "django_redis.cache.RedisCache",
                                   "LOCATION": f"redis://127.0.0.1:{_closed_port()}/0",
                                   "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5}}}
    response = anonymous.get("/api/health")
    assert response.status_code == 200
    data = response.json()["data"]
    assert (data["status"], data["database"], data["cache"]) == ("degraded", "connected", "unreachable")


def test_only_the_configured_probes_run(anonymous, settings):
    settings.HEALTH_CHECKS = ["database"]
    data = anonymous.get("/api/health").json()["data"]
    assert data["database"] == "connected"
    assert "cache" not in data
