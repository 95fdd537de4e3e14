"""Running the sandbox: ``serve()`` in the foreground, ``SandboxServer`` in a background thread.

Environment (all optional): ``SANDBOX_HOST`` (127.0.0.1), ``SANDBOX_PORT`` (8081),
``SANDBOX_SEED`` (1: create the demo world, 0: start empty), ``SANDBOX_RATE_LIMITS`` (1: Telegram's
flood limits on, 0: off), ``SANDBOX_BOT_TOKEN`` and ``SANDBOX_BOT_USERNAME`` (the demo bot), and
``SANDBOX_WEBHOOK_URL`` / ``SANDBOX_WEBHOOK_SECRET`` / ``SANDBOX_WEBHOOK_ALLOWED_UPDATES`` (comma
separated): register the demo bot's webhook at start, as if the bot had called setWebhook (for a bot
that runs in webhook mode and does not register itself).
"""

from __future__ import annotations

import argparse
import os
import threading
import time
from typing import Any

import uvicorn

from .api import SandboxApp, create_app
from .world import World

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8081


def _env_flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def serve(host: str | None = None, port: int | None = None, *, seed: bool | None = None,
          rate_limits: bool | None = None, world: World | None = None, log_level: str = "info",
          webhook: str | None = None, **seed_options: Any) -> None:
    """Serve the sandbox in the foreground until interrupted (Ctrl-C / SIGTERM)."""
    host = host or os.environ.get("SANDBOX_HOST") or DEFAULT_HOST
    port = port if port is not None else int(os.environ.get("SANDBOX_PORT") or DEFAULT_PORT)
    seed = _env_flag("SANDBOX_SEED", True) if seed is None else seed
    app = create_app(world, seed=seed, **seed_options)
    app.world.set_rate_limits(enabled=_env_flag("SANDBOX_RATE_LIMITS", True) if rate_limits is None else rate_limits)
    webhook_url = os.environ.get("SANDBOX_WEBHOOK_URL") if webhook is None else webhook
    if webhook_url and seed:
        allowed = os.environ.get("SANDBOX_WEBHOOK_ALLOWED_UPDATES", "")
        app.world.set_webhook(webhook_url, secret_token=os.environ.get("SANDBOX_WEBHOOK_SECRET") or None,
                              allowed_updates=[a.strip() for a in allowed.split(",") if a.strip()] or None)
    uvicorn.run(app, host=host, port=port, log_level=log_level, lifespan="on")


class SandboxServer:
    """The sandbox on a free loopback port in a daemon thread, for tests and in-process use.

    >>> with SandboxServer(seed=True) as sandbox:
    ...     bot = telegram.Bot(token, base_url=sandbox.bot_base_url)
    """

    def __init__(self, world: World | None = None, *, host: str = DEFAULT_HOST, port: int = 0,
                 seed: bool = False, log_level: str = "warning", **seed_options: Any):
        self.app: SandboxApp = create_app(world, seed=seed, **seed_options)
        self.world = self.app.world
        self.host, self.port = host, port
        self.log_level = log_level
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def bot_base_url(self) -> str:
        """What to pass as ``base_url`` to ``telegram.Bot`` / ``ApplicationBuilder().base_url()``."""
        return f"{self.url}/bot"

    def start(self, timeout: float = 10.0) -> SandboxServer:
        # uvicorn binds the port itself (port 0 = any free one): sockets handed over by the caller
        # miss TCP_NODELAY and every response then waits ~40 ms for a delayed ACK.
        config = uvicorn.Config(self.app, host=self.host, port=self.port, log_level=self.log_level,
                                lifespan="on", access_log=False)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="tgsandbox", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the Telegram sandbox did not start")
            time.sleep(0.01)
        self.port = self._server.servers[0].sockets[0].getsockname()[1]
        return self

    def stop(self, timeout: float = 10.0) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
        self._server = self._thread = None

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tgsandbox",
                                     description="A local emulation of the Telegram Bot API.")
    parser.add_argument("--host", default=None, help=f"interface (default $SANDBOX_HOST or {DEFAULT_HOST})")
    parser.add_argument("--port", type=int, default=None, help=f"port (default $SANDBOX_PORT or {DEFAULT_PORT})")
    parser.add_argument("--empty", action="store_true", help="start without the demo world ($SANDBOX_SEED=0)")
    parser.add_argument("--no-rate-limits", action="store_true", help="disable flood limits ($SANDBOX_RATE_LIMITS=0)")
    parser.add_argument("--token", default=None, help="demo bot token ($SANDBOX_BOT_TOKEN)")
    parser.add_argument("--bot-username", default=None, help="demo bot username ($SANDBOX_BOT_USERNAME)")
    parser.add_argument("--webhook", default=None, help="register this webhook URL for the demo bot "
                                                         "($SANDBOX_WEBHOOK_URL; secret: $SANDBOX_WEBHOOK_SECRET)")
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args(argv)
    seed_options = {k: v for k, v in (("token", args.token), ("bot_username", args.bot_username)) if v}
    serve(args.host, args.port, seed=False if args.empty else None,
          rate_limits=False if args.no_rate_limits else None, log_level=args.log_level, webhook=args.webhook,
          **seed_options)
