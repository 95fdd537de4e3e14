"""The webhook's shortcut for plain messages makes exactly the event the application's handler makes, and takes
nothing else."""

import itertools

import pytest
from telegram import Update

from apps.botgateway.handlers.activity import event_for, plain_message_event

KNOWN = {-1001234567890, -4242}


def update(message: dict | None = None, **top) -> dict:
    base = {"message_id": 7, "date": 1_764_000_000, "chat": {"id": -1001234567890, "type": "supergroup",
                                                             "title": "G"},
            "from": {"id": 2000001, "is_bot": False, "first_name": "Alice"}, "text": "hello"}
    return {"update_id": 99, **({"message": {**base, **message}} if message is not None else {}), **top}


SENDERS = [
    {"id": 2000001, "is_bot": False, "first_name": "Alice"},
    {"id": 2000002, "is_bot": False, "first_name": "Bob", "last_name": "Moderator", "username": "bob_mod"},
    {"id": 2000003, "is_bot": False, "first_name": "Ünïcödé 名前", "last_name": "", "username": None},
    {"id": 5, "is_bot": False, "first_name": "x" * 64, "last_name": "y" * 64, "username": "long"},
]
TEXTS = ["hello", "", "not /a command", " /padded", "🙂" * 10, "x" * 4096]
EXTRAS = [{}, {"entities": [{"type": "bold", "offset": 0, "length": 1}]},
          {"reply_to_message": {"message_id": 3, "date": 1_764_000_000, "chat": {"id": -1001234567890,
                                                                                 "type": "supergroup"}}},
          {"message_thread_id": 4, "is_topic_message": True}]


@pytest.mark.parametrize(("sender", "text", "extra"), list(itertools.product(SENDERS, TEXTS, EXTRAS)))
def test_the_shortcut_makes_the_handlers_event(sender, text, extra):
    payload = update({"from": sender, "text": text, **extra})
    expected = event_for(Update.de_json(payload, None))
    assert plain_message_event(payload, KNOWN) == expected


@pytest.mark.parametrize("payload", [
    update({"text": "/ban @spammer"}),  # a command
    update({"text": "/start@sandbox_mod_bot"}),
    update({"sender_chat": {"id": -1001234567890, "type": "supergroup"}}),  # sent as the group
    update({"from": {"id": 7, "is_bot": True, "first_name": "Other bot"}}),
    update({"chat": {"id": -999, "type": "supergroup"}}),  # a chat core does not know yet: registers it first
    update({"chat": {"id": 2000001, "type": "private"}}),
    update({"new_chat_members": [{"id": 9, "is_bot": False, "first_name": "New"}]}),
    update({"left_chat_member": {"id": 9, "is_bot": False, "first_name": "Gone"}}),
    update({"migrate_to_chat_id": -1009}),
    update({"photo": [], "caption": "a picture"}),  # not text: the handler decides
    update({"text": None}),
    update({"from": None}),
    update({"date": "yesterday"}),
    update({"chat": {"id": "-1001234567890", "type": "supergroup"}}),
    update(edited_message={"message_id": 1}),
    {"update_id": 99, "edited_message": update({})["message"]},
    {"update_id": 99, "chat_member": {}},
    [],
    "text",
])
def test_everything_else_goes_through_the_application(payload):
    assert plain_message_event(payload, KNOWN) is None
