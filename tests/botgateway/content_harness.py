"""The bot's real application, in the test process, against the Telegram sandbox (in process) and core (a live
server with the bot's key): a group whose rules are set through core's services, members posting in it through the
sandbox, their messages handed to the bot by either path (the webhook, whose plain-message shortcut takes plain text
in a known group; the application's handlers, as polling does), and the background acts awaited to their end."""

from __future__ import annotations

import asyncio
import json
from types import SimpleNamespace

import pytest
from django.test import override_settings
from telegram import Update

from apps.botgateway import runtime
from apps.botgateway.application import build_application
from apps.botgateway.outbox import EventShipper, Outbox
from apps.botgateway.webhook import handle_webhook
from apps.contentrules.services import blocklist_add, locks_update
from apps.coreclient import AsyncCoreClient
from apps.groups.models import Group, Membership
from apps.groups.services import membership_set
from apps.protection.services import protection_update
from tests.factories import grant, make_group, make_user
from tgsandbox.seed import DEFAULT_BOT_TOKEN, seed_demo
from tgsandbox.server import SandboxServer

SECRET = "content-secret"
PEOPLE = {"alice": 2000001, "bob_mod": 2000002, "carol": 2000003, "dave": 2000004, "spammer": 2000005}


class Counting:
    """The real async core client, counting the calls made through it."""

    def __init__(self, core):
        self.core = core
        self.calls: list[str] = []

    def __getattr__(self, name):
        method = getattr(self.core, name)
        if not callable(method) or name.startswith("_"):
            return method

        async def counted(*args, **kwargs):
            self.calls.append(name)
            return await method(*args, **kwargs)

        return counted


def core_group(world, *, locks=None, blocklist=None, warn_limit=None, **protection):
    """Core's group for the sandbox's "Sandbox Group" (alice its owner, bob_mod an admin, the others members),
    with its rules."""
    chat = world.chat("Sandbox Group")
    group = make_group(telegram_chat_id=chat.id, title=chat.title)
    for login, telegram_id in PEOPLE.items():
        user = make_user(username=login, telegram_user_id=telegram_id, display_name=login)
        role = {"alice": "owner", "bob_mod": "admin"}.get(login)
        membership_set(group=group, user=user, status=Membership.Status.MEMBER, is_admin=role is not None)
        if role:
            grant(user, role, group)
    if locks:
        locks_update(group=group, locks=locks)
    if blocklist:
        blocklist_add(group=group, entries=blocklist)
    if warn_limit is not None:
        Group.objects.filter(pk=group.pk).update(warn_limit=warn_limit[0], warn_action=warn_limit[1])
    if protection:
        protection_update(group=group, changes=protection)
    return chat, group


class Bot:
    """The bot's application wired as post_init wires it (the core client, the shipper, the automation), without
    its pollers."""

    def __init__(self, sandbox, live_server, tmp_path, *, shortcut: bool = True):
        self.sandbox, self.live_server, self.tmp_path = sandbox, live_server, tmp_path
        self.settings = override_settings(TELEGRAM_BOT_TOKEN=DEFAULT_BOT_TOKEN,
                                          TELEGRAM_API_BASE_URL=f"{sandbox.url}/bot",
                                          TELEGRAM_WEBHOOK_SECRET=SECRET,
                                          BOT_WEBHOOK_PLAIN_MESSAGE_SHORTCUT=shortcut)

    async def __aenter__(self):
        self.settings.enable()
        self.application = application = build_application(with_updater=False)
        data = self.data = application.bot_data
        data.core = Counting(AsyncCoreClient(self.live_server.url, "bot-key", timeout=10))
        data.flood.application = application
        data.flood.core = data.core
        data.shipper = EventShipper(Outbox(self.tmp_path / f"outbox-{id(self)}.sqlite3"), data.core)
        await application.initialize()
        data.shipper.start()
        self.previous, runtime._application = runtime._application, application
        return self

    async def __aexit__(self, *exc):
        runtime._application = self.previous
        await self.settle()
        await self.data.shipper.stop()
        self.data.shipper.outbox.close()
        await self.application.shutdown()
        await self.data.core.core.aclose()
        self.settings.disable()

    @property
    def core_calls(self) -> list[str]:
        return self.data.core.calls

    async def know(self, chat_id: int, group_id) -> None:
        """The chat is known and its settings cached, as after its first messages."""
        self.data.groups[chat_id] = str(group_id)
        await self.data.protection.load(self.data.core, chat_id)

    async def settle(self) -> None:
        """Every act (and reply) started so far, awaited to its end."""
        tasks = self.data.flood.tasks
        async with asyncio.timeout(60):  # tasks that keep starting tasks fail the test instead of hanging it
            while tasks:
                await asyncio.gather(*list(tasks), return_exceptions=True)

    async def webhook(self, payload: dict) -> dict:
        """The update POSTed to the bot's webhook, as Telegram does; its answer."""
        body = json.dumps(payload).encode()
        scope = {"type": "http", "method": "POST", "path": "/telegram/webhook",
                 "headers": [(b"x-telegram-bot-api-secret-token", SECRET.encode()),
                             (b"content-length", str(len(body)).encode())]}
        sent = []

        async def receive():
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message):
            sent.append(message)

        await handle_webhook(scope, receive, send)
        assert sent[0]["status"] == 200, sent
        # A queued update is handled by the application's processing loop in the bot; here, by hand.
        while not self.application.update_queue.empty():
            await self.application.process_update(self.application.update_queue.get_nowait())
        return json.loads(sent[1]["body"])

    async def handle(self, payload: dict) -> None:
        """The update handled by the application's handlers (what polling does with it)."""
        await self.application.process_update(Update.de_json(payload, self.application.bot))


def update_of(world, message, *, update_id: int, edited: bool = False) -> dict:
    return {"update_id": update_id, "edited_message" if edited else "message": world.message_dict(message)}


def seeded(sandbox):
    sandbox.world.reset()
    seed_demo(sandbox.world, history=False)
    return sandbox.world


def sandbox_fixtures(*, prepare=None):
    """A test module's `sandbox` (one Telegram sandbox for the module) and `world` (the sandbox's world seeded afresh
    for each test, then `prepare(world)` if given; reset after it) fixtures: `sandbox, world = sandbox_fixtures()`
    at the module's top level."""

    @pytest.fixture(scope="module")
    def sandbox():
        server = SandboxServer().start()
        yield server
        server.stop()

    @pytest.fixture
    def world(sandbox):
        world = seeded(sandbox)
        if prepare is not None:
            prepare(world)
        yield world
        world.reset()

    return sandbox, world


def newcomer(world, group, login: str, *, first_name: str = "Newcomer"):
    """A new person in the sandbox's group and a member in core."""
    user = world.create_user(first_name, username=login)
    world.add_member(world.chat(group.telegram_chat_id), user)
    PEOPLE[login] = user.id
    membership_set(group=group, user=make_user(username=login, telegram_user_id=user.id, display_name=first_name))
    return user


def present(world, chat, message_id: int) -> bool:
    return message_id in world.chat(chat.id).messages


def status(world, chat, login: str) -> SimpleNamespace:
    member = world.member(world.chat(chat.id), PEOPLE[login])
    return SimpleNamespace(status=member.status, until_date=member.until_date)


def bot_texts(world, chat) -> list[str]:
    bot_id = world.bot().id
    return [message.text or "" for message in world.chat(chat.id).messages.values() if message.from_id == bot_id]
