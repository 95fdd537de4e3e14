"""The sandbox's in-memory Telegram world: :class:`World`, its clock, lookups, bots and users.

Everything lives in one :class:`World` guarded by one re-entrant lock, so the Bot API server
(an asyncio loop, usually in its own thread), the control API and tests calling the Python
methods directly can all touch it safely. Waiting (long polling, "wait for the bot's reply")
goes through :class:`~tgsandbox.world.notifier.Notifier`, which wakes both threads and asyncio tasks.

The world's operations are split by concern into mixins: :mod:`.membership` (chats and who is in
them), :mod:`.messages` (messages and the updates they cause), :mod:`.views` (Bot API shapes) and
:mod:`.instruments` (call log, faults, rate limits). They are what simulated *people* do; what the
*bot* may do is in :mod:`tgsandbox.botapi`.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import deque
from typing import Any

from ..content import Files
from ..errors import SandboxError
from .instruments import Instruments
from .membership import Membership
from .messages import Messaging
from .model import CALL_LOG_LIMIT, FOREVER_MAX_SECONDS, FOREVER_MIN_SECONDS, Bot, Chat, Fault, Member, RateLimits, User
from .notifier import Notifier
from .views import Serialization


class World(Membership, Messaging, Serialization, Instruments):
    """All sandbox state. Every public method takes the lock; they may be called from any thread."""

    def __init__(self, *, clock=time.time) -> None:
        self.lock = threading.RLock()
        self.notifier = Notifier()
        self.clock = clock
        self.rate_limits = RateLimits()
        self.webhook_retry_initial = 0.2
        self.webhook_retry_max = 5.0
        self.webhook_timeout = 10.0
        self._reset_state()

    def _reset_state(self) -> None:
        self.time_offset = 0.0
        self.users: dict[int, User] = {}
        self.bots: dict[str, Bot] = {}
        self.chats: dict[int, Chat] = {}
        self.private: dict[tuple[int, int], Chat] = {}
        self.calls: deque[dict[str, Any]] = deque(maxlen=CALL_LOG_LIMIT)
        self.call_seq = 0
        self.faults: list[Fault] = []
        self.callback_queries: dict[str, dict[str, Any]] = {}
        self._user_ids = itertools.count(1_000_001)
        self._group_ids = itertools.count(4_000_000_001)
        self._supergroup_ids = itertools.count(1_002_000_000_001)
        self._callback_ids = itertools.count(4_000_000_000_000_001)
        self._joiner_numbers: dict[str, int] = {}
        self.files = Files()  # every file posted or sent, by file_id
        self.content_ids = itertools.count(5_000_000_000_000_001)  # poll ids, dice values

    def reset(self) -> None:
        """Forget everything (bots, users, chats, logs, faults); rate limits return to Telegram's defaults."""
        with self.lock:
            for bot in self.bots.values():
                bot.webhook_generation += 1
                bot.poll_generation += 1
            self._reset_state()
            self.rate_limits = RateLimits()
        self.notifier.notify()

    # --- time ---

    def now_float(self) -> float:
        return self.clock() + self.time_offset

    def now(self) -> int:
        return int(self.now_float())

    def advance_time(self, seconds: float) -> int:
        """Move the sandbox clock forward (ban/restriction expiry, the 48 h deletion limit, rate windows)."""
        with self.lock:
            self.time_offset += seconds
            for chat in self.chats.values():
                for member in chat.members.values():
                    self._expire(member)
        self.notifier.notify()
        return self.now()

    def normalize_until(self, until_date: int) -> int:
        """Telegram: less than 30 s or more than 366 days from now means forever (0)."""
        if until_date <= 0:
            return 0
        delta = until_date - self.now()
        if delta < FOREVER_MIN_SECONDS or delta > FOREVER_MAX_SECONDS:
            return 0
        return until_date

    def _expire(self, member: Member) -> None:
        if member.status in ("restricted", "kicked") and member.until_date and self.now() >= member.until_date:
            if member.status == "restricted" and member.is_member:
                member.status = "member"
            else:
                member.status = "left"
            member.until_date = 0
            member.permissions = {}

    # --- lookups ---

    def user(self, ref: Any) -> User:
        """A user or bot by id, ``@username``, username or first name."""
        with self.lock:
            if isinstance(ref, User):
                return ref
            if isinstance(ref, Bot):
                return ref.user
            if isinstance(ref, int) or (isinstance(ref, str) and ref.lstrip("-").isdigit()):
                user = self.users.get(int(ref))
                if user:
                    return user
            elif isinstance(ref, str):
                name = ref.lstrip("@").lower()
                for user in self.users.values():
                    if (user.username or "").lower() == name:
                        return user
                for user in self.users.values():
                    if user.first_name.lower() == name:
                        return user
            raise SandboxError(f"unknown user {ref!r}", 404)

    def bot(self, ref: Any = None) -> Bot:
        """A bot by token, id or username; without a reference, the only (or first) bot."""
        with self.lock:
            if isinstance(ref, Bot):
                return ref
            if ref is None:
                if not self.bots:
                    raise SandboxError("no bot registered", 404)
                return next(iter(self.bots.values()))
            if isinstance(ref, str) and ref in self.bots:
                return self.bots[ref]
            user = self.user(ref)
            for bot in self.bots.values():
                if bot.id == user.id:
                    return bot
            raise SandboxError(f"{ref!r} is not a bot", 404)

    def chat(self, ref: Any) -> Chat:
        """A group or supergroup by id, ``@username`` or title."""
        with self.lock:
            if isinstance(ref, Chat):
                return ref
            if isinstance(ref, int) or (isinstance(ref, str) and ref.lstrip("-").isdigit()):
                chat = self.chats.get(int(ref))
                if chat:
                    return chat
            elif isinstance(ref, str):
                name = ref.lower()
                for chat in self.chats.values():
                    if chat.username and chat.username.lower() == name.lstrip("@"):
                        return chat
                for chat in self.chats.values():
                    if (chat.title or "").lower() == name and chat.migrated_to is None:
                        return chat
            raise SandboxError(f"unknown chat {ref!r}", 404)

    def member(self, chat: Chat, user_id: int) -> Member:
        """The member record (``left`` if the user never was in the chat); expired restrictions lifted."""
        member = chat.members.get(user_id)
        if member is None:
            return Member(user_id=user_id, status="left")
        self._expire(member)
        return member

    def chat_bots(self, chat: Chat) -> list[Bot]:
        return [bot for bot in self.bots.values() if bot.id in chat.members]

    def bots_by_id(self) -> dict[int, Bot]:
        return {bot.id: bot for bot in self.bots.values()}

    # --- control: bots and users ---

    def create_bot(self, token: str, username: str, first_name: str | None = None, *,
                   can_read_all_group_messages: bool = False, can_join_groups: bool = True) -> Bot:
        """Register a bot. Its id is the number before the colon in the token, as on Telegram."""
        with self.lock:
            prefix = token.partition(":")[0]
            if not prefix.isdigit() or ":" not in token:
                raise SandboxError("a bot token looks like <bot id>:<secret>")
            bot_id = int(prefix)
            if token in self.bots or bot_id in self.users:
                raise SandboxError(f"bot {bot_id} exists already")
            user = User(id=bot_id, first_name=first_name or username, is_bot=True, username=username)
            self.users[bot_id] = user
            bot = Bot(token=token, user=user, can_join_groups=can_join_groups,
                      can_read_all_group_messages=can_read_all_group_messages)
            self.bots[token] = bot
            return bot

    def create_user(self, first_name: str, *, username: str | None = None, last_name: str | None = None,
                    user_id: int | None = None, language_code: str | None = "en", is_bot: bool = False) -> User:
        with self.lock:
            if username and any((u.username or "").lower() == username.lower() for u in self.users.values()):
                raise SandboxError(f"username @{username} is taken")
            if user_id is None:
                user_id = next(self._user_ids)
                while user_id in self.users:
                    user_id = next(self._user_ids)
            elif user_id in self.users:
                raise SandboxError(f"user {user_id} exists already")
            user = User(id=user_id, first_name=first_name, is_bot=is_bot, last_name=last_name,
                        username=username, language_code=language_code)
            self.users[user_id] = user
            return user

    def set_webhook(self, url: str, *, bot: Any = None, secret_token: str | None = None,
                    allowed_updates: list[str] | None = None, drop_pending_updates: bool = False) -> Bot:
        """What the bot's setWebhook would do, done from outside (e.g. ``make run`` wiring); "" deletes it."""
        with self.lock:
            target = self.bot(bot)
            if drop_pending_updates:
                target.updates.clear()
            target.webhook_url, target.webhook_secret = url, (secret_token or None) if url else None
            if allowed_updates is not None:
                target.allowed_updates = list(allowed_updates) or None
            target.webhook_generation += 1
            target.poll_generation += 1
            target.webhook_last_error_date = target.webhook_last_error_message = None
        self.notifier.notify()
        return target

    def set_privacy(self, bot: Any, *, can_read_all_group_messages: bool) -> Bot:
        """BotFather's /setprivacy: False = privacy mode on (the default)."""
        with self.lock:
            bot = self.bot(bot)
            bot.can_read_all_group_messages = can_read_all_group_messages
            return bot

    def snapshot(self) -> dict[str, Any]:
        """The whole world as JSON-ready data (for the control API and debugging)."""
        with self.lock:
            return {
                "now": self.now(),
                "bots": [{**bot.user.to_dict(), "token_id": bot.id, "webhook_url": bot.webhook_url,
                          "pending_update_count": len(bot.updates), "allowed_updates": bot.allowed_updates,
                          "long_polling": bot.polling > 0,
                          "last_get_updates_ago": (None if bot.last_poll_at is None
                                                   else round(self.now_float() - bot.last_poll_at, 1)),
                          "can_read_all_group_messages": bot.can_read_all_group_messages}
                         for bot in self.bots.values()],
                "users": [u.to_dict() for u in self.users.values() if not u.is_bot],
                "chats": [{**chat.short_dict(self), "migrated_to": chat.migrated_to,
                           "members": [self.member_dict(chat, self.member(chat, uid))
                                       for uid in chat.members],
                           "message_count": len(chat.messages)}
                          for chat in self.chats.values()],
                "rate_limits": self.rate_limits.to_dict(),
                "faults": [vars(f) for f in self.faults],
                "last_call_seq": self.call_seq,
            }

