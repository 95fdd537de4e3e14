"""The async client of core for the live feed and its consumers: one per event loop (one per process when
served; each test's loop gets its own), since an aiohttp session cannot cross loops."""

import asyncio
import weakref

from django.conf import settings

from apps.coreclient import AsyncCoreClient

_clients: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, AsyncCoreClient]" = weakref.WeakKeyDictionary()


def async_core() -> AsyncCoreClient:
    loop = asyncio.get_running_loop()
    client = _clients.get(loop)
    if client is None:
        client = AsyncCoreClient(settings.CORE_API_URL, settings.CORE_API_KEY,
                                 timeout=settings.WEB_CORE_TIMEOUT_SECONDS, retries=settings.WEB_CORE_RETRIES)
        _clients[loop] = client
    return client


async def close_async_core() -> None:
    client = _clients.pop(asyncio.get_running_loop(), None)
    if client is not None:
        await client.aclose()
