"""A local emulation of the Telegram Bot API for developing and testing the bot role without Telegram.

Layout:

* :mod:`.state` -- the in-memory world (bots, users, chats, members, messages, update queues, call
  log, rate limits, fault injection) and the control operations that play the people in it;
* :mod:`.botapi` -- the Bot API methods with Telegram's rules, result shapes and error texts;
* :mod:`.entities` -- message text: UTF-16 entity offsets, HTML/MarkdownV2/Markdown, auto-detection;
* :mod:`.api` -- the ASGI app: ``/bot<token>/<method>`` and the ``/sandbox/...`` control API;
* :mod:`.webhook` -- webhook delivery with the secret header and retries;
* :mod:`.server` -- ``serve()`` / ``python -m tgsandbox`` and ``SandboxServer`` (background thread);
* :mod:`.seed` -- the demo world; :mod:`.client` -- HTTP client of the control API;
* :mod:`.botchat` -- the terminal chat (``run_botchat``).

It imports nothing from Django and needs only the standard library, uvicorn and httpx.
"""

from .errors import BotApiError, SandboxError
from .world import World

__all__ = ["BotApiError", "SandboxError", "World"]
