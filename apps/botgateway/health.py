import asyncio
import logging

from django.http import JsonResponse
from telegram.error import TelegramError

from apps.common.health import CONNECTED, DISCONNECTED, UNHEALTHY, health_report, probe_redis
from apps.coreclient import CoreError, CoreUnavailable

from .runtime import current_application

logger = logging.getLogger(__name__)

PROBE_SECONDS = 1.5


async def _probe_core(application) -> str:
    try:
        await asyncio.wait_for(application.bot_data.core.health(), timeout=PROBE_SECONDS)
        return CONNECTED
    except (CoreUnavailable, CoreError, TimeoutError):
        return DISCONNECTED


async def _telegram_reachable(application) -> bool:
    try:
        await asyncio.wait_for(application.bot.get_me(), timeout=PROBE_SECONDS)
        return True
    except (TelegramError, TimeoutError) as exc:
        logger.warning("health: Telegram unreachable", extra={"error": str(exc)})
        return False


async def bot_health(request):
    """The seed's body (not enveloped), with core's reachability instead of a database: 503 unhealthy while core
    or a configured Redis is disconnected, or Telegram (which has no field of its own in that body) is unreachable.
    The outbox's depth is the `bot_outbox_depth` metric."""
    application = current_application()
    if application is None:
        body, _ = health_report({"core_api": DISCONNECTED, "redis": await asyncio.to_thread(probe_redis)})
        return JsonResponse(body, status=503)
    core_api, redis_state, telegram_ok = await asyncio.gather(
        _probe_core(application), asyncio.to_thread(probe_redis), _telegram_reachable(application))
    body, status = health_report({"core_api": core_api, "redis": redis_state})
    if not telegram_ok:
        body["status"], status = UNHEALTHY, 503
    return JsonResponse(body, status=status)
