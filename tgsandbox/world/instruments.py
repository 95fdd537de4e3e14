"""What the sandbox adds around the Bot API: the call log, injected faults and Telegram's flood limits."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from ..errors import too_many_requests
from .model import Bot, Chat, Fault, RateLimits


class Instruments:
    """Mixin of :class:`~tgsandbox.world.World`: the call log, fault injection, rate limits."""

    def record_call(self, bot: Bot | None, method: str, params: dict[str, Any], *, result: Any = None,
                    error: Any = None, via: str = "http") -> dict[str, Any]:
        with self.lock:
            self.call_seq += 1
            entry: dict[str, Any] = {
                "seq": self.call_seq,
                "date": round(self.now_float(), 3),
                "bot_id": bot.id if bot else None,
                "bot_username": bot.user.username if bot else None,
                "method": method,
                "params": params,
                "via": via,
            }
            if error is None:
                entry.update(ok=True, result=result)
            else:
                entry.update(ok=False, error_code=error.error_code, description=error.description)
                if error.parameters:
                    entry["parameters"] = error.parameters
            self.calls.append(entry)
        self.notifier.notify()
        return entry

    def call_log(self, *, since: int = 0, method: str | None = None, exclude: Iterable[str] = (),
                 bot: Any = None) -> list[dict[str, Any]]:
        with self.lock:
            excluded = {name.lower() for name in exclude}
            bot_id = self.bot(bot).id if bot is not None else None
            return [
                dict(entry) for entry in self.calls
                if entry["seq"] > since
                and (method is None or entry["method"].lower() == method.lower())
                and entry["method"].lower() not in excluded
                and (bot_id is None or entry["bot_id"] == bot_id)
            ]

    def fail_next(self, method: str, *, error_code: int = 400, description: str | None = None,
                  retry_after: int | None = None, migrate_to_chat_id: int | None = None, times: int = 1,
                  chat: Any = None) -> Fault:
        """Make the next ``times`` calls of ``method`` (``*`` = any) fail with the given error."""
        with self.lock:
            parameters = None
            if retry_after is not None:
                error_code = 429
                description = description or f"Too Many Requests: retry after {retry_after}"
                parameters = {"retry_after": retry_after}
            elif migrate_to_chat_id is not None:
                description = description or "Bad Request: group chat was upgraded to a supergroup chat"
                parameters = {"migrate_to_chat_id": migrate_to_chat_id}
            if description is None:
                description = {400: "Bad Request: injected failure", 403: "Forbidden: injected failure",
                               500: "Internal Server Error: injected failure",
                               502: "Bad Gateway"}.get(error_code, "Injected failure")
            chat_id = self.chat(chat).id if chat is not None else None
            fault = Fault(method.lower(), error_code, description, parameters, times, chat_id)
            self.faults.append(fault)
            return fault

    def take_fault(self, method: str, chat_id: Any) -> Fault | None:
        for fault in self.faults:
            if fault.method not in ("*", method.lower()):
                continue
            if fault.chat_id is not None and str(fault.chat_id) != str(chat_id):
                continue
            fault.times -= 1
            if fault.times <= 0:
                self.faults.remove(fault)
            return fault
        return None

    def clear_faults(self) -> None:
        with self.lock:
            self.faults.clear()

    def set_rate_limits(self, *, enabled: bool | None = None, global_per_second: int | None = None,
                        group_per_minute: int | None = None, chat_per_second: int | None = None,
                        actions_per_second: int | None = None) -> RateLimits:
        with self.lock:
            limits = self.rate_limits
            if enabled is not None:
                limits.enabled = bool(enabled)
            if global_per_second is not None:
                limits.global_per_second = int(global_per_second)
            if group_per_minute is not None:
                limits.group_per_minute = int(group_per_minute)
            if chat_per_second is not None:
                limits.chat_per_second = int(chat_per_second)
            if actions_per_second is not None:
                limits.actions_per_second = int(actions_per_second)
            for bot in self.bots.values():
                bot.sent.clear()
                bot.acted.clear()
            return limits

    def check_action_rate(self, bot: Bot) -> None:
        """A member action (ban, unban, restrict, delete) within ``actions_per_second``, or 429; counted when let
        through."""
        limits = self.rate_limits
        if not (limits.enabled and limits.actions_per_second):
            return
        now = self.now_float()
        while bot.acted and bot.acted[0] <= now - 1:
            bot.acted.popleft()
        if len(bot.acted) >= limits.actions_per_second:
            raise too_many_requests(math.ceil(bot.acted[0] + 1 - now))
        bot.acted.append(now)

    def check_rate(self, bot: Bot, chat: Chat) -> None:
        limits = self.rate_limits
        if not limits.enabled:
            return
        now = self.now_float()
        while bot.sent and bot.sent[0][0] <= now - 60:
            bot.sent.popleft()
        last_second = [t for t, _ in bot.sent if t > now - 1]
        if limits.global_per_second and len(last_second) >= limits.global_per_second:
            raise too_many_requests(math.ceil(last_second[0] + 1 - now))
        if limits.chat_per_second:
            in_chat = [t for t, c in bot.sent if c == chat.id and t > now - 1]
            if len(in_chat) >= limits.chat_per_second:
                raise too_many_requests(math.ceil(in_chat[0] + 1 - now))
        if chat.is_group and limits.group_per_minute:
            in_group = [t for t, c in bot.sent if c == chat.id]
            if len(in_group) >= limits.group_per_minute:
                raise too_many_requests(math.ceil(in_group[0] + 60 - now))

    def count_sent(self, bot: Bot, chat: Chat) -> None:
        bot.sent.append((self.now_float(), chat.id))

