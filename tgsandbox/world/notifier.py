"""Waking waiters in threads and event loops: long polling, "wait for the bot's reply", the call log."""

from __future__ import annotations

import asyncio
import contextlib
import threading


class Notifier:
    """A version counter; waiters (threads or asyncio tasks in any loop) wake when it moves."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._version = 0
        self._futures: set[tuple[asyncio.AbstractEventLoop, asyncio.Future]] = set()

    @property
    def version(self) -> int:
        return self._version

    def notify(self) -> None:
        with self._cond:
            self._version += 1
            self._cond.notify_all()
            futures, self._futures = self._futures, set()
        for loop, future in futures:
            with contextlib.suppress(RuntimeError):  # the loop may be closed already
                loop.call_soon_threadsafe(_resolve, future)

    def wait(self, version: int, timeout: float) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: self._version != version, timeout)

    async def wait_async(self, version: int, timeout: float) -> bool:
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        entry = (loop, future)
        with self._cond:
            if self._version != version:
                return True
            self._futures.add(entry)
        try:
            await asyncio.wait_for(future, timeout)
            return True
        except TimeoutError:
            return False
        finally:
            with self._cond:
                self._futures.discard(entry)


def _resolve(future: asyncio.Future) -> None:
    if not future.done():
        future.set_result(None)

