"""Reading /filter and /stop as Rose does (a word, "a phrase", prefix:/exact:, several as a list), and reading a
saved reply off a command and the message it replies to (its HTML, media by file id, URL buttons)."""

from datetime import UTC, datetime

import pytest
from telegram import (
    Animation,
    Chat,
    Document,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    MessageEntity,
    PhotoSize,
    Sticker,
    User,
)

from apps.botgateway.parsing import UsageError
from apps.botgateway.protection.filters import TriggerSyntax, describe, parse_triggers
from apps.botgateway.protection.saved_replies import html_from, media_of, saved_reply_of

CHAT = Chat(-100123, Chat.SUPERGROUP, title="Group")
ALICE = User(2000001, "Alice", is_bot=False)
NOW = datetime.now(UTC)


@pytest.mark.parametrize(("text", "triggers", "rest"), [
    ("/filter puppies I love puppies!", [("puppies", "word")], "I love puppies!"),
    ('/filter "I love dogs" I love dogs too!', [("I love dogs", "word")], "I love dogs too!"),
    ("/filter@sandbox_mod_bot hi there", [("hi", "word")], "there"),
    ("/filter “smart  quotes” ok", [("smart quotes", "word")], "ok"),
    ("/filter prefix:!help Read the pins", [("!help", "prefix")], "Read the pins"),
    ("/filter EXACT:hi hello", [("hi", "exact")], "hello"),
    ('/filter prefix:"good morning" sun', [("good morning", "prefix")], "sun"),
    ('/filter "exact:good night" moon', [("good night", "exact")], "moon"),
    ('/filter (hi, "good morning", prefix:hey) Hello there', [("hi", "word"), ("good morning", "word"),
                                                             ("hey", "prefix")], "Hello there"),
    ("/filter (a,b ,a) x", [("a", "word"), ("b", "word")], "x"),
    ("/filter (Hi, hi) x", [("Hi", "word")], "x"),  # the same trigger twice: once, as first typed
    ("/filter cat", [("cat", "word")], ""),
])
def test_triggers_and_where_the_reply_starts(text, triggers, rest):
    parsed, start = parse_triggers(text)
    assert parsed == triggers
    assert text[start:].strip() == rest


@pytest.mark.parametrize("text", ["/filter", "/filter   ", '/filter "no end', "/filter (a, b", "/filter ()",
                                  '/filter "" x', "/filter prefix: x"])
def test_no_trigger_is_a_usage_error(text):
    with pytest.raises(TriggerSyntax):
        parse_triggers(text)


def test_a_trigger_is_shown_as_it_would_be_typed():
    assert describe("hi", "word") == "hi"
    assert describe("good morning", "word") == '"good morning"'
    assert describe("good morning", "prefix") == 'prefix:"good morning"'
    assert describe("hi", "exact") == "exact:hi"


def message(text, *, entities=(), reply_to=None, **content) -> Message:
    return Message(10, NOW, CHAT, from_user=ALICE, text=text, entities=list(entities), reply_to_message=reply_to,
                   **content)


def test_the_reply_keeps_its_formatting_and_entities_are_cut_where_the_text_is():
    text = "/filter hi 👋 Hello <there> friend"
    bold_start = text.index("Hello")
    utf16 = len(text[:bold_start].encode("utf-16-le")) // 2
    entities = [MessageEntity("bot_command", 0, 7), MessageEntity("bold", utf16, 5),
                MessageEntity("italic", 8, 6)]  # "hi 👋 " spans the cut
    msg = message(text, entities=entities)
    _, start = parse_triggers(text)
    assert html_from(msg, start) == "<i>👋 </i><b>Hello</b> &lt;there&gt; friend"
    assert html_from(msg, len(text)) == ""


def test_media_of_a_message_takes_the_largest_photo_and_a_gif_before_its_document():
    photo = message(None, photo=[PhotoSize("small", "s1", 90, 90), PhotoSize("large", "s2", 800, 800)])
    assert media_of(photo) == ("photo", "large")
    gif = message(None, animation=Animation("gif-id", "g", 1, 1, 1), document=Document("gif-id", "g"))
    assert media_of(gif) == ("animation", "gif-id")
    assert media_of(message("plain")) is None


def test_a_reply_to_a_sticker_with_buttons_is_saved_by_file_id_with_its_url_buttons():
    sticker = Sticker("sticker-id", "st", 512, 512, False, False, Sticker.REGULAR)
    buttons = InlineKeyboardMarkup([[InlineKeyboardButton("Site", url="https://example.com"),
                                     InlineKeyboardButton("Press", callback_data="x")]])
    replied = message(None, sticker=sticker, reply_markup=buttons)
    saved = saved_reply_of(message("/filter hi", reply_to=replied), "", "usage")
    assert (saved.media_type, saved.media_file_id, saved.text) == ("sticker", "sticker-id", "")
    assert saved.buttons == [[{"text": "Site", "url": "https://example.com"}]]  # callback buttons can't be resent


def test_a_reply_to_a_captioned_photo_takes_the_caption_as_html_unless_the_command_gives_text():
    replied = Message(5, NOW, CHAT, from_user=ALICE, photo=[PhotoSize("p", "p", 9, 9)], caption="Look here",
                      caption_entities=[MessageEntity("bold", 0, 4)])
    saved = saved_reply_of(message("/save cat", reply_to=replied), "", "usage")
    assert (saved.media_type, saved.media_file_id, saved.text) == ("photo", "p", "<b>Look</b> here")
    own = saved_reply_of(message("/save cat Mine", reply_to=replied), "Mine", "usage")
    assert own.text == "Mine" and own.media_file_id == "p"


def test_rose_button_syntax_becomes_buttons_with_their_html_escapes_undone():
    saved = saved_reply_of(message("/filter x"), "Read [Rules](buttonurl://https://e.com/?a=1&amp;b=2) "
                                                 "[Chat](buttonurl://https://t.me/chat:same)", "usage")
    assert saved.text == "Read"
    assert saved.buttons == [[{"text": "Rules", "url": "https://e.com/?a=1&b=2"},
                              {"text": "Chat", "url": "https://t.me/chat"}]]


def test_a_note_button_opens_that_note_in_a_private_chat_with_the_bot():
    saved = saved_reply_of(message("/save menu"), "Pick one [Rules](buttonurl://#Rules) [FAQ](buttonurl:#faq:same) "
                                                  "[Far](buttonurl://#" + "x" * 60 + ")", "usage",
                           bot_username="sandbox_mod_bot")
    assert saved.buttons == [[{"text": "Rules", "url": "https://t.me/sandbox_mod_bot?start=note_-100123_rules"},
                              {"text": "FAQ", "url": "https://t.me/sandbox_mod_bot?start=note_-100123_faq"}]]
    assert saved.text.split() == ["Pick", "one", "[Far](buttonurl://#" + "x" * 60 + ")"]  # too long: left as typed


@pytest.mark.parametrize(("own", "problem"), [
    ("", "usage"),
    ("<b>open", "never closed"),
    ("x" * 4097, "at most 4096"),
    ("[Only](buttonurl://https://e.com)", "need some text"),
])
def test_what_cannot_be_saved_is_refused_with_why(own, problem):
    with pytest.raises(UsageError, match=problem):
        saved_reply_of(message("/filter x"), own, "usage")


def test_a_caption_is_held_to_telegrams_1024():
    replied = message(None, photo=[PhotoSize("p", "p", 9, 9)])
    with pytest.raises(UsageError, match="at most 1024"):
        saved_reply_of(message("/save x", reply_to=replied), "y" * 1025, "usage")
