import hmac
import json
import logging

from django.conf import settings
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from telegram import Update

from apps.common.envelope import error_body

from .runtime import current_application

logger = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 (a header name, not a secret)


@csrf_exempt
@require_POST
async def telegram_webhook(request):
    presented = request.headers.get(SECRET_HEADER, "").encode()
    expected = settings.TELEGRAM_WEBHOOK_SECRET.encode()
    if not expected or not hmac.compare_digest(presented, expected):
        return JsonResponse(error_body("permission_denied", "Wrong or missing webhook secret", 403), status=403)
    application = current_application()
    if application is None:
        return JsonResponse(error_body("service_unavailable", "The bot is starting", 503), status=503)
    try:
        update = Update.de_json(json.loads(request.body), application.bot)
    except (ValueError, TypeError, KeyError) as exc:
        # Acknowledged all the same: Telegram would otherwise redeliver a broken update forever.
        logger.error("malformed update dropped", extra={"error": str(exc)})
        return JsonResponse({"ok": True, "dropped": True})
    await application.update_queue.put(update)
    return JsonResponse({"ok": True})
