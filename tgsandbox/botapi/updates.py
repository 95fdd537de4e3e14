"""Bot API methods that deliver updates: getUpdates (long polling) and the webhook (setWebhook,
deleteWebhook, getWebhookInfo). The webhook's delivery itself is :mod:`tgsandbox.webhook`.
"""

from __future__ import annotations

import re
import time
from typing import Any

from ..errors import bad_request, conflict
from ..world import World
from ..world.model import Bot
from .params import Answer, Call

LONG_POLL_MAX_TIMEOUT = 50

WEBHOOK_CONFLICT = (
    "can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"
)
POLL_CONFLICT = "terminated by other getUpdates request; make sure that only one bot instance is running"


def _allowed_updates(call: Call) -> None:
    p = call.params
    if "allowed_updates" not in p.data:
        return
    value = p.json("allowed_updates", "allowed updates")
    if value is None:
        return
    if not isinstance(value, list):
        raise bad_request("can't parse allowed updates JSON object")
    call.bot.allowed_updates = [str(v) for v in value] or None


def set_webhook(call: Call) -> Any:
    bot, p = call.bot, call.params
    url = p.str("url").strip()
    if not url:
        return delete_webhook(call)
    if not re.match(r"^https?://[^/\s:]+(:\d+)?(/\S*)?$", url):
        raise bad_request("bad webhook: invalid webhook URL specified")
    secret = p.str("secret_token") or None
    if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
        raise bad_request("secret token contains unallowed characters")
    drop = p.bool("drop_pending_updates")
    _allowed_updates(call)
    max_connections = p.int("max_connections", 40) or 40
    if drop:
        bot.updates.clear()
    if url == bot.webhook_url and secret == bot.webhook_secret and not drop:
        return Answer(True, "Webhook is already set")
    bot.webhook_url, bot.webhook_secret = url, secret
    bot.webhook_max_connections = max(1, min(100, max_connections))
    bot.webhook_generation += 1
    bot.webhook_last_error_date = bot.webhook_last_error_message = None
    bot.poll_generation += 1  # a pending getUpdates is cut off
    call.world.notifier.notify()
    return Answer(True, "Webhook was set")


def delete_webhook(call: Call) -> Any:
    bot = call.bot
    if call.params.bool("drop_pending_updates"):
        bot.updates.clear()
    if not bot.webhook_url:
        return Answer(True, "Webhook is already deleted")
    bot.webhook_url, bot.webhook_secret = "", None
    bot.webhook_generation += 1
    call.world.notifier.notify()
    return Answer(True, "Webhook was deleted")


def get_webhook_info(call: Call) -> Any:
    bot = call.bot
    info: dict[str, Any] = {"url": bot.webhook_url, "has_custom_certificate": False,
                            "pending_update_count": len(bot.updates)}
    if bot.webhook_url:
        info["max_connections"] = bot.webhook_max_connections
        info["ip_address"] = "127.0.0.1"
        if bot.allowed_updates:
            info["allowed_updates"] = list(bot.allowed_updates)
    if bot.webhook_last_error_date:
        info["last_error_date"] = bot.webhook_last_error_date
        info["last_error_message"] = bot.webhook_last_error_message
    return info


async def get_updates(call: Call) -> Any:
    """Long polling with Telegram's semantics: offset confirms, negative offset keeps the tail,
    a newer getUpdates or a webhook cuts off a waiting one with 409. It waits outside the world's lock."""
    world, bot, p = call.world, call.bot, call.params
    with world.lock:
        if bot.webhook_url:
            raise conflict(WEBHOOK_CONFLICT)
        offset = p.int("offset")
        limit = max(1, min(100, p.int("limit", 100) or 100))
        timeout = max(0, min(LONG_POLL_MAX_TIMEOUT, p.int("timeout")))
        _allowed_updates(call)
        bot.poll_generation += 1
        generation = bot.poll_generation
        if offset > 0:
            bot.updates[:] = [u for u in bot.updates if u["update_id"] >= offset]
        elif offset < 0:
            bot.updates[:] = bot.updates[offset:]
        bot.polling += 1
        bot.last_poll_at = world.now_float()
    world.notifier.notify()
    try:
        return await _poll(world, bot, generation, limit, time.monotonic() + timeout)
    finally:
        with world.lock:
            bot.polling -= 1
            bot.last_poll_at = world.now_float()


async def _poll(world: World, bot: Bot, generation: int, limit: int, deadline: float) -> list[dict[str, Any]]:
    while True:
        version = world.notifier.version
        with world.lock:
            if world.bots.get(bot.token) is not bot:
                return []
            if bot.poll_generation != generation:
                raise conflict(WEBHOOK_CONFLICT if bot.webhook_url else POLL_CONFLICT)
            if bot.updates:
                batch = [dict(u) for u in bot.updates[:limit]]
                bot.delivered += len(batch)
                return batch
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return []
        await world.notifier.wait_async(version, remaining)
