import asyncio

from django.conf import settings
from django.http import JsonResponse
from telegram.error import TelegramError

from apps.common.envelope import error_body, success_body
from apps.coreclient import CoreError, CoreUnavailable

from .runtime import current_application


async def _core_reachable(application) -> bool:
    try:
        await asyncio.wait_for(application.bot_data.core.health(), timeout=1.5)
        return True
    except (CoreUnavailable, CoreError, TimeoutError):
        return False


async def _telegram_reachable(application) -> bool:
    try:
        await asyncio.wait_for(application.bot.get_me(), timeout=1.5)
        return True
    except (TelegramError, TimeoutError):
        return False


async def bot_health(request):
    application = current_application()
    report = {"status": "unhealthy", "service": settings.SERVICE_NAME, "version": settings.VERSION,
              "core_api": "unknown", "telegram": "unknown", "outbox_depth": None}
    if application is None:
        return JsonResponse(error_body("service_unavailable", "bot application not running", 503, report),
                            status=503)
    core_ok, telegram_ok = await asyncio.gather(_core_reachable(application), _telegram_reachable(application))
    shipper = application.bot_data.shipper
    report.update({
        "core_api": "connected" if core_ok else "unreachable",
        "telegram": "connected" if telegram_ok else "unreachable",
        "outbox_depth": await asyncio.to_thread(shipper.outbox.depth) if shipper else None,
    })
    # Core down is a degradation the bot is built for (the outbox holds events); Telegram down is not.
    report["status"] = "healthy" if core_ok and telegram_ok else "degraded" if telegram_ok else "unhealthy"
    if not telegram_ok:
        return JsonResponse(error_body("service_unavailable", "Telegram unreachable", 503, report), status=503)
    return JsonResponse(success_body(report))
