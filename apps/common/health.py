"""Dependency probes for /api/health. Each role lists the ones that matter to it in HEALTH_CHECKS."""

import logging
import uuid

from django.core.cache import cache

from .db import ping

logger = logging.getLogger(__name__)


def probe_database() -> bool:
    try:
        ping()
        return True
    except Exception as exc:  # any driver error means "unreachable" here
        logger.warning("health: database unreachable", extra={"error": str(exc)})
        return False


def probe_cache() -> bool:
    key = f"health:{uuid.uuid4().hex}"
    try:
        cache.set(key, "1", timeout=5)
        ok = cache.get(key) == "1"
        cache.delete(key)
        return ok
    except Exception as exc:
        logger.warning("health: cache unreachable", extra={"error": str(exc)})
        return False


PROBES = {"database": probe_database, "cache": probe_cache}
# A failing critical probe makes the service unhealthy (503); others only degrade it.
CRITICAL = {"database"}
