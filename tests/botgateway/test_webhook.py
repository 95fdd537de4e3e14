"""The webhook never answers 5xx to a body carrying the right secret, whatever the body: the bot's real ASGI app
under its production server (uvicorn), with core and the Telegram sandbox beside it. Malformed bodies are
acknowledged (200, "dropped"), logged and counted; bodies python-telegram-bot can read are stored and handled,
and none of them is left half-handled in the outbox file (it would be replayed at every restart)."""

import json
import sqlite3
import time

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.conftest import Platform
from tests.e2e.processes import WEBHOOK_SECRET

pytestmark = pytest.mark.e2e

DEEP = 100_000


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    platform = Platform(tmp_path_factory.mktemp("webhook"))
    try:
        platform.start()
        platform.chat = platform.new_group()
    except Exception:
        platform.stop()
        raise
    yield platform
    platform.stop()


def message(chat_id: int, **fields) -> dict:
    return {"message_id": 5, "date": int(time.time()), "text": "hello",
            "chat": {"id": chat_id, "type": "supergroup", "title": "G"},
            "from": {"id": 2000003, "is_bot": False, "first_name": "Carol"}, **fields}


KNOWN = "known"  # stands for the test group's chat id (the webhook's plain-message shortcut takes those)
UNKNOWN = -100999


def update(update_id: int = 1, chat_id=KNOWN, **fields) -> dict:
    return {"update_id": update_id, "message": message(chat_id, **fields)}


# (name, body: bytes or a JSON-able value, dropped: whether the webhook must refuse to handle it)
BODIES = [
    ("empty", b"", True),
    ("not json", b"not json at all", True),
    ("invalid utf-8", b"\xff\xfe{\x00", True),
    ("json null", b"null", True),
    ("json number", b"1", True),
    ("json string", b'"update"', True),
    ("json list", b"[]", True),
    ("empty object", b"{}", True),
    ("NaN update id", b'{"update_id": NaN}', True),
    ("infinite update id", b'{"update_id": 1e999}', True),
    ("4,301-digit update id", b'{"update_id": ' + b"9" * 4301 + b"}", True),
    ("update id 2**64", {"update_id": 2**64}, True),
    ("negative update id", {"update_id": -1}, True),
    ("update id as text", {"update_id": "12"}, True),
    ("update id true", {"update_id": True}, True),
    (f"{DEEP} levels of [", b"[" * DEEP, True),
    (f"{DEEP} levels of [ closed", b"[" * DEEP + b"]" * DEEP, True),
    (f"{DEEP} levels of objects", b'{"a":' * DEEP + b"1" + b"}" * DEEP, True),
    ("deep inside a message", b'{"update_id": 7, "message": ' + b"[" * DEEP + b"]" * DEEP + b"}", True),
    ("reply chain 400 deep", ("reply-chain", 400), False),  # python-telegram-bot reads it: handled
    ("reply chain 5,000 deep", ("reply-chain", 5000), True),
    ("date 10**20 (known chat)", update(date=10**20), True),
    ("date -10**20 (known chat)", update(date=-(10**20)), True),
    ("date 10**20 (unknown chat)", update(chat_id=UNKNOWN, date=10**20), True),
    ("date -10**20 (unknown chat)", update(chat_id=UNKNOWN, date=-(10**20)), True),
    ("date 1e308", update(date=1e308), True),
    ("date as text", update(date="yesterday"), True),
    ("chat id as text", update(chat_id="-100123"), False),
    ("chat id a list", update(chat_id=[1]), False),
    ("chat id 2**80", update(chat_id=2**80), False),
    ("message a list", {"update_id": 9, "message": []}, True),
    ("message a string", {"update_id": 9, "message": "hello"}, True),
    ("chat a list", update(chat=[]), True),
    ("from a number", update(**{"from": 5}), True),
    ("text an object", update(text={"a": 1}), False),
    ("entities a string", update(entities="bold"), False),
    ("new members an object", update(new_chat_members={"id": 1}), True),
    ("lone surrogate", '{"update_id": 100000008, "message": {"message_id": 1, "date": 1, "text": "\\ud800", '
                       '"chat": {"id": -5, "type": "group"}}}', False),
    ("callback query of wrong types", {"update_id": 10, "callback_query": {"id": 5, "from": [], "data": 7}}, True),
    ("chat_member of wrong types", {"update_id": 11, "chat_member": {"chat": 1, "date": "x"}}, True),
    ("unknown update kind", {"update_id": 12, "something_new": {"x": 1}}, False),
    ("2 MiB body", "huge", True),
]


def encode(body, chat_id: int, number: int) -> bytes:
    """The body to post; a valid update id becomes one of the test's own (`number`): the sandbox's updates to
    the bot have small ids, and an id stored before is acknowledged without being handled again."""
    if body == "huge":
        return json.dumps(update(text="x" * (2 * 1024 * 1024))).encode()
    if isinstance(body, tuple):  # a message quoting a message quoting a message ... `depth` times
        depth = body[1]
        opening = json.dumps(message(chat_id))[:-1] + ', "reply_to_message": '
        closing = "}"
        return (f'{{"update_id": {10**8 + depth}, "message": {opening * depth}{json.dumps(message(chat_id))}'
                f'{closing * depth}}}').encode()
    if isinstance(body, bytes):
        return body
    if isinstance(body, dict) and type(body.get("update_id")) is int and 0 <= body["update_id"] < 2**63:
        body = {**body, "update_id": 2 * 10**8 + number}
    text = body if isinstance(body, str) else json.dumps(body)
    return text.replace('"known"', str(chat_id)).encode()


def webhook_outcomes(platform) -> dict[str, float]:
    text = httpx.get(f"http://127.0.0.1:{platform.bot_port}/metrics", timeout=5).text
    for family in text_string_to_metric_families(text):
        if family.name == "bot_webhook_requests":
            return {sample.labels["outcome"]: sample.value for sample in family.samples
                    if sample.name.endswith("_total")}
    return {}


@pytest.mark.parametrize(("name", "body", "dropped"), BODIES, ids=[name for name, _, _ in BODIES])
def test_no_body_makes_the_webhook_fail(platform, name, body, dropped):
    payload = encode(body, platform.chat["id"], [entry[0] for entry in BODIES].index(name))
    before = webhook_outcomes(platform)
    response = httpx.post(f"http://127.0.0.1:{platform.bot_port}/telegram/webhook", content=payload, timeout=30,
                          headers={"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET,
                                   "Content-Type": "application/json"})
    assert response.status_code == 200, response.text[:300]
    assert response.json().get("dropped", False) is dropped
    after = webhook_outcomes(platform)
    if dropped:
        outcome = "too_large" if body == "huge" else "malformed"
        assert after.get(outcome, 0) == before.get(outcome, 0) + 1


def test_after_every_body_the_bot_still_counts_messages_and_nothing_waits_to_be_replayed(platform):
    chat_id = platform.chat["id"]
    group_id = platform.api.group_by_chat(chat_id).id
    before = platform.api.group_stats(group_id, bucket="hour")["totals"]["messages"]
    platform.telegram.send_message(chat_id, "carol", "still here")
    platform.wait_for(lambda: platform.api.group_stats(group_id, bucket="hour")["totals"]["messages"] == before + 1,
                      "core to count the message")
    outbox = sqlite3.connect(platform.tmp / "bot-outbox.sqlite3")
    try:
        platform.wait_for(lambda: outbox.execute("SELECT COUNT(*) FROM inbox WHERE handled_at IS NULL").fetchone()
                          == (0,), "every stored update to be handled")
    finally:
        outbox.close()
    assert httpx.get(f"http://127.0.0.1:{platform.bot_port}/api/health", timeout=5).status_code == 200
