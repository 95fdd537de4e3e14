"""A local emulation of the Telegram Bot API for developing and testing the bot role without Telegram.

Layout:

* :mod:`.world` -- the in-memory world (:class:`World`), split by concern: ``model`` (users, bots,
  chats, members, messages; rights and permissions), ``core`` (the lock, clock, lookups, bots and
  users), ``membership`` (chats and who is in them), ``messages`` (what people write and the updates
  bots receive), ``views`` (Bot API shapes), ``instruments`` (call log, faults, flood limits), ``notifier``;
* :mod:`.botapi` -- the Bot API methods with Telegram's rules, result shapes and error texts:
  ``dispatch`` (the method table and ``handle()``), ``params``, ``checks``, and one module per family
  (``identity``, ``updates``, ``messages``, ``chats``, ``moderation``, ``callbacks``);
* :mod:`.entities` -- UTF-16 entity offsets, auto-detection, trimming; :mod:`.markup` -- HTML/MarkdownV2/
  Markdown parse modes and ``render_text``;
* :mod:`.api` -- the ASGI app: ``/bot<token>/<method>`` and the ``/sandbox/...`` control API, whose
  endpoints are the table in :mod:`.control`;
* :mod:`.webhook` -- webhook delivery with the secret header and retries;
* :mod:`.server` -- ``serve()`` / ``python -m tgsandbox`` and ``SandboxServer`` (background thread);
* :mod:`.seed` -- the demo world; :mod:`.client` -- HTTP client of the control API;
* :mod:`.botchat` -- the terminal chat (``python -m tgsandbox.botchat``, ``run_botchat``).

It imports nothing from Django and needs only the standard library, uvicorn and httpx.
"""

from .errors import BotApiError, SandboxError
from .world import World

__all__ = ["BotApiError", "SandboxError", "World"]
