"""The web role's clients of core: the sync one, one per process, built on first use (after gunicorn forks its
workers); the async one (the live feed, its consumers, a live session's token check), one per event loop (one per
process when served; each test's loop gets its own), since an aiohttp session cannot cross loops."""

import asyncio
import threading
import weakref

from django.conf import settings

from apps.coreclient import AsyncCoreClient, CoreClient

_lock = threading.Lock()
_client: CoreClient | None = None
_async_clients: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, AsyncCoreClient]" = weakref.WeakKeyDictionary()


def core() -> CoreClient:
    global _client
    if _client is None:
        with _lock:
            if _client is None:
                _client = CoreClient(settings.CORE_API_URL, settings.CORE_API_KEY,
                                     timeout=settings.WEB_CORE_TIMEOUT_SECONDS, retries=settings.WEB_CORE_RETRIES)
    return _client


def async_core() -> AsyncCoreClient:
    loop = asyncio.get_running_loop()
    client = _async_clients.get(loop)
    if client is None:
        client = AsyncCoreClient(settings.CORE_API_URL, settings.CORE_API_KEY,
                                 timeout=settings.WEB_CORE_TIMEOUT_SECONDS, retries=settings.WEB_CORE_RETRIES)
        _async_clients[loop] = client
    return client


async def close_async_core() -> None:
    client = _async_clients.pop(asyncio.get_running_loop(), None)
    if client is not None:
        await client.aclose()
