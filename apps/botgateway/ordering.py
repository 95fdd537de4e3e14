"""Updates of one chat are handled one after another, in the order they arrived; different chats go side by side.

With python-telegram-bot's default (one update at a time for the whole bot) a slow core call in one group held up
every other group, and a command waited behind the `chat_member` update its own previous action caused. Per-chat
order is what moderation needs (a /ban then an /unban, a command and the membership change it depends on); nothing
orders two chats against each other.

Order holds because python-telegram-bot starts one task per update in queue order, each task's first step takes its
chat's turn without yielding when the turn is free, and asyncio's locks and semaphores wake waiters first in, first
out.

A group upgraded to a supergroup continues under a new chat id: Telegram sends "migrated to" in the old chat, then
"migrated from" and the new chat's messages. Until the old chat's updates are done (core has moved the group), the
new chat's updates take the old chat's turn, so none of them registers the new id as a group of its own first.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

logger = logging.getLogger(__name__)

MAX_CONCURRENT_UPDATES = 256
_NO_CHAT = object()  # updates without a chat (inline queries, polls) keep one order among themselves


def chat_key(update: object) -> object:
    if isinstance(update, Update) and update.effective_chat is not None and type(update.effective_chat.id) is int:
        return update.effective_chat.id
    return _NO_CHAT


class PerChatUpdateProcessor(BaseUpdateProcessor):
    def __init__(self, max_concurrent_updates: int = MAX_CONCURRENT_UPDATES):
        super().__init__(max_concurrent_updates)
        # chat -> [its turn, how many updates hold or wait for it]; dropped when the last one is done.
        self._turns: dict[object, list] = {}
        # new chat id -> the migrated chat's key, while that chat still has updates in hand
        self._migrated: dict[object, object] = {}
        # Told the id of each update whose handling ended (the outbox marks it handled: no replay after a restart).
        self.on_processed: Callable[[int], None] | None = None
        # Shown each update as it arrives, before it waits for its chat's turn: for a sensor that must not wait
        # behind the chat's backlog (anti-raid removes a raid's joiners while their bookkeeping queues up). Must
        # be quick and must not raise.
        self.on_arrival: Callable[[object], None] | None = None

    def _key(self, update: object) -> object:
        key = chat_key(update)
        key = self._migrated.get(key, key)
        message = update.effective_message if isinstance(update, Update) else None
        if message is not None and type(message.migrate_to_chat_id) is int:
            self._migrated[message.migrate_to_chat_id] = key
        return key

    def _release(self, key: object) -> None:
        del self._turns[key]
        for new_id in [new_id for new_id, old in self._migrated.items() if old == key]:
            del self._migrated[new_id]

    async def process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        if self.on_arrival is not None:
            try:
                self.on_arrival(update)
            except Exception:  # a sensor's failure never holds up the update itself
                logger.exception("update arrival hook failed")
        await super().process_update(update, coroutine)

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        try:
            await self._in_turn(self._key(update), coroutine)
        except asyncio.CancelledError:
            raise  # interrupted (the bot stopping): handled again after the restart
        except Exception:  # python-telegram-bot's own error handling failed: handled as far as it goes
            self._processed(update)
            raise
        self._processed(update)

    def _processed(self, update: object) -> None:
        if self.on_processed is not None and isinstance(update, Update):
            self.on_processed(update.update_id)

    async def in_chat_turn(self, chat_id: int, coroutine: Awaitable[Any]) -> Any:
        """Runs `coroutine` in the chat's turn, as one of its updates would run: for work on a chat that does not
        come with an update (the resync after a core outage), so that it never interleaves with the chat's updates."""
        return await self._in_turn(self._migrated.get(chat_id, chat_id), coroutine)

    async def _in_turn(self, key: object, coroutine: Awaitable[Any]) -> Any:
        entry = self._turns.get(key)
        if entry is None:
            entry = self._turns[key] = [asyncio.Lock(), 0]
        entry[1] += 1
        try:
            async with entry[0]:
                return await coroutine
        finally:
            entry[1] -= 1
            if entry[1] == 0:
                self._release(key)

    @property
    def chats_in_progress(self) -> int:
        return len(self._turns)

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass
