"""Webhook delivery, as Telegram does it: one update per POST, in order, retried with backoff.

For every bot with a webhook a worker POSTs the oldest pending update as JSON to the URL, with
``X-Telegram-Bot-Api-Secret-Token`` when a secret is set. A 2xx answer confirms the update; any
other answer or a network error is recorded in ``getWebhookInfo`` (``last_error_date``,
``last_error_message``) and the same update is retried after a growing delay. A JSON answer
carrying ``"method"`` is executed as a Bot API call (Telegram's "reply to the webhook" feature).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

import httpx

from .botapi.dispatch import handle
from .world import World
from .world.model import Bot

logger = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name, not a secret


class WebhookDispatcher:
    def __init__(self, world: World):
        self.world = world
        self.workers: dict[tuple[str, int], asyncio.Task] = {}
        self.client: httpx.AsyncClient | None = None

    async def run(self) -> None:
        world = self.world
        async with httpx.AsyncClient(timeout=world.webhook_timeout, trust_env=False) as client:
            self.client = client
            try:
                while True:
                    version = world.notifier.version
                    with world.lock:
                        wanted = {(bot.token, bot.webhook_generation): bot
                                  for bot in world.bots.values() if bot.webhook_url}
                    for key, bot in wanted.items():
                        task = self.workers.get(key)
                        if task is None or task.done():
                            self.workers[key] = asyncio.create_task(self._worker(bot, key[1]))
                    for key in [k for k, task in self.workers.items() if task.done()]:
                        self.workers.pop(key)
                    await world.notifier.wait_async(version, 1.0)
            finally:
                for task in self.workers.values():
                    task.cancel()
                for task in self.workers.values():
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await task

    def _current(self, bot: Bot, generation: int) -> bool:
        world = self.world
        return world.bots.get(bot.token) is bot and bot.webhook_generation == generation and bool(bot.webhook_url)

    async def _worker(self, bot: Bot, generation: int) -> None:
        world = self.world
        backoff = world.webhook_retry_initial
        while True:
            version = world.notifier.version
            with world.lock:
                if not self._current(bot, generation):
                    return
                update = dict(bot.updates[0]) if bot.updates else None
                url, secret = bot.webhook_url, bot.webhook_secret
            if update is None:
                await world.notifier.wait_async(version, 5.0)
                continue
            headers = {"Content-Type": "application/json"}
            if secret:
                headers[SECRET_HEADER] = secret
            response, error = None, None
            try:
                response = await self.client.post(url, content=json.dumps(update).encode(), headers=headers)
                if not 200 <= response.status_code < 300:
                    error = f"Wrong response from the webhook: {response.status_code} {response.reason_phrase}"
            except httpx.ConnectError:
                error = "Connection refused"
            except httpx.TimeoutException:
                error = "Read timeout expired"
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}: {exc}"
            if error is None:
                with world.lock:
                    if bot.updates and bot.updates[0]["update_id"] == update["update_id"]:
                        bot.updates.pop(0)
                        bot.delivered += 1
                world.notifier.notify()
                backoff = world.webhook_retry_initial
                await self._reply(bot, response)
                continue
            with world.lock:
                if not self._current(bot, generation):
                    return
                bot.webhook_last_error_date = world.now()
                bot.webhook_last_error_message = error
            logger.info("webhook %s: %s (retrying in %.1fs)", url, error, backoff)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, world.webhook_retry_max)

    async def _reply(self, bot: Bot, response: httpx.Response) -> None:
        """Execute a Bot API method returned in the webhook response body."""
        if not response.content or "json" not in response.headers.get("content-type", ""):
            return
        try:
            body: Any = response.json()
        except ValueError:
            return
        if isinstance(body, dict) and isinstance(body.get("method"), str):
            data = {k: v for k, v in body.items() if k != "method"}
            await handle(self.world, bot.token, body["method"], data, via="webhook_reply")
