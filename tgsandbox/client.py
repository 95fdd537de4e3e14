"""A small synchronous client for the sandbox's control API (``/sandbox/...``), used by botchat.

Every method mirrors a :class:`~tgsandbox.world.World` method; references to users and chats
may be ids, ``@usernames``, usernames, first names or chat titles. Errors raise
:class:`~tgsandbox.errors.SandboxError`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

from .errors import SandboxError


def _ref(value: Any) -> str:
    return quote(str(value), safe="")


class SandboxClient:
    def __init__(self, url: str, *, timeout: float = 30.0):
        self.url = url.rstrip("/")
        self.http = httpx.Client(base_url=self.url, timeout=timeout, trust_env=False)

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> SandboxClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _call(self, verb: str, path: str, body: dict[str, Any] | None = None,
              params: dict[str, Any] | None = None) -> Any:
        try:
            response = self.http.request(verb, path, json=body, params=params)
        except httpx.HTTPError as exc:
            raise SandboxError(f"the sandbox at {self.url} is not reachable: {exc}", 503) from exc
        try:
            payload = response.json()
        except ValueError:
            raise SandboxError(f"unexpected answer from {self.url}{path}: {response.status_code}", 502) from None
        if not payload.get("ok"):
            raise SandboxError(payload.get("description", "error"), response.status_code)
        return payload["result"]

    @staticmethod
    def _clean(**values: Any) -> dict[str, Any]:
        return {k: v for k, v in values.items() if v is not None}

    # world
    def state(self) -> dict[str, Any]:
        return self._call("GET", "/sandbox/state")

    def reset(self, *, seed: bool = False, **seed_options: Any) -> dict[str, Any]:
        return self._call("POST", "/sandbox/reset", {"seed": seed, **seed_options})

    def seed(self, **seed_options: Any) -> dict[str, Any]:
        return self._call("POST", "/sandbox/seed", seed_options)

    def advance_time(self, seconds: float) -> int:
        return self._call("POST", "/sandbox/time/advance", {"seconds": seconds})["now"]

    # bots, users, chats
    def create_bot(self, token: str, username: str, first_name: str | None = None, **options: Any) -> dict:
        return self._call("POST", "/sandbox/bots", self._clean(token=token, username=username,
                                                                first_name=first_name, **options))

    def set_privacy(self, bot: Any, *, can_read_all_group_messages: bool) -> dict:
        return self._call("POST", f"/sandbox/bots/{_ref(bot)}/privacy",
                          {"can_read_all_group_messages": can_read_all_group_messages})

    def set_webhook(self, url: str, *, bot: Any = None, **options: Any) -> dict:
        return self._call("POST", f"/sandbox/bots/{_ref(bot if bot is not None else self._first_bot())}/webhook",
                          {"url": url, **options})

    def _first_bot(self) -> Any:
        bots = self.state()["bots"]
        if not bots:
            raise SandboxError("no bot registered", 404)
        return bots[0]["id"]

    def pending_updates(self, bot: Any) -> dict:
        return self._call("GET", f"/sandbox/bots/{_ref(bot)}/updates")

    def create_user(self, first_name: str, **options: Any) -> dict:
        return self._call("POST", "/sandbox/users", {"first_name": first_name, **options})

    def create_chat(self, title: str, owner: Any, **options: Any) -> dict:
        return self._call("POST", "/sandbox/chats", {"title": title, "owner": owner, **options})

    def chat(self, chat: Any) -> dict:
        return self._call("GET", f"/sandbox/chats/{_ref(chat)}")

    def member(self, chat: Any, user: Any) -> dict:
        return self._call("GET", f"/sandbox/chats/{_ref(chat)}/members/{_ref(user)}")

    def add_member(self, chat: Any, user: Any, **options: Any) -> dict:
        return self._call("POST", f"/sandbox/chats/{_ref(chat)}/members", {"user": user, **options})

    def leave(self, chat: Any, user: Any) -> dict:
        return self._call("POST", f"/sandbox/chats/{_ref(chat)}/leave", {"user": user})

    def remove(self, chat: Any, user: Any, **options: Any) -> dict:
        return self._call("POST", f"/sandbox/chats/{_ref(chat)}/remove", {"user": user, **options})

    def unban(self, chat: Any, user: Any, **options: Any) -> dict:
        """An admin (``by``, default the owner) lifts ``user``'s ban: they may join again."""
        return self._call("POST", f"/sandbox/chats/{_ref(chat)}/unban", {"user": user, **options})

    def promote(self, chat: Any, user: Any, **options: Any) -> dict:
        return self._call("POST", f"/sandbox/chats/{_ref(chat)}/promote", {"user": user, **options})

    def restrict(self, chat: Any, user: Any, **options: Any) -> dict:
        return self._call("POST", f"/sandbox/chats/{_ref(chat)}/restrict", {"user": user, **options})

    def upgrade_group(self, chat: Any, by: Any = None) -> dict:
        return self._call("POST", f"/sandbox/chats/{_ref(chat)}/upgrade", self._clean(by=by))

    # messages
    def send_message(self, chat: Any, user: Any, text: str | None = None, *, reply_to: int | None = None,
                     anonymous: bool | None = None, parse_mode: str | None = None,
                     entities: list[dict] | None = None, forward_origin: dict | None = None, **content: Any) -> dict:
        """A person's message: ``text``, or content in the Bot API's field names (``photo=True``,
        ``animation={"duration": 2}``, ``sticker=file_id``, ``poll={"question", "options"}``, ``dice={}``,
        ``caption=...``, ``via_bot=``, ``reply_markup=``, ``sender_chat=`` a channel; see World.send_message)."""
        body = self._clean(text=text, reply_to_message_id=reply_to, anonymous=anonymous, parse_mode=parse_mode,
                           entities=entities, forward_origin=forward_origin, **content)
        body["from"] = user
        return self._call("POST", f"/sandbox/chats/{_ref(chat)}/messages", body)

    def messages(self, chat: Any, *, since_id: int = 0, sender: Any = None, user: Any = None, wait: float = 0,
                 count: int = 1) -> list[dict]:
        params = self._clean(since_id=since_id, sender=sender, user=user, wait=wait, count=count)
        return self._call("GET", f"/sandbox/chats/{_ref(chat)}/messages", params=params)

    def edit_message(self, chat: Any, message_id: int, text: str, user: Any = None, *,
                     entities: list[dict] | None = None, parse_mode: str | None = None) -> dict:
        """A person edits their message's text (or a media message's caption): bots get edited_message."""
        return self._call("POST", f"/sandbox/chats/{_ref(chat)}/messages/{message_id}/edit",
                          self._clean(text=text, user=user, entities=entities, parse_mode=parse_mode))

    def delete_message(self, chat: Any, message_id: int) -> bool:
        return self._call("POST", f"/sandbox/chats/{_ref(chat)}/messages/{message_id}/delete")

    def press_button(self, chat: Any, message_id: int, user: Any, data: str) -> dict:
        return self._call("POST", f"/sandbox/chats/{_ref(chat)}/messages/{message_id}/press",
                          {"user": user, "data": data})

    def callback_answer(self, query_id: str, *, wait: float = 0) -> dict:
        """The bot's answerCallbackQuery for a press (``press_button(...)["id"]``): answered, text, show_alert."""
        return self._call("GET", f"/sandbox/callback_queries/{_ref(query_id)}", params={"wait": wait})

    def forward_message(self, chat: Any, user: Any, from_chat: Any, message_id: int) -> dict:
        """``user`` forwards a message (a channel's post, say) into ``chat``; it carries forward_origin."""
        return self._call("POST", f"/sandbox/chats/{_ref(chat)}/forward",
                          {"from": user, "from_chat": from_chat, "message_id": message_id})

    def join_flood(self, chat: Any, count: int, seconds: float = 0, *, prefix: str = "joiner") -> list[dict]:
        """``count`` fresh users join ``chat`` spread over ``seconds``; returns after the last one joined, with
        each ``{"user", "joined_at"}`` (sandbox time, as the call log's ``date``)."""
        timeout = max(self.http.timeout.read or 30.0, seconds + 30.0)
        try:
            response = self.http.post(f"/sandbox/chats/{_ref(chat)}/join_flood", timeout=timeout,
                                      json={"count": count, "seconds": seconds, "prefix": prefix})
        except httpx.HTTPError as exc:
            raise SandboxError(f"the sandbox at {self.url} is not reachable: {exc}", 503) from exc
        payload = response.json()
        if not payload.get("ok"):
            raise SandboxError(payload.get("description", "error"), response.status_code)
        return payload["result"]

    def start_bot(self, user: Any, bot: Any = None) -> dict:
        return self._call("POST", "/sandbox/private/start", self._clean(user=user, bot=bot))

    def block_bot(self, user: Any, bot: Any = None) -> dict:
        return self._call("POST", "/sandbox/private/block", self._clean(user=user, bot=bot))

    def file(self, file_id: str) -> dict:
        """A file and its bytes (``text`` when a bot uploaded UTF-8, ``content_base64``, ``file_name``,
        ``mime_type``, ``file_size``, ``uploaded``)."""
        return self._call("GET", f"/sandbox/files/{_ref(file_id)}")

    def document_text(self, message: dict) -> str:
        """The text of the file a bot sent as a document (a message from :meth:`messages`)."""
        document = message.get("document")
        if not document:
            raise SandboxError(f"message {message.get('message_id')} carries no document", 404)
        text = self.file(document["file_id"])["text"]
        if text is None:
            raise SandboxError(f"the document {document.get('file_name')} is not an uploaded text file", 404)
        return text

    # what the bot did, and knobs
    def calls(self, *, since: int = 0, method: str | None = None, exclude: tuple[str, ...] | list[str] = (),
              bot: Any = None, wait: float = 0) -> dict:
        params = self._clean(since=since, method=method, exclude=",".join(exclude) or None, bot=bot, wait=wait)
        return self._call("GET", "/sandbox/calls", params=params)

    def set_rate_limits(self, **limits: Any) -> dict:
        return self._call("POST", "/sandbox/rate_limits", limits)

    def fail_next(self, method: str, **options: Any) -> dict:
        return self._call("POST", "/sandbox/faults", {"method": method, **options})

    def clear_faults(self) -> bool:
        return self._call("DELETE", "/sandbox/faults")
