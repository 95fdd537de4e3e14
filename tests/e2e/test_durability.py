"""Nothing the bot acknowledged is lost, and nothing is counted twice: the bot or core is killed with SIGKILL while
six senders post updates to the webhook as fast as they can, then started again.

The senders behave as Telegram does: an update is posted again until it is answered with 200 (a connection
refused, reset or timed out, or any other status, is retried), so the set of updates that were acknowledged is
exactly the set that was sent, and core must count each once. One update in four is a photo, which the webhook's
plain-message shortcut does not take: it is stored raw and handled by python-telegram-bot's application (its
event made by the handler), so both of the webhook's paths are under the kill.
"""

import itertools
import os
import signal
import threading
import time

import httpx
import pytest

from .conftest import Platform
from .processes import WEBHOOK_SECRET

pytestmark = pytest.mark.e2e

SENDERS = 6
UPDATE_IDS = itertools.count(10**9)  # far above the sandbox's own update ids
MESSAGE_IDS = itertools.count(10**6)
_ids_lock = threading.Lock()


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    platform = Platform(tmp_path_factory.mktemp("durability"))
    try:
        platform.start()
    except Exception:
        platform.stop()
        raise
    yield platform
    platform.stop()


def make_update(chat_id: int, sender: int) -> dict:
    with _ids_lock:
        update_id, message_id = next(UPDATE_IDS), next(MESSAGE_IDS)
    message = {"message_id": message_id, "date": int(time.time()),
               "chat": {"id": chat_id, "type": "supergroup", "title": "Durability"},
               "from": {"id": 3_000_000 + sender, "is_bot": False, "first_name": f"Sender{sender}"}}
    if message_id % 4 == 0:
        message.update(caption="a picture", photo=[{"file_id": f"p{message_id}", "file_unique_id": f"u{message_id}",
                                                    "width": 10, "height": 10}])
    else:
        message["text"] = f"message {message_id}"
    return {"update_id": update_id, "message": message}


class Senders:
    """Threads that post updates to the webhook back to back until told to stop; each finishes by getting its
    last update acknowledged."""

    def __init__(self, url: str, chat_id: int):
        self.url, self.chat_id = url, chat_id
        self.stopping = threading.Event()
        self.acknowledged = [0] * SENDERS
        self.refused = [0] * SENDERS  # attempts not answered with 200 (retried)
        self.errors: list[str] = []
        self.threads = [threading.Thread(target=self._send, args=(number,), daemon=True)
                        for number in range(SENDERS)]

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=30)

    @property
    def total(self) -> int:
        return sum(self.acknowledged)

    def wait_for(self, count: int, timeout: float = 10) -> int:
        """Lets at least `count` more updates be acknowledged (the load is under way), within `timeout`."""
        target, deadline = self.total + count, time.monotonic() + timeout
        while self.total < target and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.total

    def _send(self, number: int) -> None:
        headers = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}
        give_up = time.monotonic() + 45
        with httpx.Client(timeout=5) as client:
            while not self.stopping.is_set():
                update = make_update(self.chat_id, number)
                while time.monotonic() < give_up:
                    try:
                        status = client.post(self.url, json=update, headers=headers).status_code
                    except httpx.HTTPError:
                        status = None
                    if status == 200:
                        self.acknowledged[number] += 1
                        break
                    self.refused[number] += 1
                    if status is not None and status != 503:
                        self.errors.append(f"status {status}")
                    time.sleep(0.02)
                else:
                    self.errors.append("an update was never acknowledged")
                    return


def messages_in_core(platform: Platform, group_id: str) -> int:
    return platform.api.group_stats(group_id, bucket="hour")["totals"]["messages"]


def kill(process) -> None:
    os.killpg(process.popen.pid, signal.SIGKILL)
    process.popen.wait()


def wait_for_count(platform: Platform, group_id: str, expected: int, timeout: float = 25) -> int:
    """Core's count once it reached `expected` and stayed there (a double count would go past it)."""
    deadline = time.monotonic() + timeout
    counted = messages_in_core(platform, group_id)
    while counted < expected and time.monotonic() < deadline:
        time.sleep(0.25)
        counted = messages_in_core(platform, group_id)
    time.sleep(1.0)  # anything still on its way (a re-sent batch) would show now
    return messages_in_core(platform, group_id)


def test_a_bot_killed_under_load_loses_no_acknowledged_update_and_counts_none_twice(platform):
    chat = platform.new_group()
    group_id = platform.api.group_by_chat(chat["id"]).id
    before = messages_in_core(platform, group_id)
    url = f"http://127.0.0.1:{platform.bot_port}/telegram/webhook"
    with Senders(url, chat["id"]) as senders:
        acknowledged_before_kill = senders.wait_for(400)
        kill(platform.bot)
        time.sleep(1.0)
        platform.bot.start()
        senders.wait_for(200)
    assert not senders.errors, senders.errors[:5]
    assert acknowledged_before_kill > 200, "the load did not get going before the kill"
    assert sum(senders.refused) > 0, "no request met the dead bot: the kill did not happen under load"
    counted = wait_for_count(platform, group_id, before + senders.total) - before
    print(f"bot killed: {senders.total} updates acknowledged ({acknowledged_before_kill} before the kill), "
          f"{sum(senders.refused)} attempts retried, core counted {counted}")
    assert counted == senders.total, f"{senders.total} updates acknowledged, core counted {counted}"


def test_core_killed_under_load_the_bot_keeps_acknowledging_and_ships_each_once(platform):
    chat = platform.new_group()
    group_id = platform.api.group_by_chat(chat["id"]).id
    before = messages_in_core(platform, group_id)
    url = f"http://127.0.0.1:{platform.bot_port}/telegram/webhook"
    with Senders(url, chat["id"]) as senders:
        senders.wait_for(400)
        kill(platform.core)
        acknowledged_at_kill = senders.total
        during_outage = senders.wait_for(300) - acknowledged_at_kill
        platform.core.start()
        time.sleep(1.0)
    assert not senders.errors, senders.errors[:5]
    assert during_outage > 100, "the bot stopped acknowledging while core was down"
    counted = wait_for_count(platform, group_id, before + senders.total) - before
    print(f"core killed: {senders.total} updates acknowledged ({during_outage} while core was down), "
          f"core counted {counted}")
    assert counted == senders.total, f"{senders.total} updates acknowledged, core counted {counted}"
