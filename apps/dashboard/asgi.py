"""ASGI entry of the web role: Django serves HTTP (API, pages, metrics) and Channels the live-updates WebSocket
(/ws/live). Serve with: uvicorn apps.dashboard.asgi:application --lifespan on (development), or gunicorn with
uvicorn_worker.UvicornWorker (deploy/start/web.sh)."""

import logging
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.web")

from concurrent.futures import ThreadPoolExecutor

import django
from asgiref.sync import sync_to_async
from django import db
from django.conf import settings
from django.core import signals
from django.core.handlers.asgi import ASGIHandler

django.setup(set_prefix=False)

# Requests served at once (each waits on core in its own thread); beyond this they queue for a thread.
REQUEST_THREADS = 256


class SyncChainASGIHandler(ASGIHandler):
    """Django over ASGI for a role whose views and middleware are all synchronous: the whole request (middleware
    and view) runs in one worker thread, one hop per request. Django's own ASGI path runs each middleware's
    hooks through a thread hop of their own (MiddlewareMixin under async), which took web from 4.4 to 7.8 ms
    of CPU per API request. Requests run in a pool of long-lived threads, so requests waiting on core do not
    wait on each other; Django's ThreadSensitiveContext would start a new thread for every request."""

    def __init__(self):
        super().__init__()
        self.load_middleware(is_async=False)
        self.executor = ThreadPoolExecutor(max_workers=REQUEST_THREADS, thread_name_prefix="web-request")
        if all(database["ENGINE"] == "django.db.backends.dummy" for database in settings.DATABASES.values()):
            # Web has no database: these receivers have nothing to reset or close, yet under ASGI each signal
            # with a synchronous receiver costs a thread hop per request.
            signals.request_started.disconnect(db.reset_queries)
            signals.request_started.disconnect(db.close_old_connections)
            signals.request_finished.disconnect(db.close_old_connections)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        await self.handle(scope, receive, send)

    async def get_response_async(self, request):
        return await sync_to_async(self.get_response, thread_sensitive=False, executor=self.executor)(request)


# ASGI_SYNC_MIDDLEWARE_CHAIN=false: Django's own ASGI path, the same answers (tests/common/test_framework_bypasses.py).
django_application = SyncChainASGIHandler() if settings.ASGI_SYNC_MIDDLEWARE_CHAIN else ASGIHandler()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from apps.common.heap import freeze_startup_objects  # noqa: E402

from .core import close_async_core  # noqa: E402
from .live.feed import stop_live_feed  # noqa: E402
from .live.hub import stop_live_hub  # noqa: E402
from .live.routing import websocket_urlpatterns  # noqa: E402

logger = logging.getLogger(__name__)

websockets = URLRouter(websocket_urlpatterns)
checked_websockets = AllowedHostsOriginValidator(websockets)


async def websocket_application(scope, receive, send):
    """Browsers send Origin with a WebSocket handshake, but no CORS check guards it: a page from another site
    could open the socket with the user's cookie. So a handshake with an Origin must come from this site's
    hosts (ALLOWED_HOSTS). Browsers always send one; other clients (no cookies to abuse) need not."""
    has_origin = any(name == b"origin" for name, _ in scope.get("headers", []))
    await (checked_websockets if has_origin else websockets)(scope, receive, send)


router = ProtocolTypeRouter({"http": django_application, "websocket": websocket_application})


async def application(scope, receive, send):
    if scope["type"] != "lifespan":
        await router(scope, receive, send)
        return
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            # The feed starts with the first live connection (live.consumers); nothing else to prepare.
            freeze_startup_objects()
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            try:
                await stop_live_feed()
                await stop_live_hub()
                await close_async_core()
            except Exception:
                logger.exception("web: live feed did not stop cleanly")
            await send({"type": "lifespan.shutdown.complete"})
            return
