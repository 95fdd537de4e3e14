"""The sandbox's in-memory Telegram world: bots, users, chats, members, messages, update queues.

Everything lives in one :class:`World` guarded by one re-entrant lock, so the Bot API server
(an asyncio loop, usually in its own thread), the control API and tests calling the Python
methods directly can all touch it safely. Waiting (long polling, "wait for the bot's reply")
goes through :class:`Notifier`, which wakes both threads and asyncio tasks.

The control operations here are what simulated *people* do (send a message, join, promote
someone, upgrade a group); what the *bot* may do is in :mod:`tgsandbox.botapi`. Both emit
the updates Telegram would emit (``message``, ``edited_message``, ``my_chat_member``,
``chat_member``, ``callback_query``) into each bot's queue, filtered by its ``allowed_updates``
and by group privacy mode.

Nothing here imports Django: the sandbox runs standalone.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
import math
import threading
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .entities import entity_text, render_text
from .errors import SandboxError, too_many_requests

# Telegram's service account that speaks for anonymous group admins.
ANONYMOUS_ADMIN_ID = 1087968824
ANONYMOUS_ADMIN = {"id": ANONYMOUS_ADMIN_ID, "is_bot": True, "first_name": "Group", "username": "GroupAnonymousBot"}

# Without allowed_updates Telegram sends every type except these.
NOT_DEFAULT_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})

PERMISSION_FIELDS = (
    "can_send_messages", "can_send_audios", "can_send_documents", "can_send_photos", "can_send_videos",
    "can_send_video_notes", "can_send_voice_notes", "can_send_polls", "can_send_other_messages",
    "can_add_web_page_previews", "can_react_to_messages", "can_change_info", "can_invite_users",
    "can_pin_messages", "can_manage_topics", "can_edit_tag",
)
MEDIA_PERMISSIONS = (
    "can_send_audios", "can_send_documents", "can_send_photos", "can_send_videos", "can_send_video_notes",
    "can_send_voice_notes",
)
# Administrator rights a supergroup admin carries (ChatAdministratorRights minus channel-only ones).
ADMIN_RIGHTS = (
    "can_manage_chat", "can_delete_messages", "can_manage_video_chats", "can_restrict_members",
    "can_promote_members", "can_change_info", "can_invite_users", "can_post_stories", "can_edit_stories",
    "can_delete_stories", "can_pin_messages", "can_manage_topics",
)
ALL_RIGHTS = dict.fromkeys(ADMIN_RIGHTS, True)
# A basic group has no fine-grained rights: every appointed admin can do everything but appoint admins.
BASIC_GROUP_ADMIN_RIGHTS = {**ALL_RIGHTS, "can_promote_members": False, "can_manage_topics": False}

DEFAULT_CHAT_PERMISSIONS = {
    **dict.fromkeys(PERMISSION_FIELDS, True),
    "can_change_info": False,
    "can_pin_messages": False,
    "can_manage_topics": False,
    "can_edit_tag": False,
}

PRESENT = frozenset({"creator", "administrator", "member"})
FOREVER_MIN_SECONDS = 30
FOREVER_MAX_SECONDS = 366 * 86400
CALL_LOG_LIMIT = 5000


# --- waking waiters in threads and event loops --------------------------------------------------


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


# --- the model ----------------------------------------------------------------------------------


@dataclass
class User:
    id: int
    first_name: str
    is_bot: bool = False
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        if self.last_name:
            data["last_name"] = self.last_name
        if self.username:
            data["username"] = self.username
        if self.language_code:
            data["language_code"] = self.language_code
        return data

    @property
    def label(self) -> str:
        return f"@{self.username}" if self.username else f"{self.first_name} ({self.id})"


@dataclass
class Member:
    user_id: int
    status: str  # creator | administrator | member | restricted | left | kicked
    until_date: int = 0
    rights: dict[str, bool] = field(default_factory=dict)
    is_anonymous: bool = False
    custom_title: str | None = None
    permissions: dict[str, bool] = field(default_factory=dict)
    is_member: bool = True  # restricted only
    promoted_by: int | None = None
    invited_by: int | None = None

    @property
    def present(self) -> bool:
        return self.status in PRESENT or (self.status == "restricted" and self.is_member)

    @property
    def is_admin(self) -> bool:
        return self.status in ("creator", "administrator")

    def copy(self) -> Member:
        return copy.deepcopy(self)


@dataclass
class Message:
    message_id: int
    chat_id: int
    date: int
    from_id: int | None
    text: str | None = None
    entities: list[dict[str, Any]] = field(default_factory=list)
    sender_chat_id: int | None = None
    reply_to: int | None = None
    edit_date: int | None = None
    reply_markup: dict[str, Any] | None = None
    author_signature: str | None = None
    service: dict[str, Any] = field(default_factory=dict)  # new_chat_members, left_chat_member, migrate_*, ...
    forward_origin: dict[str, Any] | None = None

    @property
    def is_service(self) -> bool:
        return bool(self.service)


@dataclass
class Chat:
    id: int
    type: str  # group | supergroup | private
    title: str | None = None
    username: str | None = None
    description: str | None = None
    members: dict[int, Member] = field(default_factory=dict)
    messages: dict[int, Message] = field(default_factory=dict)
    next_message_id: int = 1
    pinned: list[int] = field(default_factory=list)
    permissions: dict[str, bool] = field(default_factory=lambda: dict(DEFAULT_CHAT_PERMISSIONS))
    migrated_to: int | None = None
    migrated_from: int | None = None
    # private chats only
    bot_id: int | None = None
    user_id: int | None = None
    blocked: bool = False

    @property
    def is_group(self) -> bool:
        return self.type in ("group", "supergroup")

    def short_dict(self, world: World) -> dict[str, Any]:
        if self.type == "private":
            user = world.users[self.user_id]
            data: dict[str, Any] = {"id": self.id, "first_name": user.first_name}
            if user.last_name:
                data["last_name"] = user.last_name
            if user.username:
                data["username"] = user.username
            data["type"] = "private"
            return data
        data = {"id": self.id, "title": self.title}
        if self.username:
            data["username"] = self.username
        data["type"] = self.type
        if self.type == "group":
            data["all_members_are_administrators"] = False
        return data


@dataclass
class RateLimits:
    """Telegram's flood limits for sending: ~30 messages/s per bot, 20 messages/min per group."""

    enabled: bool = True
    global_per_second: int = 30
    group_per_minute: int = 20
    chat_per_second: int = 0  # 0 = no per-chat limit (Telegram tolerates bursts of ~1/s in private chats)

    def to_dict(self) -> dict[str, Any]:
        return {
            "enabled": self.enabled,
            "global_per_second": self.global_per_second,
            "group_per_minute": self.group_per_minute,
            "chat_per_second": self.chat_per_second,
        }


@dataclass
class Fault:
    method: str  # lower-case method name, "*" for any
    error_code: int
    description: str
    parameters: dict[str, Any] | None = None
    times: int = 1
    chat_id: int | None = None


@dataclass
class Bot:
    token: str
    user: User
    can_join_groups: bool = True
    can_read_all_group_messages: bool = False  # privacy mode on, as for any new bot
    supports_inline_queries: bool = False
    updates: list[dict[str, Any]] = field(default_factory=list)
    next_update_id: int = 1
    allowed_updates: list[str] | None = None
    webhook_url: str = ""
    webhook_secret: str | None = None
    webhook_max_connections: int = 40
    webhook_generation: int = 0
    webhook_last_error_date: int | None = None
    webhook_last_error_message: str | None = None
    poll_generation: int = 0
    last_poll_at: float | None = None  # sandbox time a getUpdates last started or ended
    polling: int = 0  # getUpdates requests in flight
    commands: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    sent: deque = field(default_factory=deque)  # (time, chat_id) of sent messages, for rate limits
    delivered: int = 0

    @property
    def id(self) -> int:
        return self.user.id

    def accepts(self, kind: str) -> bool:
        if self.allowed_updates:
            return kind in self.allowed_updates
        return kind not in NOT_DEFAULT_UPDATES


# --- the world ----------------------------------------------------------------------------------


class World:
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

    # --- serialisation ---

    def user_dict(self, user_id: int) -> dict[str, Any]:
        if user_id == ANONYMOUS_ADMIN_ID:
            return dict(ANONYMOUS_ADMIN)
        return self.users[user_id].to_dict()

    def rights_of(self, chat: Chat, member: Member) -> dict[str, bool]:
        if member.status == "creator":
            return dict(ALL_RIGHTS)
        if member.status == "administrator":
            if chat.type == "group":
                return dict(BASIC_GROUP_ADMIN_RIGHTS)
            return {right: bool(member.rights.get(right)) for right in ADMIN_RIGHTS}
        return dict.fromkeys(ADMIN_RIGHTS, False)

    def permissions_of(self, chat: Chat, member: Member) -> dict[str, bool]:
        """What a member may do as a participant (admins: everything)."""
        if member.is_admin:
            return dict.fromkeys(PERMISSION_FIELDS, True)
        if member.status == "restricted":
            return {name: bool(member.permissions.get(name)) and chat.permissions.get(name, True)
                    for name in PERMISSION_FIELDS}
        return dict(chat.permissions)

    def member_dict(self, chat: Chat, member: Member, viewer: Bot | None = None) -> dict[str, Any]:
        data: dict[str, Any] = {"user": self.user_dict(member.user_id), "status": member.status}
        if member.status == "creator":
            data["is_anonymous"] = member.is_anonymous
            if member.custom_title:
                data["custom_title"] = member.custom_title
        elif member.status == "administrator":
            can_be_edited = chat.type == "supergroup" and viewer is not None and member.promoted_by == viewer.id
            data["can_be_edited"] = can_be_edited
            data["is_anonymous"] = member.is_anonymous
            data.update(self.rights_of(chat, member))
            if member.custom_title:
                data["custom_title"] = member.custom_title
        elif member.status == "restricted":
            data["is_member"] = member.is_member
            data.update({name: bool(member.permissions.get(name)) for name in PERMISSION_FIELDS})
            data["until_date"] = member.until_date
        elif member.status == "kicked":
            data["until_date"] = member.until_date
        return data

    def message_dict(self, message: Message, *, nested: bool = True) -> dict[str, Any]:
        chat = self._chat_of(message)
        data: dict[str, Any] = {"message_id": message.message_id}
        if message.from_id is not None:
            data["from"] = self.user_dict(message.from_id)
        if message.sender_chat_id is not None:
            data["sender_chat"] = self._chat_by_id(message.sender_chat_id).short_dict(self)
        data["chat"] = chat.short_dict(self)
        data["date"] = message.date
        if message.edit_date:
            data["edit_date"] = message.edit_date
        if message.author_signature:
            data["author_signature"] = message.author_signature
        if message.forward_origin:
            data["forward_origin"] = message.forward_origin
        if nested and message.reply_to is not None and message.reply_to in chat.messages:
            data["reply_to_message"] = self.message_dict(chat.messages[message.reply_to], nested=False)
        if message.text is not None:
            data["text"] = message.text
            if message.entities:
                data["entities"] = message.entities
        for key, value in message.service.items():
            if key in ("new_chat_members",):
                users = [self.user_dict(uid) for uid in value]
                data["new_chat_participant"] = users[0]
                data["new_chat_member"] = users[0]
                data["new_chat_members"] = users
            elif key == "left_chat_member":
                data["left_chat_participant"] = self.user_dict(value)
                data["left_chat_member"] = self.user_dict(value)
            elif key == "pinned_message":
                if nested and value in chat.messages:
                    data["pinned_message"] = self.message_dict(chat.messages[value], nested=False)
            else:
                data[key] = value
        if message.reply_markup:
            data["reply_markup"] = message.reply_markup
        return data

    def chat_full_dict(self, chat: Chat, viewer: Bot | None = None) -> dict[str, Any]:
        data = chat.short_dict(self)
        data.pop("all_members_are_administrators", None)
        data["accent_color_id"] = chat.id % 7 if chat.type != "private" else chat.user_id % 7
        data["max_reaction_count"] = 11
        data["accepted_gift_types"] = {
            "unlimited_gifts": chat.type == "private", "limited_gifts": chat.type == "private",
            "unique_gifts": chat.type == "private", "premium_subscription": chat.type == "private",
            "gifts_from_channels": chat.type == "private",
        }
        if chat.username:
            data["active_usernames"] = [chat.username]
        if chat.description:
            data["description"] = chat.description
        if chat.is_group:
            data["permissions"] = dict(chat.permissions)
            if chat.type == "supergroup" and chat.migrated_from:
                data["has_visible_history"] = True
        if chat.pinned and chat.pinned[-1] in chat.messages:
            data["pinned_message"] = self.message_dict(chat.messages[chat.pinned[-1]], nested=False)
        return data

    def _chat_by_id(self, chat_id: int) -> Chat:
        return self.chats[chat_id]

    def _chat_of(self, message: Message) -> Chat:
        chat = self.chats.get(message.chat_id)
        if chat is not None:
            return chat
        for private in self.private.values():
            if private.id == message.chat_id and private.messages.get(message.message_id) is message:
                return private
        raise KeyError(message.chat_id)

    # --- updates ---

    def emit(self, bot: Bot, kind: str, payload: dict[str, Any]) -> dict[str, Any] | None:
        """Queue one update for a bot if its allowed_updates let it through."""
        if not bot.accepts(kind):
            return None
        update = {"update_id": bot.next_update_id, kind: payload}
        bot.next_update_id += 1
        bot.updates.append(update)
        self.notifier.notify()
        return update

    def _member_changed(self, chat: Chat, user_id: int, old: Member, new: Member, actor_id: int) -> None:
        """my_chat_member to a bot whose own status changed; chat_member to admin bots for anyone else."""
        if old.status == new.status and old == new:
            return
        for bot in self.chat_bots(chat):
            if bot.id == user_id:
                kind = "my_chat_member"
            elif self.member(chat, bot.id).is_admin:
                kind = "chat_member"
            else:
                continue
            self.emit(bot, kind, {
                "chat": chat.short_dict(self),
                "from": self.user_dict(actor_id),
                "date": self.now(),
                "old_chat_member": self.member_dict(chat, old, bot),
                "new_chat_member": self.member_dict(chat, new, bot),
            })

    def _sees(self, bot: Bot, chat: Chat, message: Message) -> bool:
        """Whether a group message reaches the bot (privacy mode, as documented by Telegram)."""
        if message.from_id == bot.id:
            return False
        if chat.type == "private":
            return chat.bot_id == bot.id
        me = self.member(chat, bot.id)
        if not me.present:
            return False
        if me.is_admin or bot.can_read_all_group_messages or message.is_service:
            return True
        if message.reply_to is not None:
            replied = chat.messages.get(message.reply_to)
            if replied is not None and replied.from_id == bot.id:
                return True
        for entity in message.entities:
            if entity["type"] == "bot_command":
                command = entity_text(message.text or "", entity)
                target = command.partition("@")[2].lower()
                if not target or target == (bot.user.username or "").lower():
                    return True
            mentioned = entity_text(message.text or "", entity)[1:].lower()
            if entity["type"] == "mention" and mentioned == (bot.user.username or "").lower():
                return True
        return False

    def _deliver(self, chat: Chat, message: Message, kind: str = "message", skip: int | None = None) -> None:
        bots = [self.bots_by_id()[chat.bot_id]] if chat.type == "private" else self.chat_bots(chat)
        for bot in bots:
            if bot.id != skip and self._sees(bot, chat, message):
                self.emit(bot, kind, self.message_dict(message))

    def bots_by_id(self) -> dict[int, Bot]:
        return {bot.id: bot for bot in self.bots.values()}

    # --- messages ---

    def add_message(self, chat: Chat, **fields: Any) -> Message:
        message = Message(message_id=chat.next_message_id, chat_id=chat.id, date=self.now(), **fields)
        chat.next_message_id += 1
        chat.messages[message.message_id] = message
        self.notifier.notify()
        return message

    def _service(self, chat: Chat, actor_id: int, deliver: bool = True, skip: int | None = None,
                 **service: Any) -> Message:
        message = self.add_message(chat, from_id=actor_id, service=service)
        if deliver:
            self._deliver(chat, message, skip=skip)
        return message

    # --- call log and faults ---

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
                        group_per_minute: int | None = None, chat_per_second: int | None = None) -> RateLimits:
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
            for bot in self.bots.values():
                bot.sent.clear()
            return limits

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

    # --- control: bots, users, chats ---

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

    def create_chat(self, title: str, owner: Any, *, type: str = "supergroup", username: str | None = None,
                    members: Iterable[Any] = (), description: str | None = None,
                    permissions: dict[str, bool] | None = None, chat_id: int | None = None) -> Chat:
        """A group or supergroup created by ``owner``; ``members`` join right away (as plain members). ``chat_id``:
        a fixed id (the demo world's), else the next of its kind."""
        if type not in ("group", "supergroup"):
            raise SandboxError("type must be 'group' or 'supergroup'")
        with self.lock:
            owner_user = self.user(owner)
            if type == "group" and username:
                raise SandboxError("basic groups cannot have a username")
            if chat_id is None:
                chat_id = self._next_chat_id(type)
            elif chat_id in self.chats or chat_id >= 0:
                raise SandboxError(f"chat id {chat_id} is taken or not a group's")
            chat = Chat(id=chat_id, type=type, title=title, username=username, description=description)
            if permissions:
                chat.permissions.update(permissions)
            chat.members[owner_user.id] = Member(user_id=owner_user.id, status="creator")
            self.chats[chat_id] = chat
            self.add_message(chat, from_id=owner_user.id, service=(
                {"group_chat_created": True} if type == "group" else {"supergroup_chat_created": True}))
            for ref in members:
                self.add_member(chat, ref, by=owner_user)
            return chat

    def _next_chat_id(self, type: str) -> int:
        """The next free id of a group or supergroup (a chat created with a fixed id may hold the next one)."""
        ids = self._supergroup_ids if type == "supergroup" else self._group_ids
        chat_id = -next(ids)
        while chat_id in self.chats:
            chat_id = -next(ids)
        return chat_id

    def add_member(self, chat: Any, user: Any, *, by: Any = None, status: str = "member",
                   rights: dict[str, bool] | None = None, custom_title: str | None = None,
                   is_anonymous: bool = False) -> Member:
        """``user`` joins (``by`` = None) or is added by ``by``. Bots may be added straight as admins."""
        with self.lock:
            chat = self.chat(chat)
            target = self.user(user)
            actor = self.user(by) if by is not None else target
            old = self.member(chat, target.id).copy()
            if old.present:
                raise SandboxError(f"{target.label} is already in {chat.title}")
            if old.status == "kicked":
                if actor.id == target.id:
                    raise SandboxError(f"{target.label} is banned in {chat.title}")
                if not self.member(chat, actor.id).is_admin:
                    raise SandboxError(f"{target.label} is banned; only an admin can add them back")
            if status not in ("member", "administrator"):
                raise SandboxError("status must be member or administrator")
            if by is not None and actor.id != target.id and not self.member(chat, actor.id).present:
                raise SandboxError(f"{actor.label} is not in {chat.title}")
            new = Member(user_id=target.id, status="member", invited_by=actor.id if actor.id != target.id else None)
            if status == "administrator":
                if chat.type == "supergroup" and not self.rights_of(chat, self.member(chat, actor.id)).get(
                        "can_promote_members") and actor.id != target.id:
                    raise SandboxError(f"{actor.label} cannot appoint admins")
                new.status = "administrator"
                new.rights = _rights_with_manage({**dict.fromkeys(ADMIN_RIGHTS, False), **(rights or ALL_RIGHTS)})
                new.promoted_by = actor.id
                new.custom_title = custom_title
                new.is_anonymous = is_anonymous
            chat.members[target.id] = new
            self._member_changed(chat, target.id, old, new, actor.id)
            self._service(chat, actor.id, new_chat_members=[target.id])
            return new

    def remove_member(self, chat: Any, user: Any, *, by: Any = None, ban: bool = False,
                      until_date: int = 0) -> Member:
        """``user`` leaves (``by`` = None), or an admin removes/bans them from the chat."""
        with self.lock:
            chat = self.chat(chat)
            target = self.user(user)
            actor = self.user(by) if by is not None else target
            old = self.member(chat, target.id).copy()
            if actor.id != target.id:
                actor_member = self.member(chat, actor.id)
                if not (actor_member.status == "creator" or self.rights_of(chat, actor_member)["can_restrict_members"]):
                    raise SandboxError(f"{actor.label} cannot remove members of {chat.title}")
                if old.status == "creator":
                    raise SandboxError("can't remove chat owner")
            elif old.status == "creator":
                raise SandboxError("the owner cannot leave in the sandbox (transfer ownership first)")
            if not old.present and not ban:
                raise SandboxError(f"{target.label} is not in {chat.title}")
            kicked = ban or (target.is_bot and actor.id != target.id and chat.type == "group")
            if kicked and chat.type == "supergroup":
                new = Member(user_id=target.id, status="kicked", until_date=self.normalize_until(until_date))
            elif kicked and target.is_bot:
                new = Member(user_id=target.id, status="kicked")
            else:
                new = Member(user_id=target.id, status="left")
            chat.members[target.id] = new
            self._member_changed(chat, target.id, old, new, actor.id)
            if old.present:
                self._service(chat, actor.id, left_chat_member=target.id)
            return new

    def promote(self, chat: Any, user: Any, *, by: Any = None, rights: dict[str, bool] | None = None,
                custom_title: str | None = None, is_anonymous: bool = False) -> Member:
        """An owner/admin (default: the owner) makes ``user`` an administrator; ``rights`` = {} demotes."""
        with self.lock:
            chat = self.chat(chat)
            target = self.user(user)
            actor = self.user(by) if by is not None else self._owner(chat)
            actor_member = self.member(chat, actor.id)
            if not (actor_member.status == "creator" or
                    (chat.type == "supergroup" and self.rights_of(chat, actor_member)["can_promote_members"])):
                raise SandboxError(f"{actor.label} cannot promote members of {chat.title}")
            old = self.member(chat, target.id).copy()
            if old.status == "creator":
                raise SandboxError("the owner is already an admin")
            if not old.present:
                raise SandboxError(f"{target.label} is not in {chat.title}")
            if rights is not None and not any(rights.values()) and not is_anonymous:
                new = Member(user_id=target.id, status="member", invited_by=old.invited_by)
            else:
                granted = {**dict.fromkeys(ADMIN_RIGHTS, False), **(ALL_RIGHTS if rights is None else rights)}
                new = Member(user_id=target.id, status="administrator", rights=_rights_with_manage(granted),
                             is_anonymous=is_anonymous, custom_title=custom_title, promoted_by=actor.id,
                             invited_by=old.invited_by)
            chat.members[target.id] = new
            self._member_changed(chat, target.id, old, new, actor.id)
            return new

    def restrict(self, chat: Any, user: Any, *, by: Any = None, permissions: dict[str, bool] | None = None,
                 until_date: int = 0) -> Member:
        """An admin restricts ``user`` in a supergroup (``permissions`` default: read-only)."""
        with self.lock:
            chat = self.chat(chat)
            if chat.type != "supergroup":
                raise SandboxError("restrictions exist only in supergroups")
            target = self.user(user)
            actor = self.user(by) if by is not None else self._owner(chat)
            if not self.rights_of(chat, self.member(chat, actor.id))["can_restrict_members"]:
                raise SandboxError(f"{actor.label} cannot restrict members")
            old = self.member(chat, target.id).copy()
            if old.is_admin:
                raise SandboxError("user is an administrator of the chat")
            new = Member(user_id=target.id, status="restricted", is_member=old.present,
                         permissions={**dict.fromkeys(PERMISSION_FIELDS, False), **(permissions or {})},
                         until_date=self.normalize_until(until_date))
            chat.members[target.id] = new
            self._member_changed(chat, target.id, old, new, actor.id)
            return new

    def _owner(self, chat: Chat) -> User:
        for member in chat.members.values():
            if member.status == "creator":
                return self.users[member.user_id]
        raise SandboxError(f"{chat.title} has no owner")

    def set_chat_permissions(self, chat: Any, permissions: dict[str, bool]) -> dict[str, bool]:
        with self.lock:
            chat = self.chat(chat)
            chat.permissions.update({k: bool(v) for k, v in permissions.items() if k in PERMISSION_FIELDS})
            return dict(chat.permissions)

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

    # --- control: what people do in chats ---

    def send_message(self, chat: Any, user: Any, text: str, *, reply_to: int | None = None,
                     anonymous: bool | None = None, entities: list[dict[str, Any]] | None = None,
                     parse_mode: str | None = None) -> Message:
        """``user`` writes ``text`` in a group (``chat``), or privately to a bot (``chat`` = the bot).

        Admins with ``is_anonymous`` post as the group (``from`` = @GroupAnonymousBot, ``sender_chat``
        = the group); ``anonymous=True`` forces that for any admin, ``False`` turns it off.
        """
        with self.lock:
            sender = self.user(user)
            target_chat = self._chat_for_user_message(chat, sender)
            if target_chat.type == "private":
                if target_chat.blocked:
                    target_chat.blocked = False
                    self._private_status(target_chat, "kicked", "member")
            else:
                member = self.member(target_chat, sender.id)
                if target_chat.migrated_to:
                    raise SandboxError(f"{target_chat.title} was upgraded; write in chat {target_chat.migrated_to}")
                if not member.present:
                    raise SandboxError(f"{sender.label} is not a member of {target_chat.title} ({member.status})")
                if not self.permissions_of(target_chat, member)["can_send_messages"]:
                    raise SandboxError(f"{sender.label} is restricted in {target_chat.title} and cannot send messages")
                if anonymous and not member.is_admin:
                    raise SandboxError("only administrators can post anonymously")
            if reply_to is not None and reply_to not in target_chat.messages:
                raise SandboxError(f"message {reply_to} not found in this chat")
            plain, found = render_text(text, parse_mode, entities)
            if not plain:
                raise SandboxError("message text is empty")
            fields: dict[str, Any] = {"from_id": sender.id, "text": plain, "entities": found, "reply_to": reply_to}
            if target_chat.is_group:
                member = self.member(target_chat, sender.id)
                is_anonymous = member.is_anonymous if anonymous is None else anonymous
                if is_anonymous and member.is_admin:
                    fields.update(from_id=ANONYMOUS_ADMIN_ID, sender_chat_id=target_chat.id,
                                  author_signature=member.custom_title)
            message = self.add_message(target_chat, **fields)
            self._deliver(target_chat, message)
            return message

    def send_anonymous(self, chat: Any, user: Any, text: str, **kwargs: Any) -> Message:
        return self.send_message(chat, user, text, anonymous=True, **kwargs)

    def edit_message(self, chat: Any, message_id: int, text: str, *, user: Any = None) -> Message:
        """Edit a user's message; bots that saw it receive ``edited_message``."""
        with self.lock:
            target_chat = self._chat_any(chat, user)
            message = target_chat.messages.get(int(message_id))
            if message is None:
                raise SandboxError(f"message {message_id} not found")
            if message.from_id in self.bots_by_id():
                raise SandboxError("bot messages are edited through the Bot API")
            if user is not None:
                editor = self.user(user)
                if editor.id not in (message.from_id,) and message.from_id != ANONYMOUS_ADMIN_ID:
                    raise SandboxError("people can only edit their own messages")
            plain, found = render_text(text, None, None)
            message.text, message.entities, message.edit_date = plain, found, self.now()
            self.notifier.notify()
            self._deliver(target_chat, message, kind="edited_message")
            return message

    def delete_message(self, chat: Any, message_id: int) -> None:
        """Someone (an admin, the author) deletes a message. Telegram sends bots no update for it."""
        with self.lock:
            target_chat = self._chat_any(chat, None)
            if target_chat.messages.pop(int(message_id), None) is None:
                raise SandboxError(f"message {message_id} not found")
            self.notifier.notify()

    def upgrade_group(self, chat: Any, *, by: Any = None) -> Chat:
        """Upgrade a basic group to a supergroup: a new chat id (-100...), members and admins carried over.

        Telegram posts ``migrate_to_chat_id`` in the old group and ``migrate_from_chat_id`` in the new
        one; after that the old id answers writes with ``group chat was upgraded to a supergroup chat``.
        """
        with self.lock:
            old_chat = self.chat(chat)
            if old_chat.type != "group":
                raise SandboxError("only basic groups can be upgraded")
            if old_chat.migrated_to:
                raise SandboxError("this group was upgraded already")
            actor = self.user(by) if by is not None else self._owner(old_chat)
            if self.member(old_chat, actor.id).status != "creator":
                raise SandboxError("only the owner can upgrade the group")
            new_chat = Chat(id=self._next_chat_id("supergroup"), type="supergroup", title=old_chat.title,
                            description=old_chat.description, permissions=dict(old_chat.permissions),
                            migrated_from=old_chat.id)
            for user_id, member in old_chat.members.items():
                moved = member.copy()
                if moved.status == "administrator":
                    moved.rights = dict(BASIC_GROUP_ADMIN_RIGHTS)
                    moved.promoted_by = moved.promoted_by or self._owner(old_chat).id
                new_chat.members[user_id] = moved
            self.chats[new_chat.id] = new_chat
            old_chat.migrated_to = new_chat.id
            self._service(old_chat, actor.id, migrate_to_chat_id=new_chat.id)
            # Telegram's migrate_from message comes from the upgrading user, in the new supergroup.
            self._service(new_chat, actor.id, migrate_from_chat_id=old_chat.id)
            return new_chat

    def press_button(self, chat: Any, message_id: int, user: Any, data: str) -> dict[str, Any]:
        """``user`` presses an inline button with ``callback_data`` = ``data`` under a bot message."""
        with self.lock:
            presser = self.user(user)
            target_chat = self._chat_any(chat, presser)
            message = target_chat.messages.get(int(message_id))
            if message is None:
                raise SandboxError(f"message {message_id} not found")
            bot = self.bots_by_id().get(message.from_id)
            if bot is None:
                raise SandboxError("only bot messages carry inline buttons")
            buttons = [b for row in (message.reply_markup or {}).get("inline_keyboard", []) for b in row]
            if not any(b.get("callback_data") == data for b in buttons):
                raise SandboxError(f"the message has no button with callback_data {data!r}")
            query_id = str(next(self._callback_ids))
            payload = {
                "id": query_id,
                "from": presser.to_dict(),
                "message": self.message_dict(message),
                "chat_instance": str(abs(hash((target_chat.id, bot.id))) % 10**18),
                "data": data,
            }
            self.callback_queries[query_id] = {"bot_id": bot.id, "date": self.now(), "answered": False,
                                               "answer": None, "user_id": presser.id}
            self.emit(bot, "callback_query", payload)
            return payload

    def start_bot(self, user: Any, bot: Any = None) -> Chat:
        """``user`` opens a private chat with the bot and presses Start (sends ``/start``)."""
        with self.lock:
            message = self.send_message(self.bot(bot).user, user, "/start")
            return self._chat_of(message)

    def block_bot(self, user: Any, bot: Any = None) -> Chat:
        """``user`` blocks the bot: it gets my_chat_member (member -> kicked) and 403 on sending."""
        with self.lock:
            chat = self.private_chat(bot, user)
            if not chat.blocked:
                chat.blocked = True
                self._private_status(chat, "member", "kicked")
            return chat

    def private_chat(self, bot: Any, user: Any, *, create: bool = False) -> Chat:
        with self.lock:
            the_bot, the_user = self.bot(bot), self.user(user)
            key = (the_bot.id, the_user.id)
            chat = self.private.get(key)
            if chat is None:
                if not create:
                    raise SandboxError(f"{the_user.label} never started {the_bot.user.label}", 404)
                chat = Chat(id=the_user.id, type="private", bot_id=the_bot.id, user_id=the_user.id)
                self.private[key] = chat
            return chat

    def _private_status(self, chat: Chat, old: str, new: str) -> None:
        bot = self.bots_by_id()[chat.bot_id]
        self.emit(bot, "my_chat_member", {
            "chat": chat.short_dict(self), "from": self.user_dict(chat.user_id), "date": self.now(),
            "old_chat_member": {"user": bot.user.to_dict(), "status": old},
            "new_chat_member": {"user": bot.user.to_dict(), "status": new,
                                **({"until_date": 0} if new == "kicked" else {})},
        })

    def _chat_for_user_message(self, chat: Any, sender: User) -> Chat:
        """A group by reference, or the private chat with a bot when ``chat`` names a bot."""
        try:
            return self.chat(chat)
        except SandboxError as missing:
            try:
                bot = self.bot(chat)
            except SandboxError:
                raise missing from None
            return self.private_chat(bot, sender, create=True)

    def _chat_any(self, chat: Any, user: Any) -> Chat:
        if isinstance(chat, Chat):
            return chat
        try:
            return self.chat(chat)
        except SandboxError as missing:
            if user is None:
                raise
            try:
                bot = self.bot(chat)
            except SandboxError:
                raise missing from None
            return self.private_chat(bot, user)

    # --- reading what happened ---

    def messages(self, chat: Any, *, since_id: int = 0, sender: Any = None, user: Any = None) -> list[Message]:
        """Messages in a chat after ``since_id``; ``sender`` filters by author (a user, a bot, ``"bot"``)."""
        with self.lock:
            target_chat = self._chat_any(chat, user)
            if sender == "bot":
                wanted = set(self.bots_by_id())
            elif sender is not None:
                wanted = {self.user(sender).id}
            else:
                wanted = None
            return [m for m in sorted(target_chat.messages.values(), key=lambda m: m.message_id)
                    if m.message_id > since_id and (wanted is None or m.from_id in wanted)]

    def wait_messages(self, chat: Any, *, since_id: int = 0, sender: Any = "bot", timeout: float = 2.0,
                      count: int = 1, user: Any = None) -> list[Message]:
        """Wait up to ``timeout`` s until at least ``count`` new messages (default: from a bot) exist."""
        deadline = time.monotonic() + timeout
        while True:
            version = self.notifier.version
            found = self.messages(chat, since_id=since_id, sender=sender, user=user)
            remaining = deadline - time.monotonic()
            if len(found) >= count or remaining <= 0:
                return found
            self.notifier.wait(version, remaining)

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


def _rights_with_manage(rights: dict[str, bool]) -> dict[str, bool]:
    """can_manage_chat is implied by any other administrator privilege."""
    rights = {k: bool(v) for k, v in rights.items() if k in ADMIN_RIGHTS}
    if any(v for k, v in rights.items() if k != "can_manage_chat"):
        rights["can_manage_chat"] = True
    return rights
