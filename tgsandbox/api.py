"""The sandbox's HTTP face: a plain ASGI app (no framework) serving

* the Bot API: ``GET|POST /bot<token>/<method>`` with JSON, form-urlencoded or multipart bodies
  (PTB 22 posts form fields: strings as they are, other values JSON-encoded) and query strings,
  answered with Telegram's envelope and HTTP status codes;
* the control API under ``/sandbox/...`` (JSON in, ``{"ok": true, "result": ...}`` out), used by
  tests, ``botchat`` and the demo runner to play the people in the chats and to inspect what the
  bot did. Every endpoint is a thin wrapper around a :class:`~tgsandbox.world.World` method.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
from collections.abc import Awaitable, Callable
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any
from urllib.parse import parse_qsl, unquote

from .botapi.dispatch import handle
from .errors import SandboxError
from .seed import seed_demo
from .webhook import WebhookDispatcher
from .world import World

BOT_PATH = re.compile(r"^/bot(?P<token>[^/]+)/(?P<method>[A-Za-z]+)/?$")
MAX_BODY = 50 * 1024 * 1024

Handler = Callable[..., Any]


class SandboxApp:
    """ASGI application over one :class:`World`."""

    def __init__(self, world: World | None = None):
        self.world = world or World()
        self.dispatcher = WebhookDispatcher(self.world)
        self._dispatcher_task: asyncio.Task | None = None
        self.routes: list[tuple[str, re.Pattern[str], Handler]] = []
        _register_control_routes(self)

    def route(self, method: str, pattern: str, handler: Handler) -> None:
        regex = "^" + re.sub(r"{(\w+)}", r"(?P<\1>[^/]+)", pattern) + "/?$"
        self.routes.append((method, re.compile(regex), handler))

    async def __call__(self, scope: dict[str, Any], receive, send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        path = scope["path"]
        try:
            body = await _read_body(receive)
        except ValueError:
            await _send_json(send, 413, {"ok": False, "error_code": 413, "description": "Request Entity Too Large"})
            return
        match = BOT_PATH.match(path)
        if match:
            try:
                data = parse_params(scope, body)
            except ValueError as exc:
                await _send_json(send, 400, {"ok": False, "error_code": 400, "description": f"Bad Request: {exc}"})
                return
            self._ensure_dispatcher()
            status, payload = await handle(self.world, match["token"], match["method"], data)
            await _send_json(send, status, payload)
            return
        if path == "/" or path.startswith("/sandbox"):
            self._ensure_dispatcher()
            await self._control(scope, body, send)
            return
        await _send_json(send, 404, {"ok": False, "error_code": 404, "description": "Not Found"})

    def _ensure_dispatcher(self) -> None:
        """Start webhook delivery in this loop (also when the server runs without lifespan events)."""
        if self._dispatcher_task is None or self._dispatcher_task.done():
            self._dispatcher_task = asyncio.get_running_loop().create_task(self.dispatcher.run())

    async def _lifespan(self, receive, send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self._ensure_dispatcher()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self._dispatcher_task is not None:
                    self._dispatcher_task.cancel()
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await self._dispatcher_task
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _control(self, scope: dict[str, Any], body: bytes, send) -> None:
        method, path = scope["method"], scope["path"]
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True))
        try:
            payload = json.loads(body) if body.strip() else {}
        except ValueError:
            await _send_json(send, 400, {"ok": False, "error_code": 400, "description": "body must be JSON"})
            return
        if not isinstance(payload, dict):
            payload = {}
        for verb, regex, handler in self.routes:
            found = regex.match(path)
            if found and verb == method:
                try:
                    result = handler(self.world, query=query, body=payload, **found.groupdict())
                    if asyncio.iscoroutine(result):
                        result = await result
                except SandboxError as exc:
                    await _send_json(send, exc.status, {"ok": False, "error_code": exc.status,
                                                        "description": exc.message})
                    return
                except (KeyError, TypeError, ValueError) as exc:
                    await _send_json(send, 400, {"ok": False, "error_code": 400,
                                                 "description": f"bad control request: {exc!r}"})
                    return
                await _send_json(send, 200, {"ok": True, "result": result})
                return
        await _send_json(send, 404, {"ok": False, "error_code": 404, "description": f"no route {method} {path}"})


# --- request parsing ---------------------------------------------------------------------------


async def _read_body(receive) -> bytes:
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            raise ValueError("body too large")
        chunks.append(chunk)
        if not message.get("more_body"):
            break
    return b"".join(chunks)


def _header(scope: dict[str, Any], name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return value.decode("latin-1")
    return ""


def parse_params(scope: dict[str, Any], body: bytes) -> dict[str, Any]:
    """Query string plus body (JSON, form-urlencoded or multipart/form-data), like the Bot API server."""
    params: dict[str, Any] = dict(parse_qsl(scope.get("query_string", b"").decode("utf-8"), keep_blank_values=True))
    content_type = _header(scope, b"content-type")
    kind = content_type.split(";")[0].strip().lower()
    if not body.strip():
        return params
    if kind == "application/json":
        try:
            data = json.loads(body)
        except ValueError:
            raise ValueError("can't parse JSON object") from None
        if not isinstance(data, dict):
            raise ValueError("JSON object expected")
        params.update(data)
    elif kind == "multipart/form-data":
        message = BytesParser(policy=HTTP).parsebytes(
            b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body)
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if not name:
                continue
            payload = part.get_payload(decode=True) or b""
            filename = part.get_filename()
            if filename:
                params[name] = f"<file {filename}, {len(payload)} bytes>"
            else:
                params[name] = payload.decode(part.get_content_charset() or "utf-8")
    else:  # form-urlencoded, or no content type at all
        params.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    return params


async def _send_json(send, status: int, payload: Any) -> None:
    data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]})
    await send({"type": "http.response.body", "body": data})


# --- control API ------------------------------------------------------------------------------


def _flag(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


async def _wait_until(world: World, fetch: Callable[[], list], wait: float, count: int = 1) -> list:
    deadline = time.monotonic() + max(0.0, min(wait, 60.0))
    while True:
        version = world.notifier.version
        found = fetch()
        remaining = deadline - time.monotonic()
        if len(found) >= count or remaining <= 0:
            return found
        await world.notifier.wait_async(version, remaining)


def _register_control_routes(app: SandboxApp) -> None:
    def member_view(world: World, chat, member) -> dict[str, Any]:
        return world.member_dict(chat, member)

    def chat_view(world: World, chat) -> dict[str, Any]:
        with world.lock:
            return {**chat.short_dict(world), "migrated_to": chat.migrated_to, "migrated_from": chat.migrated_from,
                    "permissions": dict(chat.permissions), "pinned": list(chat.pinned),
                    "members": [member_view(world, chat, world.member(chat, uid)) for uid in chat.members]}

    def index(world, query, body):
        return world.snapshot()

    def reset(world, query, body):
        world.reset()
        if _flag(body.get("seed", False)):
            return seed_demo(world, **_seed_args(body))
        return world.snapshot()

    def seed(world, query, body):
        return seed_demo(world, **_seed_args(body))

    def create_bot(world, query, body):
        bot = world.create_bot(body["token"], body["username"], body.get("first_name"),
                               can_read_all_group_messages=_flag(body.get("can_read_all_group_messages", False)))
        return bot.user.to_dict()

    def bot_privacy(world, query, body, bot):
        found = world.set_privacy(bot, can_read_all_group_messages=_flag(body["can_read_all_group_messages"]))
        return {"can_read_all_group_messages": found.can_read_all_group_messages}

    def bot_webhook(world, query, body, bot):
        found = world.set_webhook(body.get("url", ""), bot=bot, secret_token=body.get("secret_token"),
                                  allowed_updates=body.get("allowed_updates"),
                                  drop_pending_updates=_flag(body.get("drop_pending_updates", False)))
        return {"url": found.webhook_url, "allowed_updates": found.allowed_updates}

    def bot_updates(world, query, body, bot):
        with world.lock:
            found = world.bot(bot)
            return {"pending": [dict(u) for u in found.updates], "webhook_url": found.webhook_url,
                    "allowed_updates": found.allowed_updates}

    def create_user(world, query, body):
        return world.create_user(body["first_name"], username=body.get("username"), last_name=body.get("last_name"),
                                 user_id=body.get("id"), language_code=body.get("language_code", "en")).to_dict()

    def create_chat(world, query, body):
        chat = world.create_chat(body["title"], body["owner"], type=body.get("type", "supergroup"),
                                 username=body.get("username"), members=body.get("members", []),
                                 description=body.get("description"), permissions=body.get("permissions"))
        return chat_view(world, chat)

    def get_chat(world, query, body, chat):
        return chat_view(world, world.chat(chat))

    def add_member(world, query, body, chat):
        found = world.chat(chat)
        member = world.add_member(found, body["user"], by=body.get("by"), status=body.get("status", "member"),
                                  rights=body.get("rights"), custom_title=body.get("custom_title"),
                                  is_anonymous=_flag(body.get("is_anonymous", False)))
        return member_view(world, found, member)

    def leave(world, query, body, chat):
        found = world.chat(chat)
        return member_view(world, found, world.remove_member(found, body["user"]))

    def remove(world, query, body, chat):
        found = world.chat(chat)
        member = world.remove_member(found, body["user"], by=body.get("by"), ban=_flag(body.get("ban", False)),
                                     until_date=int(body.get("until_date", 0)))
        return member_view(world, found, member)

    def promote(world, query, body, chat):
        found = world.chat(chat)
        member = world.promote(found, body["user"], by=body.get("by"), rights=body.get("rights"),
                               custom_title=body.get("custom_title"),
                               is_anonymous=_flag(body.get("is_anonymous", False)))
        return member_view(world, found, member)

    def restrict(world, query, body, chat):
        found = world.chat(chat)
        member = world.restrict(found, body["user"], by=body.get("by"), permissions=body.get("permissions"),
                                until_date=int(body.get("until_date", 0)))
        return member_view(world, found, member)

    def permissions(world, query, body, chat):
        return world.set_chat_permissions(chat, body["permissions"])

    def get_member(world, query, body, chat, user):
        with world.lock:
            found = world.chat(chat)
            return member_view(world, found, world.member(found, world.user(user).id))

    def post_message(world, query, body, chat):
        reply_to = body.get("reply_to_message_id")
        anonymous = body.get("anonymous")
        message = world.send_message(chat, body["from"], body["text"],
                                     reply_to=int(reply_to) if reply_to is not None else None,
                                     anonymous=None if anonymous is None else _flag(anonymous),
                                     parse_mode=body.get("parse_mode"))
        with world.lock:
            return world.message_dict(message)

    async def list_messages(world, query, body, chat):
        sender = query.get("sender") or None
        user = query.get("user") or None
        since_id = int(query.get("since_id", 0))

        def fetch():
            with world.lock:
                return [world.message_dict(m) for m in world.messages(chat, since_id=since_id, sender=sender,
                                                                      user=user)]

        return await _wait_until(world, fetch, float(query.get("wait", 0)), int(query.get("count", 1)))

    def edit_message(world, query, body, chat, message_id):
        message = world.edit_message(chat, int(message_id), body["text"], user=body.get("user"))
        with world.lock:
            return world.message_dict(message)

    def delete_message(world, query, body, chat, message_id):
        world.delete_message(chat, int(message_id))
        return True

    def press(world, query, body, chat, message_id):
        return world.press_button(chat, int(message_id), body["user"], body["data"])

    def upgrade(world, query, body, chat):
        return chat_view(world, world.upgrade_group(chat, by=body.get("by")))

    def start_private(world, query, body):
        chat = world.start_bot(body["user"], body.get("bot"))
        with world.lock:
            return chat.short_dict(world)

    def block_private(world, query, body):
        chat = world.block_bot(body["user"], body.get("bot"))
        with world.lock:
            return chat.short_dict(world)

    async def calls(world, query, body):
        since = int(query.get("since", 0))
        exclude = [m for m in query.get("exclude", "").split(",") if m]
        filters = {"method": query.get("method") or None, "exclude": exclude, "bot": query.get("bot") or None}
        found = await _wait_until(world, lambda: world.call_log(since=since, **filters), float(query.get("wait", 0)))
        return {"calls": found, "last_seq": world.call_seq}

    def rate_limits(world, query, body):
        limits = world.set_rate_limits(**{k: body[k] for k in ("enabled", "global_per_second", "group_per_minute",
                                                                "chat_per_second") if k in body})
        return limits.to_dict()

    def get_rate_limits(world, query, body):
        return world.rate_limits.to_dict()

    def add_fault(world, query, body):
        fault = world.fail_next(body["method"], error_code=int(body.get("error_code", 400)),
                                description=body.get("description"), retry_after=body.get("retry_after"),
                                migrate_to_chat_id=body.get("migrate_to_chat_id"), times=int(body.get("times", 1)),
                                chat=body.get("chat"))
        return vars(fault)

    def clear_faults(world, query, body):
        world.clear_faults()
        return True

    def advance(world, query, body):
        return {"now": world.advance_time(float(body["seconds"]))}

    for verb, pattern, handler in [
        ("GET", "/", index),
        ("GET", "/sandbox", index),
        ("GET", "/sandbox/state", index),
        ("POST", "/sandbox/reset", reset),
        ("POST", "/sandbox/seed", seed),
        ("POST", "/sandbox/bots", create_bot),
        ("POST", "/sandbox/bots/{bot}/privacy", bot_privacy),
        ("GET", "/sandbox/bots/{bot}/updates", bot_updates),
        ("POST", "/sandbox/bots/{bot}/webhook", bot_webhook),
        ("POST", "/sandbox/users", create_user),
        ("POST", "/sandbox/chats", create_chat),
        ("GET", "/sandbox/chats/{chat}", get_chat),
        ("POST", "/sandbox/chats/{chat}/members", add_member),
        ("GET", "/sandbox/chats/{chat}/members/{user}", get_member),
        ("POST", "/sandbox/chats/{chat}/leave", leave),
        ("POST", "/sandbox/chats/{chat}/remove", remove),
        ("POST", "/sandbox/chats/{chat}/promote", promote),
        ("POST", "/sandbox/chats/{chat}/restrict", restrict),
        ("POST", "/sandbox/chats/{chat}/permissions", permissions),
        ("POST", "/sandbox/chats/{chat}/messages", post_message),
        ("GET", "/sandbox/chats/{chat}/messages", list_messages),
        ("POST", "/sandbox/chats/{chat}/messages/{message_id}/edit", edit_message),
        ("POST", "/sandbox/chats/{chat}/messages/{message_id}/delete", delete_message),
        ("POST", "/sandbox/chats/{chat}/messages/{message_id}/press", press),
        ("POST", "/sandbox/chats/{chat}/upgrade", upgrade),
        ("POST", "/sandbox/private/start", start_private),
        ("POST", "/sandbox/private/block", block_private),
        ("GET", "/sandbox/calls", calls),
        ("GET", "/sandbox/rate_limits", get_rate_limits),
        ("POST", "/sandbox/rate_limits", rate_limits),
        ("POST", "/sandbox/faults", add_fault),
        ("DELETE", "/sandbox/faults", clear_faults),
        ("POST", "/sandbox/time/advance", advance),
    ]:
        app.route(verb, pattern, _unquoted(handler))


def _unquoted(handler: Handler) -> Handler:
    """Path parameters arrive percent-encoded (``%40spammer``, ``Sandbox%20Group``)."""

    def wrapper(world, *, query, body, **params) -> Any | Awaitable[Any]:
        return handler(world, query, body, **{k: unquote(v) for k, v in params.items()})

    return wrapper


def _seed_args(body: dict[str, Any]) -> dict[str, Any]:
    return {k: body[k] for k in ("token", "bot_username", "bot_name") if k in body}


def create_app(world: World | None = None, *, seed: bool = False, **seed_options: Any) -> SandboxApp:
    """An ASGI app; ``seed=True`` fills the world with the demo group (see :func:`seed_demo`)."""
    app = SandboxApp(world)
    if seed:
        seed_demo(app.world, **seed_options)
    return app
