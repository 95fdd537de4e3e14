"""The control API under ``/sandbox/...``: what tests, ``botchat`` and the demo runner use to play the
people in the chats and to inspect what the bot did.

:data:`ROUTES` is the whole API: each :class:`Route` names its verb, its path (``{name}`` segments
arrive percent-decoded), the handler (a thin wrapper around a :class:`~tgsandbox.world.World`
method) and how each of the handler's arguments is read from the JSON body or the query string.
Adding an endpoint is one entry. A missing or malformed field is a ``KeyError``/``ValueError``,
which the app answers with 400 ``bad control request``.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from .content import CONTROL_KEYS
from .seed import seed_demo
from .world import World
from .world.model import Chat, Member

Source = dict[str, Any]
Reader = Callable[[Source], Any]


# --- how arguments are read -----------------------------------------------------------------------


def _flag(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def _same(value: Any) -> Any:
    return value


def required(key: str, parse: Callable[[Any], Any] = _same) -> Reader:
    return lambda source: parse(source[key])


def optional(key: str, default: Any = None, parse: Callable[[Any], Any] = _same) -> Reader:
    return lambda source: parse(source.get(key, default))


def flag(key: str) -> Reader:
    return optional(key, False, _flag)


def integer(key: str, default: int = 0) -> Reader:
    return optional(key, default, int)


def unless_none(parse: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``None`` stays ``None`` (the world decides), anything else is parsed."""
    return lambda value: None if value is None else parse(value)


def nonempty(key: str) -> Reader:
    """A query value where an empty string means "not given"."""
    return lambda source: source.get(key) or None


def names(key: str) -> Reader:
    """A comma-separated list (``exclude=getUpdates,getMe``)."""
    return lambda source: [name for name in source.get(key, "").split(",") if name]


def picked(*keys: str) -> Reader:
    """The given fields that are present, as a dict (passed on as keyword arguments)."""
    return lambda source: {key: source[key] for key in keys if key in source}


@dataclass
class Route:
    verb: str
    pattern: str
    handler: Callable[..., Any]
    body: dict[str, Reader] = field(default_factory=dict)
    query: dict[str, Reader] = field(default_factory=dict)
    regex: re.Pattern[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.regex = re.compile("^" + re.sub(r"{(\w+)}", r"(?P<\1>[^/]+)", self.pattern) + "/?$")

    def match(self, verb: str, path: str) -> dict[str, str] | None:
        """The path parameters (percent-decoded: ``%40spammer``, ``Sandbox%20Group``), or None."""
        found = self.regex.match(path)
        if found is None or verb != self.verb:
            return None
        return {name: unquote(value) for name, value in found.groupdict().items()}

    def arguments(self, path_params: dict[str, str], query: Source, body: Source) -> dict[str, Any]:
        return {**path_params, **{name: read(body) for name, read in self.body.items()},
                **{name: read(query) for name, read in self.query.items()}}


# --- views and waiting ------------------------------------------------------------------------------


def _member_view(world: World, chat: Chat, member: Member) -> dict[str, Any]:
    return world.member_dict(chat, member)


def _chat_view(world: World, chat: Chat) -> dict[str, Any]:
    with world.lock:
        return {**chat.short_dict(world), "migrated_to": chat.migrated_to, "migrated_from": chat.migrated_from,
                "permissions": dict(chat.permissions), "pinned": list(chat.pinned),
                "members": [_member_view(world, chat, world.member(chat, uid)) for uid in chat.members]}


async def _wait_until(world: World, fetch: Callable[[], list], wait: float, count: int = 1) -> list:
    deadline = time.monotonic() + max(0.0, min(wait, 60.0))
    while True:
        version = world.notifier.version
        found = fetch()
        remaining = deadline - time.monotonic()
        if len(found) >= count or remaining <= 0:
            return found
        await world.notifier.wait_async(version, remaining)


# --- handlers -----------------------------------------------------------------------------------------


def index(world: World) -> Any:
    return world.snapshot()


def reset(world: World, seed: bool, seed_options: dict[str, Any]) -> Any:
    world.reset()
    if seed:
        return seed_demo(world, **seed_options)
    return world.snapshot()


def seed(world: World, seed_options: dict[str, Any]) -> Any:
    return seed_demo(world, **seed_options)


def create_bot(world: World, **fields: Any) -> Any:
    return world.create_bot(**fields).user.to_dict()


def bot_privacy(world: World, bot: str, can_read_all_group_messages: bool) -> Any:
    found = world.set_privacy(bot, can_read_all_group_messages=can_read_all_group_messages)
    return {"can_read_all_group_messages": found.can_read_all_group_messages}


def bot_webhook(world: World, bot: str, url: str, **options: Any) -> Any:
    found = world.set_webhook(url, bot=bot, **options)
    return {"url": found.webhook_url, "allowed_updates": found.allowed_updates}


def bot_updates(world: World, bot: str) -> Any:
    with world.lock:
        found = world.bot(bot)
        return {"pending": [dict(u) for u in found.updates], "webhook_url": found.webhook_url,
                "allowed_updates": found.allowed_updates,
                # long polling: getUpdates requests waiting now, how many were started, updates handed out
                "polling": found.polling, "poll_generation": found.poll_generation, "delivered": found.delivered}


def create_user(world: World, first_name: str, **fields: Any) -> Any:
    return world.create_user(first_name, **fields).to_dict()


def create_chat(world: World, title: str, owner: Any, **fields: Any) -> Any:
    return _chat_view(world, world.create_chat(title, owner, **fields))


def get_chat(world: World, chat: str) -> Any:
    return _chat_view(world, world.chat(chat))


def _member_change(change: Callable[..., Member]) -> Callable[..., Any]:
    """A handler that applies ``change(found_chat, user, **fields)`` and answers with the member."""

    def handler(world: World, chat: str, user: Any, **fields: Any) -> Any:
        found = world.chat(chat)
        return _member_view(world, found, change(world, found, user, **fields))

    return handler


def add_member(world: World, chat: str, user: Any, **fields: Any) -> Any:
    """The member, and the join notice their arrival posted (``message``; none in a channel) as it was posted: a
    bot that deletes join notices may have removed it by the time a caller could list the chat's messages."""
    with world.lock:  # no bot can act on the notice before it is read here
        found = world.chat(chat)
        before = max(found.messages, default=0)
        view = _member_view(world, found, world.add_member(found, user, **fields))
        notices = [message for message_id, message in found.messages.items() if message_id > before
                   and message.service.get("new_chat_members")]
        if notices:
            view["message"] = world.message_dict(notices[-1])
        return view


def get_member(world: World, chat: str, user: str) -> Any:
    with world.lock:
        found = world.chat(chat)
        return _member_view(world, found, world.member(found, world.user(user).id))


def get_file(world: World, file_id: str) -> Any:
    return world.file_info(file_id)


def set_permissions(world: World, chat: str, permissions: dict[str, bool]) -> Any:
    return world.set_chat_permissions(chat, permissions)


def post_message(world: World, chat: str, sender: Any, text: str | None, **options: Any) -> Any:
    message = world.send_message(chat, sender, text, **options)
    with world.lock:
        return world.message_dict(message)


async def list_messages(world: World, chat: str, since_id: int, sender: Any, user: Any, wait: float,
                        count: int) -> Any:
    def fetch():
        with world.lock:
            return [world.message_dict(m) for m in world.messages(chat, since_id=since_id, sender=sender, user=user)]

    return await _wait_until(world, fetch, wait, count)


def edit_message(world: World, chat: str, message_id: str, text: str, user: Any, **options: Any) -> Any:
    message = world.edit_message(chat, int(message_id), text, user=user, **options)
    with world.lock:
        return world.message_dict(message)


def delete_message(world: World, chat: str, message_id: str) -> Any:
    world.delete_message(chat, int(message_id))
    return True


def press(world: World, chat: str, message_id: str, user: Any, data: str) -> Any:
    return world.press_button(chat, int(message_id), user, data)


async def callback_answer(world: World, query_id: str, wait: float) -> Any:
    """The bot's answer to a press, waiting up to ``wait`` s for it."""
    found = await _wait_until(world, lambda: [1] if world.callback_answer(query_id)["answered"] else [], wait)
    del found
    return world.callback_answer(query_id)


def forward(world: World, chat: str, user: Any, from_chat: Any, message_id: int) -> Any:
    message = world.forward_message(chat, user, from_chat, message_id)
    with world.lock:
        return world.message_dict(message)


async def join_flood(world: World, chat: str, count: int, seconds: float, prefix: str) -> Any:
    """Runs in a thread: the joins are spread over ``seconds`` while the sandbox goes on serving the bot."""
    return await asyncio.to_thread(world.join_flood, chat, count, seconds, prefix=prefix)


def upgrade(world: World, chat: str, by: Any) -> Any:
    return _chat_view(world, world.upgrade_group(chat, by=by))


def _private(action: Callable[..., Chat]) -> Callable[..., Any]:
    def handler(world: World, user: Any, bot: Any) -> Any:
        chat = action(world, user, bot)
        with world.lock:
            return chat.short_dict(world)

    return handler


async def calls(world: World, since: int, wait: float, **filters: Any) -> Any:
    found = await _wait_until(world, lambda: world.call_log(since=since, **filters), wait)
    return {"calls": found, "last_seq": world.call_seq}


def set_rate_limits(world: World, limits: dict[str, Any]) -> Any:
    return world.set_rate_limits(**limits).to_dict()


def get_rate_limits(world: World) -> Any:
    return world.rate_limits.to_dict()


def add_fault(world: World, method: str, **options: Any) -> Any:
    return vars(world.fail_next(method, **options))


def clear_faults(world: World) -> Any:
    world.clear_faults()
    return True


def advance(world: World, seconds: float) -> Any:
    return {"now": world.advance_time(seconds)}


# --- the table ----------------------------------------------------------------------------------------

SEED_OPTIONS = picked("token", "bot_username", "bot_name")
BY = optional("by")

ROUTES = [
    Route("GET", "/", index),
    Route("GET", "/sandbox", index),
    Route("GET", "/sandbox/state", index),
    Route("POST", "/sandbox/reset", reset, body={"seed": flag("seed"), "seed_options": SEED_OPTIONS}),
    Route("POST", "/sandbox/seed", seed, body={"seed_options": SEED_OPTIONS}),
    Route("POST", "/sandbox/bots", create_bot, body={
        "token": required("token"), "username": required("username"), "first_name": optional("first_name"),
        "can_read_all_group_messages": flag("can_read_all_group_messages")}),
    Route("POST", "/sandbox/bots/{bot}/privacy", bot_privacy,
          body={"can_read_all_group_messages": required("can_read_all_group_messages", _flag)}),
    Route("GET", "/sandbox/bots/{bot}/updates", bot_updates),
    Route("POST", "/sandbox/bots/{bot}/webhook", bot_webhook, body={
        "url": optional("url", ""), "secret_token": optional("secret_token"),
        "allowed_updates": optional("allowed_updates"), "drop_pending_updates": flag("drop_pending_updates")}),
    Route("POST", "/sandbox/users", create_user, body={
        "first_name": required("first_name"), "username": optional("username"), "last_name": optional("last_name"),
        "user_id": optional("id"), "language_code": optional("language_code", "en"), "is_bot": flag("is_bot")}),
    Route("POST", "/sandbox/chats", create_chat, body={
        "title": required("title"), "owner": required("owner"), "type": optional("type", "supergroup"),
        "username": optional("username"), "members": optional("members", []),
        "description": optional("description"), "permissions": optional("permissions")}),
    Route("GET", "/sandbox/chats/{chat}", get_chat),
    Route("POST", "/sandbox/chats/{chat}/members", add_member, body={
        "user": required("user"), "by": BY, "status": optional("status", "member"), "rights": optional("rights"),
        "custom_title": optional("custom_title"), "is_anonymous": flag("is_anonymous")}),
    Route("GET", "/sandbox/chats/{chat}/members/{user}", get_member),
    Route("POST", "/sandbox/chats/{chat}/leave", _member_change(World.remove_member), body={"user": required("user")}),
    Route("POST", "/sandbox/chats/{chat}/remove", _member_change(World.remove_member), body={
        "user": required("user"), "by": BY, "ban": flag("ban"), "until_date": integer("until_date")}),
    Route("POST", "/sandbox/chats/{chat}/unban", _member_change(World.unban_member), body={
        "user": required("user"), "by": BY}),
    Route("POST", "/sandbox/chats/{chat}/promote", _member_change(World.promote), body={
        "user": required("user"), "by": BY, "rights": optional("rights"), "custom_title": optional("custom_title"),
        "is_anonymous": flag("is_anonymous")}),
    Route("POST", "/sandbox/chats/{chat}/restrict", _member_change(World.restrict), body={
        "user": required("user"), "by": BY, "permissions": optional("permissions"),
        "until_date": integer("until_date")}),
    Route("POST", "/sandbox/chats/{chat}/permissions", set_permissions, body={"permissions": required("permissions")}),
    Route("POST", "/sandbox/chats/{chat}/messages", post_message, body={
        "sender": required("from"), "text": optional("text"),
        "reply_to": optional("reply_to_message_id", parse=unless_none(int)),
        "anonymous": optional("anonymous", parse=unless_none(_flag)), "parse_mode": optional("parse_mode"),
        "entities": optional("entities"), "forward_origin": optional("forward_origin"),
        "content": picked(*CONTROL_KEYS)}),
    Route("GET", "/sandbox/chats/{chat}/messages", list_messages, query={
        "sender": nonempty("sender"), "user": nonempty("user"), "since_id": integer("since_id"),
        "wait": optional("wait", 0, float), "count": integer("count", 1)}),
    Route("POST", "/sandbox/chats/{chat}/messages/{message_id}/edit", edit_message,
          body={"text": required("text"), "user": optional("user"), "entities": optional("entities"),
                "parse_mode": optional("parse_mode")}),
    Route("POST", "/sandbox/chats/{chat}/messages/{message_id}/delete", delete_message),
    Route("POST", "/sandbox/chats/{chat}/messages/{message_id}/press", press,
          body={"user": required("user"), "data": required("data")}),
    Route("POST", "/sandbox/chats/{chat}/forward", forward, body={
        "user": required("from"), "from_chat": required("from_chat"), "message_id": required("message_id", int)}),
    Route("GET", "/sandbox/files/{file_id}", get_file),
    Route("GET", "/sandbox/callback_queries/{query_id}", callback_answer, query={"wait": optional("wait", 0, float)}),
    Route("POST", "/sandbox/chats/{chat}/join_flood", join_flood, body={
        "count": required("count", int), "seconds": optional("seconds", 0.0, float),
        "prefix": optional("prefix", "joiner", str)}),
    Route("POST", "/sandbox/chats/{chat}/upgrade", upgrade, body={"by": BY}),
    Route("POST", "/sandbox/private/start", _private(World.start_bot),
          body={"user": required("user"), "bot": optional("bot")}),
    Route("POST", "/sandbox/private/block", _private(World.block_bot),
          body={"user": required("user"), "bot": optional("bot")}),
    Route("GET", "/sandbox/calls", calls, query={
        "since": integer("since"), "method": nonempty("method"), "exclude": names("exclude"), "bot": nonempty("bot"),
        "wait": optional("wait", 0, float)}),
    Route("GET", "/sandbox/rate_limits", get_rate_limits),
    Route("POST", "/sandbox/rate_limits", set_rate_limits,
          body={"limits": picked("enabled", "global_per_second", "group_per_minute", "chat_per_second",
                                 "actions_per_second")}),
    Route("POST", "/sandbox/faults", add_fault, body={
        "method": required("method"), "error_code": integer("error_code", 400), "description": optional("description"),
        "retry_after": optional("retry_after"), "migrate_to_chat_id": optional("migrate_to_chat_id"),
        "times": integer("times", 1), "chat": optional("chat")}),
    Route("DELETE", "/sandbox/faults", clear_faults),
    Route("POST", "/sandbox/time/advance", advance, body={"seconds": required("seconds", float)}),
]
