"""ASGI entry of the bot role: Django serves HTTP (webhook, health, metrics); the lifespan starts and stops
the Telegram application around it. Serve with: uvicorn apps.botgateway.asgi:application --lifespan on"""

import logging
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.bot")

from django.core.asgi import get_asgi_application

django_application = get_asgi_application()

from apps.common.heap import freeze_startup_objects  # noqa: E402

from . import webhook  # noqa: E402
from .runtime import start_webhook_application, stop_webhook_application  # noqa: E402

logger = logging.getLogger(__name__)


async def application(scope, receive, send):
    if scope["type"] == "http" and scope["path"] == webhook.PATH:
        await webhook.handle_webhook(scope, receive, send)
        return
    if scope["type"] != "lifespan":
        await django_application(scope, receive, send)
        return
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            try:
                await start_webhook_application()
            except Exception as exc:
                logger.exception("bot failed to start")
                await send({"type": "lifespan.startup.failed", "message": str(exc)})
                return
            freeze_startup_objects()
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await stop_webhook_application()
            await send({"type": "lifespan.shutdown.complete"})
            return
