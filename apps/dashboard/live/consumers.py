"""The WebSocket at /ws/live: what happens on the platform, pushed to an open dashboard page.

Authentication: the access-token cookie the pages set at login (DASHBOARD_ACCESS_COOKIE), or, for clients
without cookies, a first message {"type": "auth", "token": "<access JWT>"} within 5 s. A missing, bad or
expired token closes the socket with 4401, and so does the token's expiry later on (the page renews its
sign-in and resumes). Core is asked once, on connect, whether the user may see audit events (VIEW_AUDIT) and
stats (VIEW_STATS); neither closes it with 4403.

To the client:  {"type": "hello", "latest_sequence": N, "audit": bool, "stats": bool}
                {"type": "audit", "event": {...core's audit event...}, "html": "<li>...</li>" (the overview's row)}
                {"type": "stats", "stats": {...core's system stats...}}
                {"type": "error", "code": "...", "message": "..."}      (a bad message; the socket stays open)
From the client: {"type": "resume", "after": N}  the events after N that it missed, in order, before live ones
                                                  (at most 6 a minute)
                 {"type": "ping"}                 answered with {"type": "pong"}

A connection never gets an event twice: whatever is sent is remembered by sequence (resume and the live group
can overlap, and a change of feed leader can republish a few events).
"""

import asyncio
import json
import logging
import time
from collections import OrderedDict, deque
from datetime import timedelta

from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.http import parse_cookie

from apps.coreclient import CoreError, CoreUnavailable
from apps.dashboard.core import async_core
from apps.dashboard.errors import TokenRejected, TokenRevoked
from apps.dashboard.services import VIEW_AUDIT, VIEW_STATS
from apps.dashboard.tokens import access_token_user_async, family_check_seconds

from .feed import PAGE_SIZE, is_published, live_feed
from .hub import live_hub
from .metrics import MESSAGES_SENT, OPEN_CONNECTIONS
from .rows import feed_item_html

logger = logging.getLogger(__name__)

AUTH_TIMEOUT_SECONDS = 5.0
RESUME_MAX_EVENTS = 5000  # read from core per resume; past that the page should reload
REMEMBERED_SEQUENCES = 8192
OUTBOX_SIZE = 1000  # feed messages (batches) waiting for a slow client before it is dropped
MAX_MESSAGE_BYTES = 8192
RESUMES_PER_MINUTE = 6
CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_TRY_AGAIN_LATER = 1013
CLOSE_TOO_SLOW = 4408


def access_cookie_name() -> str:
    return getattr(settings, "DASHBOARD_ACCESS_COOKIE", "dashboard_access")


class _Encoded:
    """Each event serialized once per process, however many connections send it."""

    def __init__(self, size: int = 4096):
        self.size = size
        self._texts: OrderedDict[int, str] = OrderedDict()

    def audit(self, event: dict) -> str:
        sequence = event["sequence"]
        text = self._texts.get(sequence)
        if text is None:
            text = json.dumps({"type": "audit", "event": event, "html": feed_item_html(event)})
            self._texts[sequence] = text
            if len(self._texts) > self.size:
                self._texts.popitem(last=False)
        return text


_encoded = _Encoded()


class LiveConsumer(AsyncJsonWebsocketConsumer):
    # Events reach a connection through its process's hub (hub.py), not through a channel of its own.
    channel_layer_alias = None

    async def connect(self):
        self.user = None
        self.audit = self.stats = False
        self._closed = False
        self._hub = None
        self._sent: set[int] = set()
        self._sent_order: deque[int] = deque()
        self._floor: int | None = None  # events up to this sequence are not sent (see _authenticate)
        self._auth_timer: asyncio.Task | None = None
        self._expiry_timer: asyncio.Task | None = None
        self._resume_times: deque[float] = deque()
        self._outbox: asyncio.Queue = asyncio.Queue(maxsize=OUTBOX_SIZE)
        self._sender: asyncio.Task | None = None
        self._resumed = asyncio.Event()
        self._resumed.set()
        await self.accept()
        OPEN_CONNECTIONS.inc()
        self._counted = True
        token = self._cookie_token()
        if token:
            await self._authenticate(token)
        elif self._from_a_browser():  # a page without the cookie: its sign-in has lapsed, no message will come
            await self._refuse(CLOSE_UNAUTHENTICATED, "not_authenticated", "Not signed in (no access cookie)")
        else:
            self._auth_timer = asyncio.get_running_loop().create_task(self._auth_deadline())

    async def disconnect(self, code):
        for timer in (self._auth_timer, self._expiry_timer):
            if timer is not None:
                timer.cancel()
        if self._hub is not None:
            self._hub.unsubscribe(self)
            self._hub = None
        if self._sender is not None:
            self._sender.cancel()
        if getattr(self, "_counted", False):
            self._counted = False
            OPEN_CONNECTIONS.dec()

    async def dispatch(self, message):
        # Channels closes stale database connections in a thread before every message; web has no database,
        # and that thread hop per message per connection is what a burst to a thousand pages would wait on.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    # -- authentication

    def _cookie_token(self) -> str | None:
        for name, value in self.scope.get("headers", []):
            if name == b"cookie":
                return parse_cookie(value.decode("latin-1")).get(access_cookie_name()) or None
        return None

    def _from_a_browser(self) -> bool:
        return any(name == b"origin" for name, _ in self.scope.get("headers", []))

    async def _auth_deadline(self):
        await asyncio.sleep(AUTH_TIMEOUT_SECONDS)
        if self.user is None:
            await self._refuse(CLOSE_UNAUTHENTICATED, "not_authenticated",
                               "Send the access token first: {\"type\": \"auth\", \"token\": \"...\"}")

    async def _expire(self, seconds: float, raw: str):
        """Closes the socket when its token expires, or once its login session is revoked: asked again every
        JWT_FAMILY_CHECK_SECONDS, as the session's requests are."""
        deadline = time.monotonic() + max(0.0, seconds)
        while (remaining := deadline - time.monotonic()) > 0:
            await asyncio.sleep(min(remaining, family_check_seconds()))
            if deadline - time.monotonic() <= 0:
                break
            try:
                await access_token_user_async(raw)
            except TokenRevoked as exc:
                await self._refuse(CLOSE_UNAUTHENTICATED, exc.code, exc.message)
                return
            except (TokenRejected, CoreUnavailable, CoreError):
                continue  # the expiry is this loop's own; core unreachable: ask again next round
        await self._refuse(CLOSE_UNAUTHENTICATED, "token_expired", "The access token has expired; sign in again")

    async def _refuse(self, close_code: int, code: str, message: str):
        await self._error(code, message)
        self._closed = True
        await self.close(close_code)

    async def _authenticate(self, raw) -> None:
        if self._auth_timer is not None:
            self._auth_timer.cancel()
            self._auth_timer = None
        try:
            user = await access_token_user_async(raw)
        except TokenRejected as exc:
            await self._refuse(CLOSE_UNAUTHENTICATED, exc.code, exc.message)
            return
        except CoreUnavailable:  # asking whether the token's session was revoked
            await self._refuse(CLOSE_TRY_AGAIN_LATER, "core_unavailable", "Core cannot be reached; try again")
            return
        checks = [{"user_id": user.id, "permission": VIEW_AUDIT}, {"user_id": user.id, "permission": VIEW_STATS}]
        try:
            audit, stats = await async_core().check_permissions(checks)
        except CoreUnavailable:
            await self._refuse(CLOSE_TRY_AGAIN_LATER, "core_unavailable", "Core cannot be reached; try again")
            return
        except CoreError as exc:
            logger.warning("live: permission check refused", extra={"user_id": user.id, "error": exc.code})
            await self._refuse(CLOSE_FORBIDDEN, exc.code, exc.message or "Core refused the permission check")
            return
        if not (audit.allowed or stats.allowed):
            await self._refuse(CLOSE_FORBIDDEN, "permission_denied",
                               f"You need the {VIEW_AUDIT} or {VIEW_STATS} permission for live updates")
            return
        self.user, self.audit, self.stats = user, audit.allowed, stats.allowed
        feed = live_feed()
        feed.start()
        self._hub = live_hub()
        await self._hub.subscribe(self)  # before reading the position: nothing above it can be missed
        latest = await feed.latest_sequence()
        self._floor = latest  # what happened up to here is on the page already (a resume lowers it)
        await self._send({"type": "hello", "latest_sequence": latest, "audit": self.audit, "stats": self.stats},
                         "hello")
        loop = asyncio.get_running_loop()
        self._sender = loop.create_task(self._send_live())
        # A socket lives no longer than its token (with the same leeway the check allows): logging out, or losing
        # access, reaches open pages within an access token's lifetime. The page renews its sign-in and resumes.
        leeway = settings.SIMPLE_JWT.get("LEEWAY", 0)
        leeway = leeway.total_seconds() if isinstance(leeway, timedelta) else float(leeway)
        expires = float(user.token["exp"]) + leeway
        self._expiry_timer = loop.create_task(self._expire(expires - time.time(), raw))

    # -- from the client

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        if text_data is None:
            await self._error("bad_message", "Send JSON text frames, not binary ones")
            return
        if len(text_data) > MAX_MESSAGE_BYTES:
            await self._error("bad_message", f"Messages are at most {MAX_MESSAGE_BYTES} bytes")
            return
        try:
            content = json.loads(text_data)
        except ValueError:
            await self._error("bad_message", "The message is not JSON")
            return
        if not isinstance(content, dict) or not isinstance(content.get("type"), str):
            await self._error("bad_message", "A message is a JSON object with a string \"type\"")
            return
        await self.receive_json(content)

    async def receive_json(self, content, **kwargs):
        kind = content["type"]
        if kind == "auth":
            if self.user is not None:
                await self._error("already_authenticated", "This connection is already authenticated")
            else:
                await self._authenticate(content.get("token"))
        elif self.user is None:
            await self._refuse(CLOSE_UNAUTHENTICATED, "not_authenticated",
                               "The first message must be {\"type\": \"auth\", \"token\": \"...\"}")
        elif kind == "resume":
            after = content.get("after")
            if isinstance(after, bool) or not isinstance(after, int) or after < 0:
                await self._error("bad_message", "resume needs \"after\": a sequence number (an integer >= 0)")
            elif not self.audit:
                await self._error("permission_denied", f"You need the {VIEW_AUDIT} permission for audit events")
            elif not self._resume_allowed():
                await self._error("rate_limited", f"At most {RESUMES_PER_MINUTE} resumes a minute")
            else:
                await self._resume(after)
        elif kind == "ping":
            await self._send({"type": "pong"}, "pong")
        else:
            await self._error("unknown_type", f"Unknown message type {kind[:40]!r} (auth, resume, ping)")

    def _resume_allowed(self) -> bool:
        now = time.monotonic()
        while self._resume_times and now - self._resume_times[0] > 60:
            self._resume_times.popleft()
        if len(self._resume_times) >= RESUMES_PER_MINUTE:
            return False
        self._resume_times.append(now)
        return True

    async def _resume(self, after: int) -> None:
        """Sends what happened after `after`, oldest first. Live events that arrive meanwhile wait in the
        outbox and are sent after, minus repeats."""
        if self._floor is not None:
            self._floor = min(self._floor, after)
        self._resumed.clear()
        try:
            await self._catch_up(after)
        finally:
            self._resumed.set()

    async def _catch_up(self, after: int) -> None:
        client = async_core()
        read = 0
        while True:
            try:
                page = await client.audit_feed(after=after, limit=PAGE_SIZE)
            except (CoreUnavailable, CoreError):
                await self._error("core_unavailable", "Core cannot be reached; missed events could not be sent")
                return
            items = page["items"]
            for event in items:
                if is_published(event):
                    await self._send_event(event)
            read += len(items)
            if len(items) < PAGE_SIZE:
                return
            after = items[-1]["sequence"]
            if read >= RESUME_MAX_EVENTS:
                await self._error("resume_incomplete",
                                  f"More than {RESUME_MAX_EVENTS} events were missed; reload the page")
                return

    # -- from the feed, through the hub

    def offer(self, message: dict) -> None:
        """Called by the hub for every feed message; never blocks the hub."""
        try:
            self._outbox.put_nowait(message)
        except asyncio.QueueFull:
            logger.warning("live: a client fell too far behind; closing", extra={"user_id": self.user.id})
            self._hub.unsubscribe(self)
            asyncio.get_running_loop().create_task(self._refuse(
                CLOSE_TOO_SLOW, "too_slow", "The connection fell too far behind; reconnect and resume"))

    async def _send_live(self) -> None:
        while True:
            message = await self._outbox.get()
            await self._resumed.wait()
            if message["type"] == "live.audit" and self.audit:
                for event in message["events"]:
                    await self._send_event(event)
            elif message["type"] == "live.stats" and self.stats:
                await self._send({"type": "stats", "stats": message["stats"]}, "stats")

    # -- sending

    async def _send_event(self, event: dict) -> None:
        sequence = event["sequence"]
        if sequence in self._sent or self._closed or (self._floor is not None and sequence <= self._floor):
            return
        self._sent.add(sequence)
        self._sent_order.append(sequence)
        if len(self._sent_order) > REMEMBERED_SEQUENCES:
            self._sent.discard(self._sent_order.popleft())
        await self.send(text_data=_encoded.audit(event))
        MESSAGES_SENT.labels(type="audit").inc()

    async def _send(self, content: dict, kind: str) -> None:
        if self._closed:
            return
        await self.send(text_data=json.dumps(content))
        MESSAGES_SENT.labels(type=kind).inc()

    async def _error(self, code: str, message: str) -> None:
        await self._send({"type": "error", "code": code, "message": message}, "error")


class NoRouteConsumer(AsyncJsonWebsocketConsumer):
    """Any other WebSocket path: closed with 4404 instead of an ASGI error."""

    async def connect(self):
        await self.close(4404)
