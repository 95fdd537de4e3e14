import contextlib
import itertools
import sqlite3
import time

import httpx
import pytest

from apps.coreclient import CoreClient
from tests.observability.scrape import Scrape
from tgsandbox.client import SandboxClient

from .processes import (
    TEST_KEY,
    WEBHOOK_SECRET,
    bot_process,
    core_process,
    free_port,
    polling_bot_process,
    sandbox_process,
)

BOT = "@sandbox_mod_bot"
ALLOWED_UPDATES = ["message", "edited_message", "chat_member", "my_chat_member", "callback_query"]
_names = itertools.count(1)


class Platform:
    """Core, the sandbox and the bot as real processes, and the handles a test drives them with. The bot takes its
    updates by webhook here; PollingPlatform runs the same bot with long polling."""

    mode = "webhook"

    def __init__(self, tmp):
        self.tmp = tmp
        self.core_port, self.sandbox_port, self.bot_port = free_port(), free_port(), free_port()
        self.core = core_process(tmp, self.core_port)
        self.sandbox = sandbox_process(tmp, self.sandbox_port)
        self.bot = bot_process(tmp, self.bot_port, self.core_port, self.sandbox_port)

    def start(self):
        self.core.start()
        self.sandbox.start()
        self.bot.start()
        self.telegram = SandboxClient(f"http://127.0.0.1:{self.sandbox_port}", timeout=10)
        self.api = CoreClient(f"http://127.0.0.1:{self.core_port}", TEST_KEY, timeout=5)
        self.point_webhook()
        return self

    def point_webhook(self):
        self.telegram.set_webhook(f"http://127.0.0.1:{self.bot_port}/telegram/webhook",
                                  secret_token=WEBHOOK_SECRET, allowed_updates=ALLOWED_UPDATES)

    def stop(self):
        for process in (self.bot, self.sandbox, self.core):
            process.stop()

    # -- driving

    def new_group(self, *, bot_rights: dict | None = None, members=("carol", "dave", "spammer"),
                  admins=("bob_mod",), type="supergroup") -> dict:
        """A fresh group owned by alice, with the bot added as an admin (or a member with bot_rights={})."""
        number = next(_names)
        chat = self.telegram.create_chat(f"E2E group {number}", "alice", type=type,
                                         members=[*members, *admins])
        for admin in admins:
            self.telegram.promote(chat["id"], admin, rights={"can_restrict_members": True,
                                                             "can_delete_messages": True})
        rights = {"can_restrict_members": True, "can_delete_messages": True, "can_pin_messages": True,
                  "can_promote_members": True, "can_invite_users": True, "can_manage_chat": True}
        if bot_rights is not None:
            rights = bot_rights
        status = "administrator" if rights else "member"
        self.telegram.add_member(chat["id"], BOT, by="alice", status=status, rights=rights or None)
        self.wait_for(lambda: self._core_group(chat["id"]) is not None, "core to register the group")
        return chat

    def reload_settings(self, change):
        """Runs `change` (a call that changes a group's protection settings in core, as the dashboard does) and
        returns its answer once the bot holds the new settings. The bot's cache reloads a chat whose version its poll
        finds changed, every BOT_PROTECTION_REFRESH_SECONDS, or loads it on the chat's first message. Core counts its
        answer to that read before the answer reaches the cache, so a count alone says too little on a loaded
        machine; the poll's next versions call does say it: the poller asks for versions only after storing the
        settings it reloaded."""
        reads = self.core_requests("api/protection/settings")
        answer = change()
        self.wait_for(lambda: self.core_requests("api/protection/settings") > reads, "the bot to read the new settings",
                      timeout=30)
        polls = self.core_requests("api/protection/versions")
        self.wait_for(lambda: self.core_requests("api/protection/versions") > polls,
                      "the bot's next poll, after it stored the new settings", timeout=30)
        return answer

    def core_requests(self, route: str) -> float:
        """How many requests to `route` (its URL pattern) core has answered 200."""
        text = httpx.get(f"http://127.0.0.1:{self.core_port}/metrics", timeout=5).text
        return Scrape(text).value("api_requests_total", endpoint=route, status="200")

    def _core_group(self, chat_id):
        from apps.coreclient import CoreError

        try:
            return self.api.group_by_chat(chat_id)
        except CoreError:
            return None

    def say(self, chat_id, user, text, *, reply_to=None, anonymous=None, wait=10.0) -> tuple[dict, list[str]]:
        """Sends a message as `user`; returns it and the bot's text replies (service messages left out).

        Returns at the first reply, or as soon as the bot is done with the message without one (see `settled`):
        a message the bot does not answer costs no fixed wait. `wait` bounds the time either way: generous, since
        it costs nothing when the bot answers, and CI's two shared CPUs have made a reply take several seconds."""
        message = self.telegram.send_message(chat_id, user, text, reply_to=reply_to, anonymous=anonymous)
        deadline = time.monotonic() + wait

        def replies(wait: float) -> list[str]:
            found = self.telegram.messages(chat_id, since_id=message["message_id"], sender=BOT, wait=wait, count=1)
            return [reply["text"] for reply in found if "text" in reply]

        while True:
            remaining = deadline - time.monotonic()
            texts = replies(max(0.0, min(remaining, 0.2)))
            if texts or remaining <= 0:
                return message, texts
            if self.settled():  # done with it: any reply is in the sandbox already, read after this check
                return message, replies(0)

    def settled(self) -> bool:
        """Whether the bot is done with everything sent so far: the sandbox holds no update for it (Telegram drops
        an update once the webhook acknowledged it), and the bot's outbox file has every stored update marked
        handled (after its handlers ran, replies sent) and no event left to ship to core."""
        if self.telegram.pending_updates(BOT)["pending"]:
            return False
        try:
            with contextlib.closing(sqlite3.connect(f"file:{self.tmp / 'bot-outbox.sqlite3'}?mode=ro", uri=True,
                                                    timeout=1)) as outbox:
                unhandled, unshipped = outbox.execute(
                    "SELECT (SELECT COUNT(*) FROM inbox WHERE handled_at IS NULL), (SELECT COUNT(*) FROM outbox)"
                ).fetchone()
        except sqlite3.Error:  # not created yet, or busy: not known to be settled
            return False
        return unhandled == 0 and unshipped == 0

    def calls(self, method: str, since: int = 0) -> list[dict]:
        return self.telegram.calls(since=since, method=method)["calls"]

    def call_mark(self) -> int:
        return self.telegram.calls(since=0, exclude=["getUpdates"])["last_seq"]

    def restart_bot(self):
        """Stops the bot (SIGTERM, as a deploy does) and starts it again; the sandbox and core keep running."""
        self.bot.stop()
        self.bot.start()

    @staticmethod
    def wait_for(condition, what: str, timeout: float = 20.0):
        """`condition`'s first truthy value, asked every 0.1 s. The bound only turns a hang into a failure: it costs
        nothing when the platform is quick, and CI's two shared CPUs have made a step of a second take ten."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = condition()
            if value:
                return value
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for {what}")


class PollingPlatform(Platform):
    """The same platform with the bot on long polling (`manage.py runbot`, BOT_MODE=polling): it fetches its updates
    with getUpdates from the sandbox; no webhook, no HTTP server, no inbox file.

    `settled()` cannot read an inbox here: python-telegram-bot confirms a batch (the next getUpdates' offset) as
    soon as it has queued it, before its handlers ran. So the bot is taken as done when the sandbox holds no
    unconfirmed update and a getUpdates is waiting (it came back for more), the outbox has nothing left to ship,
    and the bot has neither been handed an update nor called the Bot API for QUIET seconds."""

    mode = "polling"
    QUIET = 0.5

    def __init__(self, tmp):
        self.tmp = tmp
        self.core_port, self.sandbox_port, self.bot_port = free_port(), free_port(), None
        self.core = core_process(tmp, self.core_port)
        self.sandbox = sandbox_process(tmp, self.sandbox_port)
        self.bot = polling_bot_process(tmp, self.core_port, self.sandbox_port, ready=self._polling_since_now)
        self._activity: tuple | None = None
        self._quiet_since = 0.0
        self._seen_seq = 0

    def _polling_since_now(self):
        """A check made before the bot starts: true once a getUpdates started after that is waiting."""
        before = self.telegram.pending_updates(BOT)["poll_generation"]

        def polling() -> bool:
            state = self.telegram.pending_updates(BOT)
            return state["poll_generation"] > before and state["polling"] > 0
        return polling

    def start(self):
        self.core.start()
        self.sandbox.start()
        self.telegram = SandboxClient(f"http://127.0.0.1:{self.sandbox_port}", timeout=10)
        self.api = CoreClient(f"http://127.0.0.1:{self.core_port}", TEST_KEY, timeout=5)
        self.bot.start()
        return self

    def point_webhook(self):
        """No webhook in this mode: the bot deletes any at start (python-telegram-bot does before polling)."""

    def settled(self) -> bool:
        state = self.telegram.pending_updates(BOT)
        if state["pending"] or not state["polling"]:
            return False
        try:
            with contextlib.closing(sqlite3.connect(f"file:{self.tmp / 'bot-outbox.sqlite3'}?mode=ro", uri=True,
                                                    timeout=1)) as outbox:
                unshipped = outbox.execute("SELECT COUNT(*) FROM outbox").fetchone()[0]
        except sqlite3.Error:
            return False
        calls = self.telegram.calls(since=self._seen_seq, exclude=["getUpdates"], bot=BOT)["calls"]
        if calls:
            self._seen_seq = calls[-1]["seq"]
        activity = (state["delivered"], self._seen_seq, unshipped)
        now = time.monotonic()
        if activity != self._activity:
            self._activity, self._quiet_since = activity, now
            return False
        return unshipped == 0 and now - self._quiet_since >= self.QUIET


def _started(platform: Platform) -> Platform:
    try:
        platform.start()
    except Exception:
        platform.stop()
        raise
    return platform


@pytest.fixture(scope="session")
def platform(tmp_path_factory):
    platform = _started(Platform(tmp_path_factory.mktemp("e2e")))
    yield platform
    platform.stop()


@pytest.fixture(scope="session")
def polling_platform(tmp_path_factory):
    platform = _started(PollingPlatform(tmp_path_factory.mktemp("e2e-polling")))
    yield platform
    platform.stop()


@pytest.fixture(params=["webhook", "polling"])
def any_platform(request):
    """The platform in each of the bot's two modes: a test taking it runs once by webhook, once by long polling.
    Both are session fixtures (started once per test process, on first use)."""
    return request.getfixturevalue("platform" if request.param == "webhook" else "polling_platform")
