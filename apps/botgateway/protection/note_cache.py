"""Notes kept in the bot: a #name or /get answered from memory, not by a core call each time.

A note's content is kept with the group's settings version it was read under: saving or removing a note bumps that
version (the settings cache follows it), so a kept note is used only while the cached settings are still of that
version and read from core again after any change. A name the cached settings do not list is no note, and costs
nothing. Concurrent asks for one note (a burst of #name) share one core call. Memory is bounded: at most
NOTES_PER_CHAT notes of one chat and NOTES_AT_MOST over all chats, the least recently used dropped first.

It also remembers which notes were just answered in which chat by #name (BotData.notes.first_answer): the same note
is answered there at most once per REPEAT_SECONDS, so a flood of #name posts one reply (the first answer is right
above), not one per message against Telegram's limit of messages per group.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable

from cachetools import TTLCache

NOTES_PER_CHAT = 50
NOTES_AT_MOST = 2000  # a note's text is at most 4096 characters: a few MB at worst
REPEAT_SECONDS = 3.0
ANSWERS_AT_MOST = 10_000


class NoteCache:
    def __init__(self, *, per_chat: int = NOTES_PER_CHAT, at_most: int = NOTES_AT_MOST,
                 repeat_seconds: float = REPEAT_SECONDS, clock=time.monotonic):
        self.per_chat, self.at_most = per_chat, at_most
        # (chat id, name) -> (settings version, the note's wire dict, or None: core had no such note), oldest use
        # first.
        self._notes: OrderedDict[tuple[int, str], tuple[int, dict | None]] = OrderedDict()
        self._per_chat: dict[int, int] = {}
        self._loading: dict[tuple[int, str, int], asyncio.Future] = {}
        self._answered: TTLCache[tuple, bool] = TTLCache(maxsize=ANSWERS_AT_MOST, ttl=repeat_seconds, timer=clock)

    def __len__(self) -> int:
        return len(self._notes)

    def kept(self, chat_id: int) -> int:
        return self._per_chat.get(chat_id, 0)

    async def get(self, settings, name: str, fetch: Callable[[], Awaitable[dict | None]]) -> dict | None:
        """The note `name` of the settings' chat, as of the settings' version: kept, or read by `fetch()` (core's
        note_get; None for no such note) once however many ask at the same time. None, with no call, for a name
        the settings do not list. Raises what `fetch` raises (nothing is kept then)."""
        if name not in settings.notes:
            return None
        chat_id, version = settings.telegram_chat_id, settings.version
        key = (chat_id, name)
        kept = self._notes.get(key)
        if kept is not None and kept[0] == version:
            self._notes.move_to_end(key)
            return kept[1]
        loading_key = (chat_id, name, version)
        pending = self._loading.get(loading_key)
        if pending is not None:
            return await asyncio.shield(pending)
        future = asyncio.get_running_loop().create_future()
        self._loading[loading_key] = future
        try:
            note = await fetch()
        except BaseException as exc:
            if isinstance(exc, asyncio.CancelledError):
                future.cancel()
            else:
                future.set_exception(exc)
                future.exception()  # retrieved: an ask nobody else waited for logs nothing
            raise
        finally:
            self._loading.pop(loading_key, None)
        self._keep(key, version, note)
        future.set_result(note)
        return note

    def _keep(self, key: tuple[int, str], version: int, note: dict | None) -> None:
        chat_id = key[0]
        if key in self._notes:
            self._notes[key] = (version, note)
            self._notes.move_to_end(key)
            return
        if self._per_chat.get(chat_id, 0) >= self.per_chat:
            oldest = next(k for k in self._notes if k[0] == chat_id)
            self._drop(oldest)
        elif len(self._notes) >= self.at_most:
            self._drop(next(iter(self._notes)))
        self._notes[key] = (version, note)
        self._per_chat[chat_id] = self._per_chat.get(chat_id, 0) + 1

    def _drop(self, key: tuple[int, str]) -> None:
        del self._notes[key]
        left = self._per_chat[key[0]] - 1
        if left:
            self._per_chat[key[0]] = left
        else:
            del self._per_chat[key[0]]

    def first_answer(self, chat_id: int, name: str, form: str) -> bool:
        """True when the note (in this `form`: as is, raw, or as a private note's button) was not answered in the
        chat by #name within REPEAT_SECONDS; it counts as answered from now."""
        key = (chat_id, name, form)
        if key in self._answered:
            return False
        self._answered[key] = True
        return True
