"""Updates of one chat are handled one after another, in the order they arrived; different chats go side by side.

With python-telegram-bot's default (one update at a time for the whole bot) a slow core call in one group held up
every other group, and a command waited behind the `chat_member` update its own previous action caused. Per-chat
order is what moderation needs (a /ban then an /unban, a command and the membership change it depends on); nothing
orders two chats against each other.

Order holds because python-telegram-bot starts one task per update in queue order, each task's first step takes its
chat's turn without yielding when the turn is free, and asyncio's locks and semaphores wake waiters first in, first
out.
"""

import asyncio
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

MAX_CONCURRENT_UPDATES = 256
_NO_CHAT = object()  # updates without a chat (inline queries, polls) keep one order among themselves


def chat_key(update: object) -> object:
    if isinstance(update, Update) and update.effective_chat is not None:
        return update.effective_chat.id
    return _NO_CHAT


class PerChatUpdateProcessor(BaseUpdateProcessor):
    def __init__(self, max_concurrent_updates: int = MAX_CONCURRENT_UPDATES):
        super().__init__(max_concurrent_updates)
        # chat -> [its turn, how many updates hold or wait for it]; dropped when the last one is done.
        self._turns: dict[object, list] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = chat_key(update)
        entry = self._turns.get(key)
        if entry is None:
            entry = self._turns[key] = [asyncio.Lock(), 0]
        entry[1] += 1
        try:
            async with entry[0]:
                await coroutine
        finally:
            entry[1] -= 1
            if entry[1] == 0:
                del self._turns[key]

    @property
    def chats_in_progress(self) -> int:
        return len(self._turns)

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass
