"""/api/health in the seed's shape: each dependency "connected" or "disconnected" ("not_configured" for Redis
when REDIS_URL is unset, the embedded default); any disconnected dependency makes the service unhealthy (503)."""

import functools
import logging

import redis
from django.conf import settings

from .db import ping

logger = logging.getLogger(__name__)

CONNECTED, DISCONNECTED, NOT_CONFIGURED = "connected", "disconnected", "not_configured"
HEALTHY, UNHEALTHY = "healthy", "unhealthy"
# Short enough that a probe (3 s timeout in deploy/k8s) answers when Redis is wedged rather than gone.
REDIS_TIMEOUT_SECONDS = 0.5


def probe_database() -> str:
    try:
        ping()
        return CONNECTED
    except Exception as exc:  # any driver error means "unreachable" here
        logger.warning("health: database unreachable", extra={"error": str(exc)})
        return DISCONNECTED


@functools.cache
def _redis_client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
                                socket_timeout=REDIS_TIMEOUT_SECONDS)


def probe_redis() -> str:
    """The Redis of REDIS_URL (cache, login limits, channel layer), asked directly: the cache itself swallows
    Redis errors (IGNORE_EXCEPTIONS), so it cannot tell."""
    if not settings.REDIS_URL:
        return NOT_CONFIGURED
    try:
        _redis_client(settings.REDIS_URL).ping()
        return CONNECTED
    except (redis.RedisError, OSError) as exc:
        logger.warning("health: redis unreachable", extra={"error": str(exc)})
        return DISCONNECTED


def health_report(dependencies: dict[str, str]) -> tuple[dict, int]:
    """The body and its HTTP status: 200 healthy, or 503 unhealthy when a dependency is disconnected."""
    healthy = DISCONNECTED not in dependencies.values()
    body = {"status": HEALTHY if healthy else UNHEALTHY, "service": settings.SERVICE_NAME,
            "version": settings.VERSION, **dependencies}
    return body, 200 if healthy else 503
