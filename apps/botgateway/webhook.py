"""The Telegram webhook, served straight from the ASGI entry point: it is the bot's hottest path (every message
of every group arrives here), so it skips Django's request machinery, and a plain message in a known group, which
needs nothing but counting and the checks of the group's cached rules (antiflood, content.py), skips
python-telegram-bot's as well (see activity.plain_message_event; BOT_WEBHOOK_PLAIN_MESSAGE_SHORTCUT=false sends it
through the application like any other update).

Telegram's rules: a request without the right X-Telegram-Bot-Api-Secret-Token is refused (403) and not processed.
Telegram never redelivers an update it got a 200 for, so 200 means durable: a plain message's event, or any other
update's raw body, is committed to the outbox file first (grouped with the requests arriving meanwhile: one
transaction, one fsync). Stored updates are handled by the application and marked handled afterwards; a restart
handles again those that were not (see runtime.replay_stored_updates), and an update id stored before is
acknowledged without being handled twice.

Any other body with the right secret is acknowledged with 200 as well, never a 5xx: malformed (not JSON, nested
deeper than the parser goes, impossible values such as a date out of any calendar, wrong types) or larger than
MAX_BODY. Telegram would redeliver a refused update forever and hold the bot's later updates behind it; such a
body is logged, counted (bot_webhook_requests_total{outcome="malformed"|"too_large"}) and dropped. The one 5xx
left is 503 when the bot cannot make the update durable (starting, or the disk refused the write): Telegram then
retries it, which is what should happen.

With BOT_REDIS_URL (several replicas) the webhook keeps nothing of its own: after the same secret, size and
update-id checks the raw update is added to the shared log (replicas/log.py) and 200 means Redis has it; the
replica holding the chat's partition handles it (replicas/consumer.py).
"""

import hmac
import json
import logging

from django.conf import settings
from telegram import Update

from apps.common.envelope import error_body
from apps.common.error_codes import ErrorCode

from .handlers.activity import plain_message_event
from .metrics import BOT_UPDATES, WEBHOOK_REQUESTS
from .protection.antiflood import observe_message
from .protection.content import observe_content
from .replicas.log import update_id_and_payload
from .runtime import current_application, current_update_log

logger = logging.getLogger(__name__)

PATH = "/telegram/webhook"
SECRET_HEADER = b"x-telegram-bot-api-secret-token"
# Telegram's largest updates (a 4096-character message quoting another, with entities) are a few tens of KB.
MAX_BODY = 1024 * 1024
MAX_UPDATE_ID = 2**63 - 1  # the outbox file keys stored updates by id (SQLite's INTEGER)


async def _respond(send, status: int, body: dict) -> None:
    payload = json.dumps(body).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]})
    await send({"type": "http.response.body", "body": payload})


def _declared_length(headers: dict) -> int | None:
    try:
        return int(headers.get(b"content-length", b""))
    except ValueError:
        return None


async def _read_body(receive, headers: dict) -> bytes | None:
    """The body, or None when it is larger than MAX_BODY (then not read further)."""
    declared = _declared_length(headers)
    if declared is not None and declared > MAX_BODY:
        return None
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


def _parse(body: bytes, application) -> tuple[int, dict | None, Update | None, dict | None]:
    """(update id, a plain message's event, None, its message) or (update id, None, the update for the application,
    None). Raises on anything else."""
    payload = json.loads(body)
    if type(payload) is not dict:
        raise ValueError("not a JSON object")
    update_id = payload.get("update_id")
    if type(update_id) is not int or not 0 <= update_id <= MAX_UPDATE_ID:
        raise ValueError("no usable update_id")
    event = None
    if settings.BOT_WEBHOOK_PLAIN_MESSAGE_SHORTCUT:
        event = plain_message_event(payload, application.bot_data.groups)
    if event is not None:
        return update_id, event, None, payload["message"]
    update = Update.de_json(payload, application.bot)
    if not isinstance(update, Update):
        raise ValueError("not an update")
    return update_id, None, update, None


def _dropped(outcome: str, error: str) -> dict:
    WEBHOOK_REQUESTS.labels(outcome=outcome).inc()
    logger.error("update dropped", extra={"outcome": outcome, "error": error[:200]})
    return {"ok": True, "dropped": True}


async def handle_webhook(scope, receive, send) -> None:
    if scope["method"] != "POST":
        await _respond(send, 405, error_body(ErrorCode.METHOD_NOT_ALLOWED, "POST only", 405))
        return
    headers = dict(scope["headers"])
    presented = headers.get(SECRET_HEADER, b"")
    expected = settings.TELEGRAM_WEBHOOK_SECRET.encode()
    if not expected or not hmac.compare_digest(presented, expected):
        WEBHOOK_REQUESTS.labels(outcome="refused").inc()
        await _respond(send, 403, error_body(ErrorCode.PERMISSION_DENIED, "Wrong or missing webhook secret", 403))
        return
    application = current_application()
    if application is None:
        await _respond(send, 503, error_body(ErrorCode.SERVICE_UNAVAILABLE, "The bot is starting", 503))
        return
    body = await _read_body(receive, headers)
    if body is None:
        await _respond(send, 200, _dropped("too_large", f"update larger than {MAX_BODY} bytes"))
        return
    update_log = current_update_log()
    if update_log is not None:
        await _append_to_log(update_log, body, send)
        return
    try:
        update_id, event, update, message = _parse(body, application)
    except Exception as exc:  # whatever the body holds (RecursionError, OverflowError, ...): never redelivered
        await _respond(send, 200, _dropped("malformed", f"{type(exc).__name__}: {exc}"))
        return
    shipper = application.bot_data.shipper
    try:
        if event is not None:
            await shipper.persist_events([event])
        else:
            fresh = await shipper.persist_update(update_id, body)
    except Exception:  # not durable, so not acknowledged: Telegram sends it again
        WEBHOOK_REQUESTS.labels(outcome="unavailable").inc()
        logger.exception("update could not be stored")
        await _respond(send, 503, error_body(ErrorCode.SERVICE_UNAVAILABLE, "The update could not be stored", 503))
        return
    if event is not None:  # counted, and seen by antiflood and the content rules; nothing else acts on it
        observe_message(application.bot_data, event["telegram_chat_id"], event["telegram_user_id"],
                        message["message_id"], message["date"], event["display_name"])
        observe_content(application.bot_data, message)
        BOT_UPDATES.labels(kind="message").inc()
        WEBHOOK_REQUESTS.labels(outcome="counted").inc()
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug("update", extra={"update_id": update_id, "command": None,
                                          "chat_id": event["telegram_chat_id"], "event_id": event["event_id"]})
    elif not fresh:
        WEBHOOK_REQUESTS.labels(outcome="duplicate").inc()
    else:
        await application.update_queue.put(update)
        WEBHOOK_REQUESTS.labels(outcome="queued").inc()
    await _respond(send, 200, {"ok": True})


async def _append_to_log(update_log, body: bytes, send) -> None:
    """Several replicas (BOT_REDIS_URL): the update goes into the shared log, handled by the replica that holds its
    chat's partition; 200 once Redis has it (or had it: a redelivery), 503 when Redis did not take it."""
    try:
        update_id, payload = update_id_and_payload(body)
    except Exception as exc:  # as above: never redelivered
        await _respond(send, 200, _dropped("malformed", f"{type(exc).__name__}: {exc}"))
        return
    try:
        fresh = await update_log.append(update_id, body, payload)
    except Exception:  # not in the log, so not acknowledged: Telegram sends it again
        WEBHOOK_REQUESTS.labels(outcome="unavailable").inc()
        logger.exception("update could not be added to the shared log")
        await _respond(send, 503, error_body(ErrorCode.SERVICE_UNAVAILABLE, "The update could not be stored", 503))
        return
    WEBHOOK_REQUESTS.labels(outcome="queued" if fresh else "duplicate").inc()
    await _respond(send, 200, {"ok": True})
