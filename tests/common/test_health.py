"""GET /api/health on core: no key, the seed's body exactly (not enveloped); 503 unhealthy when the database or a
configured Redis is down. Redis is a real redis-server, or a port nobody (or a mute listener) answers on."""

import socket
import time

import pytest
from django.db import OperationalError, connections

from apps.common import health
from apps.common.db import is_mongodb
from tests.conftest import ApiClient


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def anonymous(db):
    return ApiClient(api_key=None)  # still validated against the schema, 503 included


@pytest.fixture
def embedded(settings):
    settings.REDIS_URL = ""  # the embedded default: no Redis at all


def test_embedded_default_is_healthy_without_redis(anonymous, embedded):
    response = anonymous.get("/api/health")
    assert response.status_code == 200
    assert response.json() == {"status": "healthy", "service": "centralized-api", "version": "1.0.0",
                               "database": "connected", "redis": "not_configured"}


def test_a_key_is_not_needed_and_a_wrong_one_is_ignored(anonymous, embedded):
    assert ApiClient(api_key="wrong").get("/api/health").json()["status"] == "healthy"


@pytest.mark.redis
def test_real_redis_is_connected(anonymous, settings, redis_url):
    settings.REDIS_URL = redis_url
    response = anonymous.get("/api/health")
    assert response.status_code == 200
    assert response.json() == {"status": "healthy", "service": "centralized-api", "version": "1.0.0",
                               "database": "connected", "redis": "connected"}


def test_redis_down_is_503_unhealthy(anonymous, settings):
    settings.REDIS_URL = f"redis://127.0.0.1:{_closed_port()}/0"  # configured, nobody listening: a real refusal
    response = anonymous.get("/api/health")
    assert response.status_code == 503
    assert response.json() == {"status": "unhealthy", "service": "centralized-api", "version": "1.0.0",
                               "database": "connected", "redis": "disconnected"}


def test_a_wedged_redis_answers_within_a_probe_timeout(anonymous, settings):
    with socket.socket() as mute:  # accepts connections, never answers
        mute.bind(("127.0.0.1", 0))
        mute.listen(8)
        settings.REDIS_URL = f"redis://127.0.0.1:{mute.getsockname()[1]}/0"
        started = time.monotonic()
        response = anonymous.get("/api/health")
        elapsed = time.monotonic() - started
    assert (response.status_code, response.json()["redis"]) == (503, "disconnected")
    assert elapsed < 2.5  # deploy/k8s's readiness probe gives up after 3 s


def _refuse_connection(self, *args, **kwargs):
    raise OperationalError("unable to open database file")


def test_database_down_is_503_unhealthy(anonymous, embedded, monkeypatch):
    with monkeypatch.context() as patch:
        patch.setattr(type(connections["default"]), "ensure_connection", _refuse_connection)
        response = anonymous.get("/api/health")
    assert response.status_code == 503
    assert response.json() == {"status": "unhealthy", "service": "centralized-api", "version": "1.0.0",
                               "database": "disconnected", "redis": "not_configured"}


def test_failing_query_counts_as_disconnected(db, monkeypatch):
    """The driver's error on the round trip (SQL or Mongo's ping) marks the database disconnected."""

    def broken_round_trip(*args, **kwargs):
        raise OperationalError("disk I/O error")

    with monkeypatch.context() as patch:
        if is_mongodb():
            patch.setattr(type(connections["default"].connection.admin), "command", broken_round_trip)
        else:
            patch.setattr(type(connections["default"]), "cursor", lambda self: broken_round_trip())
        assert health.probe_database() == "disconnected"
    assert health.probe_database() == "connected"


def test_the_schema_documents_the_seed_body(db):
    from tests.openapi import _schema, response_schema

    components = _schema()["components"]["schemas"]
    for status in (200, 503):
        body = components[response_schema("/api/health", "get", status)["$ref"].rsplit("/", 1)[1]]
        assert sorted(body["required"]) == ["database", "redis", "service", "status", "version"], status
    assert components["RedisState"]["enum"] == ["connected", "disconnected", "not_configured"]
