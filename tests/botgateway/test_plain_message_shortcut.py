"""The webhook's plain-message shortcut (BOT_WEBHOOK_PLAIN_MESSAGE_SHORTCUT) against python-telegram-bot's standard
dispatch: the same updates to a fresh platform (core, the Telegram sandbox, the bot as real processes) with the
shortcut on and off give the same answers, the same events in core, the same calls to Telegram and nothing left in
the outbox (and so does the bot without gc.freeze after startup, GC_FREEZE_AFTER_STARTUP=false). Each update the
shortcut counted is one no handler of the application but the counting one (and the update tracer) would have
acted on: a general check over every registered handler, so a handler added later that should see plain messages
fails it."""

import itertools
import json
import sqlite3
import time
from contextlib import closing

import httpx
import pytest
from django.test import override_settings
from prometheus_client.parser import text_string_to_metric_families
from telegram import Update
from telegram.ext import MessageHandler, filters

from apps.botgateway.application import build_application, trace_update
from apps.botgateway.handlers.activity import count, plain_message_event
from tests.e2e.conftest import Platform
from tests.e2e.processes import BOT_TOKEN, WEBHOOK_SECRET

from .test_plain_messages import EXTRAS, SENDERS, TEXTS

# What the shortcut stands in for: the event of `count` and the request id of `trace_update` (its log line the
# webhook writes itself).
SHORTCUT_REPLACES = {count, trace_update}
FIRST_UPDATE_ID = 10**9  # far from the sandbox's own update ids
FIRST_MESSAGE_ID = 500  # past the sandbox's own messages in the group
GROUP_MEMBER_IDS = range(2000001, 2000006)  # the demo people new_group makes members (apps/common/demo_world.py)
STARTED = int(time.time()) - 60


def crafted_messages(chat_id: int) -> list[dict]:
    """Plain messages of every shape the shortcut takes, and near misses it must leave to the application."""
    messages = [{"from": sender, "text": text, **extra}
                for sender, text, extra in itertools.product(SENDERS, TEXTS, EXTRAS)]
    messages += [
        # Commands answered without core, so no core timing enters the comparison.
        {"from": SENDERS[0], "text": "/id", "entities": [{"type": "bot_command", "offset": 0, "length": 3}]},
        {"from": SENDERS[1], "text": "/id@sandbox_mod_bot",
         "entities": [{"type": "bot_command", "offset": 0, "length": 19}]},
        {"from": SENDERS[0], "text": "hi", "sender_chat": {"id": chat_id, "type": "supergroup"}},
        {"from": {"id": 7, "is_bot": True, "first_name": "Other bot"}, "text": "beep"},
        {"from": SENDERS[2], "caption": "a picture", "photo": [{"file_id": "p", "file_unique_id": "p", "width": 1,
                                                                  "height": 1}]},
        {"from": SENDERS[3], "text": "hello", "via_bot": {"id": 8, "is_bot": True, "first_name": "Inline"}},
    ]
    updates = []
    for number, fields in enumerate(messages):
        message = {"message_id": FIRST_MESSAGE_ID + number, "date": STARTED + number,
                   "chat": {"id": chat_id, "type": "supergroup", "title": "Shortcut"}, **fields}
        updates.append({"update_id": FIRST_UPDATE_ID + number, "message": message})
    updates.append({"update_id": FIRST_UPDATE_ID + len(messages),
                    "edited_message": {**updates[0]["message"], "edit_date": STARTED + 999, "text": "edited"}})
    return updates


def webhook_outcomes(bot: httpx.Client) -> dict[str, float]:
    text = bot.get("/metrics").text
    for family in text_string_to_metric_families(text):
        if family.name == "bot_webhook_requests":
            return {sample.labels["outcome"]: sample.value for sample in family.samples
                    if sample.name.endswith("_total")}
    return {}


def core_events(platform, chat_id: int) -> list[tuple]:
    """The group's events as core stored them, with their users. The time of a message sent through the sandbox
    is the sandbox's clock, so only the crafted messages' times (fixed) are compared. The group's own members are
    compared by id only: their profile in core is made by whichever comes first, their join (a chat_member update) or
    a crafted message giving the same id another name, a race of the two paths that is not the shortcut's."""
    with closing(sqlite3.connect(f"file:{platform.tmp / 'core.sqlite3'}?mode=ro", uri=True)) as db:
        rows = db.execute(
            "SELECT e.event_id, e.type, e.command, e.occurred_at, u.telegram_user_id, u.telegram_username, "
            "u.display_name FROM events_groupevent e JOIN groups_group g ON g.id = e.group_id "
            "LEFT JOIN users_user u ON u.id = e.user_id WHERE g.telegram_chat_id = ? ORDER BY e.event_id",
            [chat_id]).fetchall()
    rows = [row if int(row[0].rpartition(":")[2]) >= FIRST_MESSAGE_ID else (*row[:3], None, *row[4:])
            for row in rows]
    return [(*row[:5], None, None) if row[4] in GROUP_MEMBER_IDS else row for row in rows]


def outbox_left(platform) -> tuple:
    with closing(sqlite3.connect(platform.tmp / "bot-outbox.sqlite3")) as outbox:
        return (outbox.execute("SELECT COUNT(*) FROM outbox").fetchone()[0],
                outbox.execute("SELECT COUNT(*) FROM inbox WHERE handled_at IS NULL").fetchone()[0],
                outbox.execute("SELECT body, error FROM dead_letter ORDER BY seq").fetchall())


# The bot's settings in each run. The third: the bot's other bypass, gc.freeze after the lifespan's startup, off.
RUNS = {
    True: {"BOT_WEBHOOK_PLAIN_MESSAGE_SHORTCUT": "true"},
    False: {"BOT_WEBHOOK_PLAIN_MESSAGE_SHORTCUT": "false"},
    "no gc.freeze": {"GC_FREEZE_AFTER_STARTUP": "false"},
}


def run(tmp, settings: dict) -> dict:
    platform = Platform(tmp)
    platform.bot.env.update(settings)
    try:
        platform.start()
        chat = platform.new_group()
        mark = platform.call_mark()
        answers = []
        updates = crafted_messages(chat["id"])
        with httpx.Client(base_url=f"http://127.0.0.1:{platform.bot_port}", timeout=10) as bot:
            before = webhook_outcomes(bot)
            for update in updates:
                response = bot.post("/telegram/webhook", json=update,
                                    headers={"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET})
                answers.append((response.status_code, response.json()))
            after = webhook_outcomes(bot)
        outcomes = {name: after[name] - before.get(name, 0) for name in after if after[name] != before.get(name, 0)}
        # And through Telegram (the sandbox delivers them): a plain message, a command, a reply.
        said, _ = platform.say(chat["id"], "carol", "through the sandbox", wait=0)
        platform.say(chat["id"], "dave", "/id", wait=2)
        platform.say(chat["id"], "carol", "a reply", reply_to=said["message_id"], wait=0)

        def settled():
            left = outbox_left(platform)
            return left[:2] == (0, 0) and (core_events(platform, chat["id"]), left)
        first = platform.wait_for(settled, "the outbox to drain into core", timeout=20)
        time.sleep(0.5)  # nothing more arrives
        assert settled() == first
        events, left = first
        # What the bot did on Telegram; its reads (get*) are left out, since the admin sync that follows the bot's
        # joining the group may land on either side of the mark.
        calls = [(call["method"], call["params"], call.get("ok")) for call in platform.telegram.calls(
            since=mark, exclude=["setWebhook"])["calls"] if not call["method"].startswith("get")]
        calls = json.loads(json.dumps(calls).replace(json.dumps(chat["title"])[1:-1], "<the group's title>"))
        return {"chat_id": chat["id"], "updates": updates, "answers": answers, "outcomes": outcomes,
                "events": events, "dead_letters": left[2], "calls": calls}
    finally:
        platform.stop()


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    return {name: run(tmp_path_factory.mktemp("shortcut"), settings) for name, settings in RUNS.items()}


@pytest.mark.e2e
@pytest.mark.parametrize("variant", [False, "no gc.freeze"], ids=["shortcut off", "no gc.freeze"])
def test_on_and_off_give_the_same_answers_events_and_telegram_calls(runs, variant):
    on, off = runs[True], runs[variant]
    assert on["chat_id"] == off["chat_id"]  # fresh sandboxes: the same world, so records compare as they are
    assert on["answers"] == off["answers"]
    assert on["events"] == off["events"]
    assert len(on["events"]) >= len(on["updates"]) - 2  # the edit and the other bot's message make none
    assert on["calls"] == off["calls"]
    assert [method for method, _, _ in on["calls"]].count("sendMessage") >= 3  # the three /id replies at least
    assert on["dead_letters"] == off["dead_letters"] == []


@pytest.mark.e2e
def test_the_shortcut_counts_plain_messages_only_when_on(runs):
    on, off = runs[True], runs[False]
    taken = [update for update in on["updates"] if plain_message_event(update, {on["chat_id"]}) is not None]
    assert len(taken) == len(SENDERS) * len(TEXTS) * len(EXTRAS)
    assert on["outcomes"] == {"counted": len(taken), "queued": len(on["updates"]) - len(taken)}
    assert off["outcomes"] == {"queued": len(off["updates"])}
    assert runs["no gc.freeze"]["outcomes"] == on["outcomes"]
    assert not handlers_other_than_the_shortcuts_matching(taken)


def the_bots_application():
    with override_settings(TELEGRAM_BOT_TOKEN=BOT_TOKEN, TELEGRAM_API_BASE_URL="http://127.0.0.1:9/bot"):
        return build_application(with_updater=False)


def handlers_other_than_the_shortcuts_matching(payloads: list[dict], application=None) -> list[tuple[int, str]]:
    """(update id, handler) for each registered handler outside SHORTCUT_REPLACES that would act on an update."""
    application = application or the_bots_application()
    matched = []
    for payload in payloads:
        update = Update.de_json(json.loads(json.dumps(payload)), application.bot)
        for group in sorted(application.handlers):
            for handler in application.handlers[group]:
                if handler.callback in SHORTCUT_REPLACES:
                    assert handler.check_update(update), f"{handler.callback.__name__} would not see {payload}"
                elif handler.check_update(update) not in (None, False):
                    matched.append((payload["update_id"], repr(handler)))
    return matched


def plain_corpus(chat_id: int = -1001234567890) -> list[dict]:
    return [update for update in crafted_messages(chat_id) if plain_message_event(update, {chat_id}) is not None]


def test_no_other_handler_acts_on_a_message_the_shortcut_takes():
    payloads = plain_corpus()
    assert len(payloads) == len(SENDERS) * len(TEXTS) * len(EXTRAS)
    assert not handlers_other_than_the_shortcuts_matching(payloads)


def test_the_check_fails_when_a_handler_would_see_plain_messages():
    async def protect(update, context):  # a protection rule on every text message, as will come
        pass

    application = the_bots_application()
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, protect), group=1)
    matched = {update_id for update_id, _ in handlers_other_than_the_shortcuts_matching(plain_corpus(), application)}
    assert matched == {update["update_id"] for update in plain_corpus() if update["message"]["text"]}  # TEXT: not ""
