"""Each group's protection settings, cached in the bot and invalidated by version.

`get` is the hot path (every message): one dict lookup, no allocation, no await. A chat's settings are loaded from
core once, however many handlers ask at the same time (`load`), replaced whenever the bot itself changed them
(`store`, with core's answer to the change), and otherwise kept current by a poller that asks core for the
versions of the cached chats every BOT_PROTECTION_REFRESH_SECONDS and reloads those that changed (a change made in
the dashboard, or by another replica).
"""

import asyncio
import contextlib
import logging
import time

from apps.common.error_codes import ErrorCode
from apps.coreclient import CoreError, CoreUnavailable, ProtectionSettings

logger = logging.getLogger(__name__)

VERSIONS_PER_CALL = 1000  # core's limit per versions request
UNKNOWN_CHAT_SECONDS = 30.0  # a chat core does not know is not asked about again for this long


class ProtectionCache:
    def __init__(self):
        self._settings: dict[int, ProtectionSettings] = {}
        self._loading: dict[int, asyncio.Future] = {}
        self._unknown: dict[int, float] = {}  # chat id -> when core may be asked about it again
        self._poller: asyncio.Task | None = None

    def get(self, chat_id: int) -> ProtectionSettings | None:
        """The chat's cached settings; None when they are not loaded (or were invalidated)."""
        return self._settings.get(chat_id)

    def store(self, settings: ProtectionSettings) -> None:
        """Keeps `settings` unless the cache already holds a later version of that chat's."""
        chat_id = settings.telegram_chat_id
        current = self._settings.get(chat_id)
        if current is None or settings.version >= current.version:
            self._settings[chat_id] = settings
        self._unknown.pop(chat_id, None)

    def invalidate(self, chat_id: int) -> None:
        self._settings.pop(chat_id, None)

    def chat_ids(self) -> list[int]:
        return list(self._settings)

    async def load(self, core, chat_id: int) -> ProtectionSettings:
        """The chat's settings from core, kept in the cache. Concurrent loads of one chat share one core call.
        Raises what the call raises (CoreUnavailable; CoreError not_found for a chat core does not know)."""
        pending = self._loading.get(chat_id)
        if pending is not None:
            return await asyncio.shield(pending)
        retry_at = self._unknown.get(chat_id)
        if retry_at is not None and time.monotonic() < retry_at:
            raise CoreError(ErrorCode.NOT_FOUND, f"core does not know chat {chat_id}", 404)
        future = asyncio.get_running_loop().create_future()
        self._loading[chat_id] = future
        try:
            settings = await core.protection_settings(chat_id)
        except BaseException as exc:
            if isinstance(exc, CoreError) and exc.code == ErrorCode.NOT_FOUND:
                self._unknown[chat_id] = time.monotonic() + UNKNOWN_CHAT_SECONDS
            if isinstance(exc, asyncio.CancelledError):
                future.cancel()
            else:
                future.set_exception(exc)
                future.exception()  # retrieved: a load nobody else waited for logs nothing
            raise
        finally:
            self._loading.pop(chat_id, None)
        self.store(settings)
        # Keyed by the chat id core answers with: a chat asked for by the id it had before Telegram migrated it
        # is kept under its current one.
        settings = self._settings.get(settings.telegram_chat_id, settings)
        future.set_result(settings)
        return settings

    async def refresh(self, core) -> int:
        """Asks core for the versions of the cached chats and reloads those that changed; a chat core no longer
        knows by that id (deleted, or migrated to a supergroup) is dropped. Returns how many were reloaded."""
        chat_ids = self.chat_ids()
        stale = []
        for start in range(0, len(chat_ids), VERSIONS_PER_CALL):
            asked = chat_ids[start:start + VERSIONS_PER_CALL]
            versions = await core.protection_versions(asked)
            for chat_id in asked:
                cached = self._settings.get(chat_id)
                version = versions.get(chat_id)
                if version is None:
                    self.invalidate(chat_id)
                elif cached is not None and cached.version < version:
                    stale.append(chat_id)
        reloaded = 0
        for chat_id in stale:
            try:
                await self.load(core, chat_id)
                reloaded += 1
            except CoreError as exc:
                logger.warning("protection settings not reloaded", extra={"chat_id": chat_id, "error": str(exc)})
                self.invalidate(chat_id)
        return reloaded

    def start(self, core, interval: float) -> None:
        """Starts the version poller (once)."""
        if self._poller is None or self._poller.done():
            self._poller = asyncio.create_task(self._poll(core, interval), name="protection-settings-poller")

    async def stop(self) -> None:
        poller, self._poller = self._poller, None
        if poller is not None:
            poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await poller

    async def _poll(self, core, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            if not self._settings:
                continue
            try:
                await self.refresh(core)
            except (CoreUnavailable, CoreError) as exc:
                logger.info("protection settings versions not polled", extra={"error": str(exc)})
            except Exception:  # the poller outlives any one bad round
                logger.exception("protection settings poll failed")


async def protection_settings(context, chat_id: int) -> ProtectionSettings | None:
    """The chat's settings: cached, else loaded from core; None when core is away or does not know the chat."""
    cache: ProtectionCache = context.bot_data.protection
    settings = cache.get(chat_id)
    if settings is not None:
        return settings
    try:
        return await cache.load(context.core, chat_id)
    except (CoreUnavailable, CoreError) as exc:
        logger.info("protection settings unavailable", extra={"chat_id": chat_id, "error": str(exc)})
        return None
