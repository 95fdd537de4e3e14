"""The sandbox's HTTP face: a plain ASGI app (no framework) serving

* the Bot API: ``GET|POST /bot<token>/<method>`` with JSON, form-urlencoded or multipart bodies
  (PTB 22 posts form fields: strings as they are, other values JSON-encoded; a part with a filename is an
  uploaded file) and query strings, answered with Telegram's envelope and HTTP status codes;
* file downloads: ``GET /file/bot<token>/<file_path>`` (the ``file_path`` getFile answered);
* the control API under ``/sandbox/...`` (JSON in, ``{"ok": true, "result": ...}`` out), used by
  tests, ``botchat`` and the demo runner to play the people in the chats and to inspect what the
  bot did; its endpoints are the table :data:`tgsandbox.control.ROUTES`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any
from urllib.parse import parse_qsl

from .botapi.dispatch import TOKEN_RE, handle
from .content import Upload
from .control import ROUTES
from .errors import SandboxError
from .seed import seed_demo
from .webhook import WebhookDispatcher
from .world import World

BOT_PATH = re.compile(r"^/bot(?P<token>[^/]+)/(?P<method>[A-Za-z]+)/?$")
FILE_PATH = re.compile(r"^/file/bot(?P<token>[^/]+)/(?P<path>.+)$")
MAX_BODY = 50 * 1024 * 1024


class SandboxApp:
    """ASGI application over one :class:`World`."""

    def __init__(self, world: World | None = None):
        self.world = world or World()
        self.dispatcher = WebhookDispatcher(self.world)
        self._dispatcher_task: asyncio.Task | None = None

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
        match = FILE_PATH.match(path)
        if match and scope["method"] in ("GET", "HEAD"):
            await self._download(match["token"], match["path"], send)
            return
        if path == "/" or path.startswith("/sandbox"):
            self._ensure_dispatcher()
            await self._control(scope, body, send)
            return
        await _send_json(send, 404, {"ok": False, "error_code": 404, "description": "Not Found"})

    async def _download(self, token: str, file_path: str, send) -> None:
        """A file as the Bot API's file server sends it: the bytes, or 404 for an unknown token or path."""
        with self.world.lock:
            known = TOKEN_RE.match(token) and token in self.world.bots
            file_id = self.world.files.paths.get(file_path) if known else None
            data = self.world.files.content(file_id) if file_id else None
        if data is None:
            await _send_json(send, 404, {"ok": False, "error_code": 404, "description": "Not Found"})
            return
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/octet-stream"),
                                (b"content-length", str(len(data)).encode())]})
        await send({"type": "http.response.body", "body": data})

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
        for route in ROUTES:
            path_params = route.match(method, path)
            if path_params is None:
                continue
            try:
                result = route.handler(self.world, **route.arguments(path_params, query, payload))
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
                params[name] = Upload(filename, part.get_content_type(), payload)
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


def create_app(world: World | None = None, *, seed: bool = False, **seed_options: Any) -> SandboxApp:
    """An ASGI app; ``seed=True`` fills the world with the demo group (see :func:`seed_demo`)."""
    app = SandboxApp(world)
    if seed:
        seed_demo(app.world, **seed_options)
    return app
