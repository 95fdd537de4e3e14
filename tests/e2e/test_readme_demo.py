"""The README's demo on a fresh world: core's demo data and the sandbox's demo world are one, so
`/ban @spammer flooding` as @alice in the Sandbox Group works before anyone has typed a thing."""

import time

import pytest

from apps.common import demo_world
from apps.coreclient import CoreClient

from .demo_platform import DemoPlatform
from .processes import TEST_KEY

pytestmark = pytest.mark.e2e
GROUP = demo_world.GROUPS[0]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    platform = DemoPlatform(tmp_path_factory.mktemp("readme-demo"))
    try:
        platform.start()
        platform.api = CoreClient(f"http://127.0.0.1:{platform.core_port}", TEST_KEY, timeout=5)
        yield platform
    finally:
        platform.stop()


def say(demo, user, text, chat=GROUP.title, wait=6.0, reply_to=None):
    """`user` writes `text`; the bot's text replies to it."""
    sent = demo.telegram.send_message(chat, user, text, reply_to=reply_to)
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        found = demo.telegram.messages(chat, since_id=sent["message_id"], sender="@sandbox_mod_bot", wait=1.0)
        texts = [reply["text"] for reply in found if reply.get("text")]
        if texts:
            return texts
    return []


def test_ban_at_spammer_as_alice_on_a_fresh_world(demo):
    assert say(demo, "alice", "/ban @spammer flooding") == ["@spammer is banned."]
    assert demo.telegram.member(GROUP.title, "spammer")["status"] == "kicked"
    # The bot answers first; core hears the outcome right after.
    deadline = time.monotonic() + 5
    while not (executed := demo.api.moderation_list(type="ban", status="executed")["items"]):
        assert time.monotonic() < deadline, demo.api.moderation_list(type="ban")["items"]
        time.sleep(0.1)
    [action] = executed
    assert action["reason"] == "flooding"
    spammer = demo.api.user_list(telegram_user_id=demo_world.PERSON["spammer"].telegram_id)["items"][0]
    assert action["target_user_id"] == spammer["id"]


def test_the_sandbox_has_someone_who_may_open_the_admin_dashboard(demo):
    [answer] = say(demo, "bob_mod", "/admin_dashboard")
    assert answer.startswith("Platform\nUsers: ")


def test_a_stranger_by_username_and_the_bot_itself(demo):
    [answer] = say(demo, "alice", "/mute @never_seen_here 10m")
    assert "reply to one of their messages" in answer.lower() and "numeric" in answer
    assert say(demo, "alice", "/ban @sandbox_mod_bot") == ["I won't do that to myself."]


def test_a_reply_to_what_someone_said_before_the_bot_started(demo):
    """The sandbox's history is there to reply to: dave's first message, from before the first command."""
    history = demo.telegram.messages(GROUP.title)
    first_of_dave = next(message for message in history if (message.get("from") or {}).get("username") == "dave")
    [answer] = say(demo, "carol", "/warn off topic", reply_to=first_of_dave["message_id"])
    assert "has been warned (1/" in answer
