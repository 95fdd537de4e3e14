"""What the bot sends, and to whom it answers.

Telegram's flood limits are about what a bot sends (about 30 messages a second overall, 20 a minute in a group).
`SendRateLimiter` paces every Bot API request by them, like python-telegram-bot's AIORateLimiter, with two
differences:
- reads that decide a command (is the target the owner? may the bot restrict here?) go straight through;
- waiting requests are served by priority, not arrival: Telegram actions (ban, restrict, delete, unban...) go ahead
  of chat replies overall. A busy chat's queue of replies (a member flooding commands that are denied) never holds
  up another member's ban there or anywhere else;
- actions are not messages: they take the overall budget only, not the group's 20 a minute (a raid's hundreds of
  joiners are removed at the overall pace).
After a 429 every request waits the `retry_after` and is retried, as before.

`DenialThrottle` decides which denials are answered at all: a member denied too often in a short while is ignored
for a while, and core is not asked about them meanwhile.
"""

import asyncio
import contextlib
import heapq
import itertools
import logging
import time
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any

from cachetools import LRUCache, TTLCache
from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

logger = logging.getLogger(__name__)

# Bot API methods that only read state. A 429 to one of them (a bot that overdoes reads) reaches the handler as
# RetryAfter, which fails that one update visibly instead of slowing every other.
UNPACED_READS = frozenset({"getMe", "getChat", "getChatMember", "getChatAdministrators", "getChatMemberCount",
                           "getWebhookInfo", "getMyCommands", "getFile", "getUserProfilePhotos"})

# Bot API methods that act on a chat or its members: served before messages that wait for the same budget.
ACTIONS = frozenset({"banChatMember", "unbanChatMember", "restrictChatMember", "promoteChatMember",
                     "deleteMessage", "deleteMessages", "pinChatMessage", "unpinChatMessage", "banChatSenderChat",
                     "unbanChatSenderChat", "setChatPermissions", "approveChatJoinRequest",
                     "declineChatJoinRequest"})

ACTION_PRIORITY, MESSAGE_PRIORITY = 0, 1


class PriorityLimiter:
    """A leaky bucket of `max_rate` requests per `time_period` (as aiolimiter's), whose waiters are served lowest
    priority value first, then in arrival order."""

    def __init__(self, max_rate: float, time_period: float, *, clock: Callable[[], float] = time.monotonic):
        self.max_rate = max_rate
        self._leak_per_second = max_rate / time_period
        self._clock = clock
        self._level = 0.0
        self._last_leak = clock()
        self._waiters: list[tuple[int, int, asyncio.Future]] = []
        self._arrivals = itertools.count()
        self._wakeup: asyncio.TimerHandle | None = None

    def _leak(self) -> None:
        now = self._clock()
        self._level = max(0.0, self._level - (now - self._last_leak) * self._leak_per_second)
        self._last_leak = now

    def has_capacity(self) -> bool:
        self._leak()
        return self._level + 1 <= self.max_rate

    def idle(self) -> bool:
        self._leak()
        return self._level == 0 and not self._waiters

    async def acquire(self, priority: int = MESSAGE_PRIORITY) -> None:
        if not self._waiters and self.has_capacity():
            self._level += 1
            return
        waiter = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (priority, next(self._arrivals), waiter))
        self._schedule()
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self._level -= 1  # granted as it was cancelled: give the place back
            self._waiters = [entry for entry in self._waiters if entry[2] is not waiter]
            heapq.heapify(self._waiters)
            self._serve()
            raise

    def _schedule(self) -> None:
        if self._wakeup is not None or not self._waiters:
            return
        self._leak()
        delay = max(0.0, (self._level + 1 - self.max_rate) / self._leak_per_second)
        self._wakeup = asyncio.get_running_loop().call_later(delay, self._serve)

    def _serve(self) -> None:
        if self._wakeup is not None:
            self._wakeup.cancel()
            self._wakeup = None
        while self._waiters and self.has_capacity():
            _, _, waiter = heapq.heappop(self._waiters)
            if waiter.done():
                continue
            self._level += 1
            waiter.set_result(None)
        self._schedule()


class SendRateLimiter(BaseRateLimiter[int]):
    def __init__(self, *, overall_max_rate: float = 30, overall_time_period: float = 1, group_max_rate: float = 20,
                 group_time_period: float = 60, max_retries: int = 0):
        self._overall = PriorityLimiter(overall_max_rate, overall_time_period)
        self._group_rate = (group_max_rate, group_time_period)
        self._groups: dict[int | str, PriorityLimiter] = {}
        self._max_retries = max_retries
        self._retry_after = asyncio.Event()
        self._retry_after.set()

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""

    def _group_limiter(self, chat_id: int | str) -> PriorityLimiter:
        if len(self._groups) > 512:  # forget groups that have nothing in flight
            for key in [key for key, limiter in self._groups.items() if key != chat_id and limiter.idle()]:
                del self._groups[key]
        limiter = self._groups.get(chat_id)
        if limiter is None:
            limiter = self._groups[chat_id] = PriorityLimiter(*self._group_rate)
        return limiter

    async def process_request(self, callback: Callable[..., Coroutine[Any, Any, Any]], args: Any,
                              kwargs: dict[str, Any], endpoint: str, data: dict[str, Any],
                              rate_limit_args: int | None):
        if endpoint in UNPACED_READS:
            return await callback(*args, **kwargs)
        priority = ACTION_PRIORITY if endpoint in ACTIONS else MESSAGE_PRIORITY
        chat_id = data.get("chat_id")
        with contextlib.suppress(TypeError, ValueError):
            chat_id = int(chat_id)
        in_group = (isinstance(chat_id, int) and chat_id < 0) or isinstance(chat_id, str)
        group = chat_id if in_group and priority != ACTION_PRIORITY else None
        max_retries = rate_limit_args or self._max_retries
        for attempt in range(max_retries + 1):
            try:
                if group is not None:
                    await self._group_limiter(group).acquire(priority)
                if chat_id is not None:
                    await self._overall.acquire(priority)
                await self._retry_after.wait()
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                if attempt == max_retries:
                    raise
                pause = exc._retry_after.total_seconds()  # as AIORateLimiter reads it (the int form is deprecated)
                logger.info("Telegram flood limit: retrying", extra={"retry_after": pause, "endpoint": endpoint})
                self._retry_after.clear()
                await asyncio.sleep(pause + 0.1)
            finally:
                self._retry_after.set()
        return None


class DenialThrottle:
    """Per member (chat, user): `answered` denials within `window` seconds are answered, and the last of them starts
    `quiet` seconds in which that member's commands that need a permission get no answer and no core call."""

    def __init__(self, *, answered: int = 3, window: float = 60.0, quiet: float = 120.0,
                 clock: Callable[[], float] = time.monotonic, capacity: int = 10_000):
        self.answered, self.window, self.quiet_seconds = answered, window, quiet
        self._clock = clock
        # A member's recent denials (the least recently denied member goes first when full); members in their
        # quiet time.
        self._denials: LRUCache[tuple, deque] = LRUCache(maxsize=capacity)
        self._quiet: TTLCache[tuple, bool] = TTLCache(maxsize=capacity, ttl=quiet, timer=clock)

    def quiet(self, key: tuple) -> bool:
        return key in self._quiet

    def note(self, key: tuple) -> bool:
        """Counts a denial; True when it is to be answered (False only for one that raced a quiet time's start)."""
        if self.quiet(key):
            return False
        now = self._clock()
        recent = self._denials.setdefault(key, deque())
        while recent and now - recent[0] > self.window:
            recent.popleft()
        recent.append(now)
        if len(recent) >= self.answered:
            self._quiet[key] = True
            del self._denials[key]
            logger.info("a member's denied commands are ignored for a while",
                        extra={"chat_id": key[0], "member": key[1], "seconds": self.quiet_seconds})
        return True
