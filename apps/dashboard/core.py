"""The web role's client of core: one per process, built on first use (after gunicorn forks its workers)."""

import threading

from django.conf import settings

from apps.coreclient import CoreClient

_lock = threading.Lock()
_client: CoreClient | None = None


def core() -> CoreClient:
    global _client
    if _client is None:
        with _lock:
            if _client is None:
                _client = CoreClient(settings.CORE_API_URL, settings.CORE_API_KEY,
                                     timeout=settings.WEB_CORE_TIMEOUT_SECONDS, retries=settings.WEB_CORE_RETRIES)
    return _client
