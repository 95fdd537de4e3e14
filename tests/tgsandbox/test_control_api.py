"""The control API over HTTP (through SandboxClient), and the sandbox running standalone."""

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from tgsandbox.client import SandboxClient
from tgsandbox.errors import SandboxError

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def client(demo):
    with SandboxClient(demo.url) as control:
        yield control


def test_people_chats_and_messages(demo, client):
    client.create_user("Eve", username="eve")
    chat = client.create_chat("Book Club", "@alice", type="group", members=["@carol", "eve"])
    assert (chat["type"], chat["title"]) == ("group", "Book Club")
    client.add_member("Book Club", "@sandbox_mod_bot", by="alice", status="administrator")
    assert client.member("Book Club", "@eve")["status"] == "member"
    sent = client.send_message("Book Club", "@eve", "<b>/start</b> hello", parse_mode="HTML")
    assert sent["text"] == "/start hello" and sent["from"]["username"] == "eve"
    reply = client.send_message("Book Club", "carol", "welcome!", reply_to=sent["message_id"])
    assert reply["reply_to_message"]["message_id"] == sent["message_id"]
    edited = client.edit_message("Book Club", reply["message_id"], "welcome, Eve!", user="carol")
    assert edited["text"] == "welcome, Eve!"
    pending = client.pending_updates("sandbox_mod_bot")["pending"]
    assert [next(k for k in u if k != "update_id") for u in pending][-3:] == ["message", "message",
                                                                               "edited_message"]
    new = client.upgrade_group("Book Club")
    assert new["type"] == "supergroup" and new["migrated_from"] == chat["id"]
    client.restrict(new["id"], "@eve", permissions={"can_send_messages": False})
    with pytest.raises(SandboxError, match="restricted"):
        client.send_message(new["id"], "eve", "hello?")
    client.remove(new["id"], "eve", by="alice", ban=True)
    assert client.member(new["id"], "eve")["status"] == "kicked"
    client.leave("Sandbox Group", "@dave")
    assert client.member("@sandbox_group", "dave")["status"] == "left"


def test_adding_a_member_answers_the_join_notice_even_once_a_bot_deleted_it(demo, client):
    client.create_user("Finn", username="finn")
    added = client.add_member(demo.group.id, "finn", by="alice")
    notice = added["message"]
    assert added["status"] == "member" and notice["from"]["username"] == "alice"
    assert [member["username"] for member in notice["new_chat_members"]] == ["finn"]
    client.delete_message(demo.group.id, notice["message_id"])  # as a bot cleaning service messages does
    assert all(message["message_id"] != notice["message_id"] for message in client.messages(demo.group.id))
    client.create_user("Cleo", username="cleo")
    assert client.add_member(demo.group.id, "cleo")["message"]["new_chat_members"][0]["username"] == "cleo"


def test_errors_are_reported(client):
    with pytest.raises(SandboxError) as unknown:
        client.send_message("No Such Group", "alice", "hi")
    assert (unknown.value.status, unknown.value.message) == (404, "unknown chat 'No Such Group'")
    with pytest.raises(SandboxError, match="is not a member"):
        client.send_message("Basic Group", "spammer", "hi")
    with pytest.raises(SandboxError, match="no route"):
        client._call("GET", "/sandbox/nothing-here")


def test_waiting_for_what_the_bot_does(demo, client, http):
    since = client.calls()["last_seq"]
    last_id = client.messages("Sandbox Group")[-1]["message_id"]

    def bot_answers():
        time.sleep(0.3)
        http.post(f"{demo.url}/bot{demo.token}/sendMessage", data={"chat_id": demo.group.id, "text": "on it"})

    threading.Thread(target=bot_answers).start()
    started = time.monotonic()
    replies = client.messages("Sandbox Group", since_id=last_id, sender="bot", wait=5)
    assert [m["text"] for m in replies] == ["on it"]
    assert 0.2 < time.monotonic() - started < 3
    calls = client.calls(since=since, exclude=["getUpdates"])["calls"]
    assert [(c["method"], c["ok"], c["params"]["text"]) for c in calls] == [("sendMessage", True, "on it")]
    assert client.calls(since=calls[-1]["seq"], wait=0.2)["calls"] == []


def test_knobs(demo, client, http):
    assert client.set_rate_limits(group_per_minute=1)["group_per_minute"] == 1
    send = f"{demo.url}/bot{demo.token}/sendMessage"
    assert http.post(send, data={"chat_id": demo.group.id, "text": "1"}).status_code == 200
    limited = http.post(send, data={"chat_id": demo.group.id, "text": "2"})
    assert limited.status_code == 429 and limited.json()["parameters"]["retry_after"] >= 59
    client.advance_time(60)
    assert http.post(send, data={"chat_id": demo.group.id, "text": "3"}).status_code == 200
    client.fail_next("getMe", error_code=502, description="Bad Gateway")
    assert http.post(f"{demo.url}/bot{demo.token}/getMe").json() == {"ok": False, "error_code": 502,
                                                                      "description": "Bad Gateway"}
    client.fail_next("getMe", error_code=500, times=5)
    assert client.clear_faults() is True
    assert http.post(f"{demo.url}/bot{demo.token}/getMe").status_code == 200
    client.start_bot("dave")
    assert client.block_bot("dave")["type"] == "private"
    seeded = client.reset(seed=True)
    assert seeded["bot"]["username"] == "sandbox_mod_bot" and set(seeded["users"]) >= {"alice", "spammer"}
    assert client.state()["rate_limits"]["group_per_minute"] == 20


def test_inline_buttons_through_the_control_api(demo, client, http):
    markup = '{"inline_keyboard": [[{"text": "Appeal", "callback_data": "appeal"}]]}'
    sent = http.post(f"{demo.url}/bot{demo.token}/sendMessage",
                     data={"chat_id": demo.group.id, "text": "You were warned", "reply_markup": markup}).json()
    message_id = sent["result"]["message_id"]
    query = client.press_button("Sandbox Group", message_id, "carol", "appeal")
    assert query["data"] == "appeal" and query["message"]["message_id"] == message_id
    with pytest.raises(SandboxError, match="no button"):
        client.press_button("Sandbox Group", message_id, "carol", "something else")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_runs_standalone_without_django(receiver):
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    probe = subprocess.run(
        [sys.executable, "-c", "import sys, tgsandbox.server, tgsandbox.botchat; "
                               "print(sorted(m for m in sys.modules if m.split('.')[0] == 'django'))"],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=30, check=True)
    assert probe.stdout.strip() == "[]"
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "tgsandbox", "--port", str(port), "--log-level", "warning"],
        cwd=REPO_ROOT, env={**env, "SANDBOX_BOT_USERNAME": "standalone_bot", "SANDBOX_WEBHOOK_URL": receiver.url,
                            "SANDBOX_WEBHOOK_SECRET": "dev-webhook-secret",
                            "SANDBOX_WEBHOOK_ALLOWED_UPDATES": "message,chat_member"},
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline, state = time.monotonic() + 15, None
        while state is None:
            try:
                state = httpx.get(f"http://127.0.0.1:{port}/sandbox/state", timeout=1).json()["result"]
            except httpx.HTTPError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(process.stderr.read().decode()) from None
                time.sleep(0.05)
        assert [b["username"] for b in state["bots"]] == ["standalone_bot"]
        assert [c["title"] for c in state["chats"]] == ["Sandbox Group", "Basic Group"]
        me = httpx.get(f"http://127.0.0.1:{port}/bot123456:sandbox-token/getMe").json()
        assert me["result"]["username"] == "standalone_bot"
        with SandboxClient(f"http://127.0.0.1:{port}") as standalone:
            standalone.send_message("Sandbox Group", "carol", "hello from make run")
            standalone.promote("Sandbox Group", "dave", rights={"can_pin_messages": True})
        delivered = receiver.wait_for(2)
        assert [r["headers"]["X-Telegram-Bot-Api-Secret-Token"] for r in delivered] == ["dev-webhook-secret"] * 2
        assert delivered[0]["body"]["message"]["text"] == "hello from make run"
        assert delivered[1]["body"]["chat_member"]["new_chat_member"]["status"] == "administrator"
    finally:
        process.terminate()
        process.wait(10)
        process.stderr.close()
