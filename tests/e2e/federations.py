"""The ban-list (federation) end-to-end platform and its steps: core on either storage profile (SQLite, or MongoDB
through a throwaway SecantusDB server), the Telegram sandbox and the bot as real processes; people talking to the bot
in private and in groups, a federation created and joined by commands, and waits on what Telegram (the sandbox) and
core hold afterwards.

    python -m tests.e2e.federations manage <manage.py arguments>     core's manage.py
    python -m tests.e2e.federations gunicorn <gunicorn arguments>    core under gunicorn
    python -m tests.e2e.federations uvicorn <uvicorn arguments>      the bot under uvicorn

run core with the SecantusDB rewrites of tests/mongo/secantus_compat.py applied (as `make test-mongo` applies them to
the in-process tests): a core process on SecantusDB needs them as much as the test process does. SecantusDB serves one
request at a time, in Python: core's answers that take a real MongoDB a few milliseconds take it tenths of a second,
queued behind each other, past the bot's 0.8 s budget for a core call (BOT_CORE_TIMEOUT_SECONDS, which makes a
command answer "unavailable" within 2 s). So on that profile the bot runs with a wider budget (E2E_BOT_CORE_TIMEOUT):
the test is about what core stores and answers there, not about the emulator's speed.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from apps.coreclient import CoreError, CoreUnavailable

from .conftest import BOT, Platform
from .processes import (
    BIN,
    BOT_KEY,
    ROOT,
    TEST_KEY,
    WEB_KEY,
    Process,
    bot_process,
    free_port,
    migrated_database,
    sandbox_process,
)

ALICE = 2000001  # the owner of every e2e group, and of the federations here
# The bot's ban-list timings, shortened so a test waits seconds, not the production minutes: the worker claims every
# second, the cache polls versions every second, and a lease lost with a killed bot runs out after 10 s (core's
# minimum).
BOT_ENV = {"BOT_BANLIST_POLL_SECONDS": "1", "BOT_BANLIST_REFRESH_SECONDS": "1", "BOT_BANLIST_LEASE_SECONDS": "10"}
_numbers = itertools.count(1)


# --- core on either profile -------------------------------------------------------------------------------------


def core_process(data_dir: Path, port: int, database_url: str | None = None) -> Process:
    """Core migrated and under gunicorn, as tests/e2e/processes.py starts it; on `database_url` (a MongoDB URL) when
    given, through this module's launcher (the SecantusDB rewrites applied)."""
    env = {
        "APP_ENV": "development",
        "DJANGO_SETTINGS_MODULE": "config.settings.core",
        "DATA_DIR": str(data_dir),
        "SERVICE_API_KEYS": f"bot={BOT_KEY},tests={TEST_KEY},web={WEB_KEY}",
        "PORT": str(port),
        "WEB_CONCURRENCY": "2",
        "LOG_LEVEL": "WARNING",
    }
    if database_url:
        env["DATABASE_URL"] = database_url
        launcher = [sys.executable, "-m", "tests.e2e.federations"]
        serve = [*launcher, "gunicorn"]
        migrated = subprocess.run([*launcher, "manage", "migrate", "--noinput", "-v0"], cwd=ROOT,
                                  env={**os.environ, **env}, capture_output=True, text=True)
        if migrated.returncode:
            raise RuntimeError(f"core's migrate failed on {database_url}:\n{migrated.stderr[-3000:]}")
    else:
        serve = [str(BIN / "gunicorn")]
        migrated_database(data_dir, env)
    return Process("core", [*serve, "-c", "deploy/gunicorn/conf.py", "config.wsgi"], env,
                   f"http://127.0.0.1:{port}/api/health", data_dir)


@contextlib.contextmanager
def database(profile: str, data_dir: Path) -> Iterator[str | None]:
    """None for SQLite (core's default, in data_dir); for "mongo", MONGODB_TEST_URL when set (a real replica set),
    else a throwaway SecantusDB server (installed into .venv-secantus/ on first use, as `make test-mongo` does)."""
    if profile == "sqlite":
        yield None
        return
    given = os.environ.get("MONGODB_TEST_URL", "")
    if given:  # a database of this run's own on the given server, so a rerun starts empty
        yield urlunsplit(urlsplit(given)._replace(path=f"/e2e_fed_{uuid.uuid4().hex[:8]}"))
        return
    from tests.mongo.server import secantus_server

    with secantus_server(database="core", log_path=data_dir / "secantusd.log") as url:
        yield url


MONGO_BOT_CORE_TIMEOUT = "5"  # seconds: the bot's budget for a core call when core is on SecantusDB (see above)


class FederationPlatform(Platform):
    """Core (on the profile's store), the sandbox and the bot, the bot's ban-list timings shortened (BOT_ENV)."""

    def __init__(self, tmp, database_url: str | None = None):
        self.tmp = tmp
        self.profile = "mongo" if database_url else "sqlite"
        self.core_port, self.sandbox_port, self.bot_port = free_port(), free_port(), free_port()
        self.core = core_process(tmp, self.core_port, database_url)
        self.sandbox = sandbox_process(tmp, self.sandbox_port)
        self.bot = bot_process(tmp, self.bot_port, self.core_port, self.sandbox_port)
        self.bot.env.update(BOT_ENV)
        if database_url:
            assert Path(self.bot.command[0]).name == "uvicorn", self.bot.command
            self.bot.command = [sys.executable, "-m", "tests.e2e.federations", "uvicorn", *self.bot.command[1:]]
            self.bot.env["E2E_BOT_CORE_TIMEOUT"] = MONGO_BOT_CORE_TIMEOUT

    def kill_bot(self) -> None:
        """SIGKILL, as a crash or an OOM kill: nothing runs on the way out (no graceful stop of the worker)."""
        popen = self.bot.popen
        assert popen is not None and popen.poll() is None, "the bot is not running"
        os.killpg(popen.pid, signal.SIGKILL)
        popen.wait(timeout=10)


# --- people and their messages --------------------------------------------------------------------------------


def fresh_user(platform, prefix: str = "fed") -> dict:
    """Someone new on Telegram (the sandbox): {"id", "username", ...}."""
    username = f"{prefix}{next(_numbers)}_{uuid.uuid4().hex[:6]}"
    return platform.telegram.create_user(prefix.capitalize(), username=username)


def in_private(platform, username: str, text: str, *, wait: float = 8.0) -> list[dict]:
    """`username` writes `text` to the bot in private; the bot's answers (its /start greeting left out)."""
    before = platform.telegram.messages(BOT, user=username, count=1000)
    since = before[-1]["message_id"] if before else 0
    platform.telegram.send_message(BOT, username, text)

    def answers():
        found = platform.telegram.messages(BOT, since_id=since, sender=BOT, user=username, wait=0.3, count=1)
        return [message for message in found if not message.get("text", "").startswith("Hi!")]

    return platform.wait_for(answers, f"the bot's answer to {text!r}", timeout=wait)


def in_group(platform, chat: dict, username: str, text: str, *, wait: float = 8.0) -> str:
    """`username` writes `text` in the group; the bot's text replies, joined."""
    _, replies = platform.say(chat["id"], username, text, wait=wait)
    return "\n".join(replies)


def status(platform, chat: dict, telegram_user_id: int) -> str:
    return platform.telegram.member(chat["id"], telegram_user_id)["status"]


def wait_status(platform, chats: list[dict], telegram_user_id: int, wanted: str, *, timeout: float = 15.0,
                what: str = "") -> None:
    """Every chat shows the user with status `wanted` (sandbox), within `timeout`."""

    def behind() -> list:
        return [chat["title"] for chat in chats if status(platform, chat, telegram_user_id) != wanted]

    deadline = time.monotonic() + timeout
    while (left := behind()) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not left, f"{what or telegram_user_id}: not {wanted} in {left}"


def core_group(platform, telegram_chat_id: int) -> str | None:
    """Core's id of the group, or None while core does not know it (or is too busy to say: a slow store)."""
    try:
        return platform.api.group_by_chat(telegram_chat_id).id
    except (CoreError, CoreUnavailable):
        return None


def core_user_id(platform, telegram_user_id: int) -> str | None:
    found = platform.api.user_list(telegram_user_id=telegram_user_id)
    items = found["items"] if isinstance(found, dict) else found.items
    return items[0]["id"] if items else None


def banlist_records(platform, group_id: str, telegram_user_id: int, type: str | None = None) -> list[dict]:
    """Core's moderation records of rule "banlist" in the group naming the user (newest first)."""
    target = core_user_id(platform, telegram_user_id)
    if target is None:
        return []
    return platform.api.moderation_list(group_id=group_id, target_user_id=target, rule="banlist", type=type,
                                        limit=100)["items"]


def wait_records(platform, group_ids: list[str], telegram_user_id: int, type: str, *, status: str = "executed",
                 timeout: float = 15.0) -> dict[str, dict]:
    """Each group holds a banlist record of `type` naming the user with `status`; returns them by group."""
    found: dict[str, dict] = {}

    def complete() -> bool:
        for group_id in group_ids:
            if group_id in found:
                continue
            done = [r for r in banlist_records(platform, group_id, telegram_user_id, type) if r["status"] == status]
            if done:
                found[group_id] = done[0]
        return len(found) == len(group_ids)

    deadline = time.monotonic() + timeout
    while not complete() and time.monotonic() < deadline:
        time.sleep(0.3)
    missing = [g for g in group_ids if g not in found]
    if missing:
        seen = {g: [(r["type"], r["status"], r.get("reason")) for r in banlist_records(platform, g, telegram_user_id)]
                for g in missing}
        raise AssertionError(f"no {status} banlist {type} record of {telegram_user_id} in {seen}")
    return found


def as_alice(platform, write, *args, **fields):
    """A core write by alice: core learns who she is (her user, her owner role in a new group) from the bot's events,
    which may still be on their way; asked again until then."""

    def attempt():
        try:
            return write(*args, actor_telegram_user_id=ALICE, **fields) or True
        except CoreError as exc:
            if exc.code in ("permission_denied", "not_found"):
                return None
            raise

    return platform.wait_for(attempt, f"core to let alice {getattr(write, '__name__', 'write')}", timeout=15)


# --- a federation ---------------------------------------------------------------------------------------------


@dataclass
class Federation:
    id: str
    name: str
    chats: list[dict] = field(default_factory=list)  # the sandbox chats subscribed
    groups: list[str] = field(default_factory=list)  # core's group ids, in the same order


FED_ID = re.compile(r"FedID: (\S+)")


def new_federation(platform, name: str) -> Federation:
    """alice creates a federation with /newfed in her private chat with the bot."""
    platform.telegram.start_bot("alice")
    # Core knows alice from the bot's events about her groups (on a slow store they may still be on their way).
    platform.wait_for(lambda: core_user_id(platform, ALICE), "core to know alice", timeout=20)

    def created():
        text = in_private(platform, "alice", f"/newfed {name}")[0].get("text", "")
        return None if "temporarily unavailable" in text else text

    text = platform.wait_for(created, "the federation to be created", timeout=20)
    found = FED_ID.search(text)
    assert found, f"no FedID in the answer to /newfed: {text!r}"
    federation = Federation(found.group(1).rstrip(".,)"), name)
    assert platform.api.ban_list_get(federation.id)["name"] == name
    return federation


def join(platform, federation: Federation, chat: dict) -> str:
    """alice, the group's owner, joins the group to the federation with /joinfed; returns the bot's answer. Her owner
    role reaches core with the bot's events about the new group: asked again while core does not know it yet."""

    def attempt():
        answer = in_group(platform, chat, "alice", f"/joinfed {federation.id}")
        return answer if "BAN_LIST_SUBSCRIBE" not in answer and answer else None

    answer = platform.wait_for(attempt, f"{chat['title']} to join {federation.name}", timeout=20)
    federation.chats.append(chat)
    federation.groups.append(platform.api.group_by_chat(chat["id"]).id)
    return answer


def subscribed_chats(platform, federation: Federation) -> set[int]:
    page = platform.api.ban_list_subscriptions(federation.id, limit=200)
    return {int(item["telegram_chat_id"]) for item in page["items"]}


def propagation(platform, federation: Federation) -> dict:
    return platform.api.ban_list_propagation(federation.id)


def owed_groups(platform, federation: Federation) -> int | None:
    """How many groups of the list core still owes a ban; None when core's answer timed out (busy: "not known")."""
    try:
        return propagation(platform, federation)["pending"]
    except CoreUnavailable:
        return None


def main(argv: list[str]) -> None:
    """The core and bot launchers of the MongoDB profile (see the module's docstring)."""
    tool, arguments = argv[0], argv[1:]
    if tool == "uvicorn":
        import django
        import uvicorn
        from django.conf import settings

        django.setup()
        settings.BOT_CORE_TIMEOUT_SECONDS = float(os.environ["E2E_BOT_CORE_TIMEOUT"])
        sys.argv = ["uvicorn", *arguments]
        uvicorn.main()
        return
    from tests.mongo import secantus_compat

    secantus_compat.pytest_configure(None)
    if tool == "manage":
        from django.core.management import execute_from_command_line

        execute_from_command_line(["manage.py", *arguments])
    elif tool == "gunicorn":
        from gunicorn.app.wsgiapp import run

        sys.argv = ["gunicorn", *arguments]
        run()
    else:
        raise SystemExit(f"usage: python -m tests.e2e.federations manage|gunicorn|uvicorn ... (not {tool!r})")


if __name__ == "__main__":
    main(sys.argv[1:])
