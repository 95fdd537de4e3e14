"""Filters and notes end to end: sandbox -> bot -> core (MANAGE_SETTINGS checked there, each change versioned and
audited) -> the bot's settings cache -> the bot's replies in the sandbox, as Rose's commands do them."""

import time

import pytest

from .conftest import BOT

pytestmark = pytest.mark.e2e

REFUSED = "You need the MANAGE_SETTINGS permission to do that."


def bot_messages(platform, chat_id, since_id, *, user=None) -> list[dict]:
    return platform.telegram.messages(chat_id, since_id=since_id, sender=BOT, user=user)


def answer_to(platform, chat_id, message, *, timeout=8.0) -> dict:
    """The bot's message answering `message` (a reply to it)."""
    def found():
        return next((m for m in bot_messages(platform, chat_id, message["message_id"])
                     if (m.get("reply_to_message") or {}).get("message_id") == message["message_id"]), None)
    return platform.wait_for(found, f"the bot's answer to {message.get('text')!r}", timeout=timeout)


def answers_to(platform, chat_id, message) -> list[dict]:
    return [m for m in bot_messages(platform, chat_id, message["message_id"])
            if (m.get("reply_to_message") or {}).get("message_id") == message["message_id"]]


def command(platform, chat_id, user, text, *, reply_to=None, html=False) -> tuple[dict, str]:
    """Sends a command (formatted as HTML when `html`) and returns it with the bot's first text answer."""
    message = platform.telegram.send_message(chat_id, user, text, reply_to=reply_to,
                                             parse_mode="HTML" if html else None)
    found = platform.wait_for(lambda: [m for m in bot_messages(platform, chat_id, message["message_id"])
                                       if "text" in m], f"the answer to {text!r}", timeout=8)
    return message, found[0]["text"]


def filters_in_core(platform, chat) -> list[dict]:
    return platform.api.filters_get(platform.api.group_by_chat(chat["id"]).id)["items"]


def notes_in_core(platform, chat) -> list[dict]:
    return platform.api.notes_get(platform.api.group_by_chat(chat["id"]).id)["items"]


def unanswered(platform, chat_id, messages, sentinel) -> None:
    """None of `messages` got an answer: checked once the bot answered `sentinel`, sent after them (a chat's
    messages are handled in order)."""
    answer_to(platform, chat_id, sentinel)
    time.sleep(0.2)
    for message in messages:
        assert answers_to(platform, chat_id, message) == [], message.get("text")


def test_filters_of_every_kind_answer_their_trigger_and_stop(any_platform):
    platform = any_platform
    chat = platform.new_group()
    cid = chat["id"]

    _, said = command(platform, cid, "carol", "/filter hi hello")
    assert said == REFUSED
    assert filters_in_core(platform, chat) == []

    _, said = command(platform, cid, "alice", "/filter")
    assert said.startswith("Use /filter <trigger> <reply>")
    _, said = command(platform, cid, "alice", '/filter "unclosed hi')
    assert said == "A quoted trigger needs its closing quote."
    _, said = command(platform, cid, "alice", "/filter lonely")
    assert said.startswith("Use /filter <trigger> <reply>")
    assert filters_in_core(platform, chat) == []

    _, said = command(platform, cid, "alice", "/filter puppies I love <b>puppies</b>, {first}!", html=True)
    assert said == f"Saved 1 filter in {chat['title']}:\n- puppies"
    _, said = command(platform, cid, "bob_mod", '/filter "I love dogs" Dogs too!')
    assert said == f'Saved 1 filter in {chat["title"]}:\n- "I love dogs"'
    command(platform, cid, "alice", "/filter prefix:!help Read the pinned message.")
    command(platform, cid, "alice", "/filter exact:ping pong")
    _, said = command(platform, cid, "alice", "/filter (cat, kitten) Meow [Cats](buttonurl://https://cats.example)")
    assert said == f"Saved 2 filters in {chat['title']}:\n- cat\n- kitten"
    saved = {(f["trigger"], f["match"]) for f in filters_in_core(platform, chat)}
    assert saved == {("puppies", "word"), ("I love dogs", "word"), ("!help", "prefix"), ("ping", "exact"),
                     ("cat", "word"), ("kitten", "word")}

    asked = platform.telegram.send_message(cid, "carol", "So many PUPPIES here")
    answer = answer_to(platform, cid, asked)
    assert answer["text"] == "I love puppies, Carol!"
    assert {"type": "bold", "offset": 7, "length": 7} in answer["entities"]
    assert answer_to(platform, cid, platform.telegram.send_message(cid, "dave", "well, I love dogs!"))["text"] == \
        "Dogs too!"
    assert answer_to(platform, cid, platform.telegram.send_message(cid, "dave", "!help me"))["text"] == \
        "Read the pinned message."
    meow = answer_to(platform, cid, platform.telegram.send_message(cid, "dave", "a kitten!"))
    assert meow["text"] == "Meow"
    assert meow["reply_markup"]["inline_keyboard"] == [[{"text": "Cats", "url": "https://cats.example"}]]
    quiet = [platform.telegram.send_message(cid, "dave", text) for text in
             ("I love my dogs", "need !help", "ping pong", "puppiesss", "catalog")]
    unanswered(platform, cid, quiet, platform.telegram.send_message(cid, "dave", "ping"))

    # A photo by reply: the filter answers with the same file.
    photo = platform.telegram.send_message(cid, "alice", photo=True, caption="Sunset")
    _, said = command(platform, cid, "alice", "/filter sunset", reply_to=photo["message_id"])
    assert said == f"Saved 1 filter in {chat['title']}:\n- sunset"
    answer = answer_to(platform, cid, platform.telegram.send_message(cid, "carol", "what a sunset"))
    assert answer["photo"][-1]["file_id"] == photo["photo"][-1]["file_id"]
    assert answer["caption"] == "Sunset"

    _, listed = command(platform, cid, "carol", "/filters")  # anybody may list them
    assert listed.splitlines() == [f"Filters in {chat['title']}:", "- prefix:!help", "- cat", '- "I love dogs"',
                                   "- kitten", "- exact:ping", "- puppies", "- sunset"]

    _, said = command(platform, cid, "carol", "/stop puppies")
    assert said == REFUSED
    _, said = command(platform, cid, "bob_mod", "/stop puppies")
    assert said == "Filter puppies has been stopped!"
    _, said = command(platform, cid, "bob_mod", "/stop puppies")
    assert said == "You haven't saved any filters on that trigger yet! /filters lists them."
    unanswered(platform, cid, [platform.telegram.send_message(cid, "dave", "puppies?")],
               platform.telegram.send_message(cid, "dave", "ping"))

    _, said = command(platform, cid, "bob_mod", "/stopall")
    assert said == "Only the group's owner can remove all filters at once."
    ask, _ = command(platform, cid, "alice", "/stopall")
    [confirm] = [m for m in bot_messages(platform, cid, ask["message_id"]) if "reply_markup" in m]
    assert confirm["text"] == f"Are you sure you would like to stop all filters in {chat['title']}? This can't be " \
                              "undone."
    data = confirm["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    press = platform.telegram.press_button(cid, confirm["message_id"], "bob_mod", data)
    pressed = platform.wait_for(lambda: platform.telegram.callback_answer(press["id"], wait=1)["answer"],
                                "the answer to a press")
    assert (pressed["text"], pressed["show_alert"]) == ("Only the group's owner can do this.", True)
    assert len(filters_in_core(platform, chat)) == 6
    platform.telegram.press_button(cid, confirm["message_id"], "alice", data)
    platform.wait_for(lambda: next(m for m in platform.telegram.messages(cid) if m["message_id"] ==
                                   confirm["message_id"])["text"].startswith("Removed all filters (6)"),
                      "the confirmation edited")
    assert filters_in_core(platform, chat) == []
    gone = platform.telegram.send_message(cid, "dave", "a kitten and a sunset")
    _, listed = command(platform, cid, "dave", "/filters")
    assert listed == f"No filters in {chat['title']}! /filter <trigger> <reply> adds one."
    command(platform, cid, "alice", "/filter zzz ok")
    unanswered(platform, cid, [gone], platform.telegram.send_message(cid, "dave", "zzz"))
    events = platform.api.audit_events(action="protection.filter", limit=20)["items"]
    assert any(event["details"].get("cleared") for event in events)


def test_notes_saved_by_reply_with_media_and_buttons_read_by_hashtag_get_and_in_private(any_platform):
    platform = any_platform
    chat = platform.new_group()
    cid = chat["id"]

    _, said = command(platform, cid, "carol", "/save rules Be nice")
    assert said == REFUSED
    _, said = command(platform, cid, "alice", "/save bad!name text")
    assert said == "A note's name is 1 to 64 letters, digits, _ or - (no spaces)."
    _, said = command(platform, cid, "alice", "/save empty")
    assert said.startswith("Use /save <name> <text>")
    assert notes_in_core(platform, chat) == []
    _, said = command(platform, cid, "alice",
                      "/save rules Be <b>nice</b>, {first} of {chatname}! {rules} "
                      "[Site](buttonurl://https://example.com)",
                      html=True)
    assert said == "Saved note rules. Get it with /get rules or #rules."

    # A photo with a caption and a URL button (posted through an inline bot), kept by reply.
    logo = platform.telegram.send_message(cid, "dave", photo=True, caption="Our <b>logo</b>", parse_mode="HTML",
                                          via_bot=BOT, reply_markup={"inline_keyboard": [
                                              [{"text": "Shop", "url": "https://shop.example"}]]})
    _, said = command(platform, cid, "bob_mod", "/save #Logo", reply_to=logo["message_id"])
    assert said == "Saved note logo. Get it with /get logo or #logo."
    [stored] = [n for n in notes_in_core(platform, chat) if n["name"] == "logo"]
    assert (stored["media_type"], stored["media_file_id"], stored["text"], stored["buttons"]) == (
        "photo", logo["photo"][-1]["file_id"], "Our <b>logo</b>", [[{"text": "Shop", "url": "https://shop.example"}]])

    answer = answer_to(platform, cid, platform.telegram.send_message(cid, "carol", "#logo"))
    assert answer["photo"][-1]["file_id"] == logo["photo"][-1]["file_id"]
    assert answer["caption"] == "Our logo" and {"type": "bold", "offset": 4, "length": 4} in \
        answer["caption_entities"]
    assert answer["reply_markup"]["inline_keyboard"] == [[{"text": "Shop", "url": "https://shop.example"}]]

    asked, said = command(platform, cid, "dave", "/get rules")
    assert said == f"Be nice, Dave of {chat['title']}!"
    [got] = answers_to(platform, cid, asked)
    rules_button = [{"text": "Rules", "url": f"https://t.me/sandbox_mod_bot?start=rules_{cid}"}]
    assert got["reply_markup"]["inline_keyboard"] == [[{"text": "Site", "url": "https://example.com"}], rules_button]
    _, said = command(platform, cid, "dave", "/get rules noformat")
    assert said == "Be <b>nice</b>, {first} of {chatname}! {rules}\n[Site](buttonurl://https://example.com)"
    _, said = command(platform, cid, "dave", "/get nothing")
    assert said == "There is no note called nothing here. /notes lists them."
    # #name in reply to someone answers that message.
    question = platform.telegram.send_message(cid, "carol", "what are the rules?")
    platform.telegram.send_message(cid, "alice", "#rules", reply_to=question["message_id"])
    assert answer_to(platform, cid, question)["text"] == f"Be nice, Alice of {chat['title']}!"

    _, listed = command(platform, cid, "carol", "/notes")
    assert listed.splitlines()[:3] == [f"Notes in {chat['title']}:", "- #logo", "- #rules"]

    # Private notes: a button to the bot's private chat, which answers members only.
    _, said = command(platform, cid, "carol", "/privatenotes on")
    assert said == REFUSED
    _, said = command(platform, cid, "alice", "/privatenotes on")
    assert said == "Sending notes in private: on."
    private = answer_to(platform, cid, platform.telegram.send_message(cid, "dave", "#rules"))
    assert private["text"] == "Tap here to view rules in your private chat."
    [[button]] = private["reply_markup"]["inline_keyboard"]
    assert button["url"] == f"https://t.me/sandbox_mod_bot?start=note_{cid}_rules"
    platform.telegram.start_bot("dave")
    platform.telegram.send_message(BOT, "dave", f"/start note_{cid}_rules")
    in_private = platform.wait_for(lambda: next((m for m in bot_messages(platform, BOT, 0, user="dave")
                                                 if m.get("text", "").startswith("Be nice")), None),
                                   "the note in private")
    assert in_private["text"] == f"Be nice, Dave of {chat['title']}!"
    assert in_private["reply_markup"]["inline_keyboard"][1] == rules_button  # the group's rules, not the private chat's
    outsider = f"outsider_{cid % 100000}"
    platform.telegram.create_user("Outsider", username=outsider)
    platform.telegram.start_bot(outsider)
    platform.telegram.send_message(BOT, outsider, f"/start note_{cid}_rules")
    platform.wait_for(lambda: any(m.get("text") == "Notes are for the group's members."
                                  for m in bot_messages(platform, BOT, 0, user=outsider)), "the outsider refused")
    assert not any(m.get("text", "").startswith("Be nice") for m in bot_messages(platform, BOT, 0, user=outsider))

    _, said = command(platform, cid, "spammer", "/clear rules")  # (carol has used up her refusals for a while)
    assert said == REFUSED
    _, said = command(platform, cid, "alice", "/clear rules")
    assert said == "Note rules removed."
    _, said = command(platform, cid, "dave", "/get rules")
    assert said == "There is no note called rules here. /notes lists them."

    ask, _ = command(platform, cid, "alice", "/clearall")
    [confirm] = [m for m in bot_messages(platform, cid, ask["message_id"]) if "reply_markup" in m]
    cancel = confirm["reply_markup"]["inline_keyboard"][1][0]["callback_data"]
    platform.telegram.press_button(cid, confirm["message_id"], "alice", cancel)
    platform.wait_for(lambda: next(m for m in platform.telegram.messages(cid) if m["message_id"] ==
                                   confirm["message_id"])["text"] == "Removing all notes has been cancelled.",
                      "the confirmation cancelled")
    assert [n["name"] for n in notes_in_core(platform, chat)] == ["logo"]
    ask, _ = command(platform, cid, "alice", "/clearall")
    [confirm] = [m for m in bot_messages(platform, cid, ask["message_id"]) if "reply_markup" in m]
    platform.telegram.press_button(cid, confirm["message_id"], "alice",
                                   confirm["reply_markup"]["inline_keyboard"][0][0]["callback_data"])
    platform.wait_for(lambda: notes_in_core(platform, chat) == [], "every note removed")
    _, listed = command(platform, cid, "dave", "/notes")
    assert listed == f"No notes in {chat['title']}! /save <name> <text> saves one."
