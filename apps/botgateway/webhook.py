"""The Telegram webhook, served straight from the ASGI entry point: it is the bot's hottest path (every message
of every group arrives here), so it skips Django's request machinery, and a plain message in a known group, which
needs nothing but counting, skips python-telegram-bot's as well (see activity.plain_message_event).

Telegram's rules: a request without the right X-Telegram-Bot-Api-Secret-Token is refused (403) and not processed;
anything else is acknowledged (200) once queued or counted, even a malformed update, which is logged instead:
Telegram would redeliver it forever."""

import hmac
import json
import logging

from django.conf import settings
from telegram import Update

from apps.common.envelope import error_body

from .handlers.activity import plain_message_event
from .metrics import BOT_UPDATES, WEBHOOK_REQUESTS
from .runtime import current_application

logger = logging.getLogger(__name__)

PATH = "/telegram/webhook"
SECRET_HEADER = b"x-telegram-bot-api-secret-token"
MAX_BODY = 1024 * 1024


async def _respond(send, status: int, body: dict) -> None:
    payload = json.dumps(body).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]})
    await send({"type": "http.response.body", "body": payload})


async def _read_body(receive) -> bytes | None:
    chunks, size = [], 0
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            return None
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks)


async def handle_webhook(scope, receive, send) -> None:
    if scope["method"] != "POST":
        await _respond(send, 405, error_body("method_not_allowed", "POST only", 405))
        return
    presented = dict(scope["headers"]).get(SECRET_HEADER, b"")
    expected = settings.TELEGRAM_WEBHOOK_SECRET.encode()
    if not expected or not hmac.compare_digest(presented, expected):
        WEBHOOK_REQUESTS.labels(outcome="refused").inc()
        await _respond(send, 403, error_body("permission_denied", "Wrong or missing webhook secret", 403))
        return
    application = current_application()
    if application is None:
        await _respond(send, 503, error_body("service_unavailable", "The bot is starting", 503))
        return
    body = await _read_body(receive)
    try:
        if body is None:
            raise ValueError("update larger than 1 MiB")
        payload = json.loads(body)
        event = plain_message_event(payload, application.bot_data.groups)
        if event is not None:  # counted here; nothing else acts on it
            application.bot_data.shipper.record(event)
            BOT_UPDATES.labels(kind="message").inc()
            WEBHOOK_REQUESTS.labels(outcome="counted").inc()
            if logger.isEnabledFor(logging.DEBUG):
                logger.debug("update", extra={"update_id": payload["update_id"], "command": None,
                                              "chat_id": event["telegram_chat_id"],
                                              "message_id": payload["message"]["message_id"]})
            await _respond(send, 200, {"ok": True})
            return
        update = Update.de_json(payload, application.bot)
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        WEBHOOK_REQUESTS.labels(outcome="malformed").inc()
        logger.error("malformed update dropped", extra={"error": str(exc)})
        await _respond(send, 200, {"ok": True, "dropped": True})
        return
    await application.update_queue.put(update)
    WEBHOOK_REQUESTS.labels(outcome="queued").inc()
    await _respond(send, 200, {"ok": True})
