"""Notes' pure parts: names, #name requests, the private note's deep link, rendering (placeholders as welcome, the
raw form of /get noformat)."""

import pytest
from telegram import User

from apps.botgateway.parsing import UsageError
from apps.botgateway.protection.notes import hashtag_request, note_name
from apps.botgateway.protection.saved_replies import button_markup, note_link, render

EVE = User(7000001, "Eve <3", is_bot=False, last_name="O'Hara", username="eve")


def test_note_names_are_lowercased_with_a_leading_hash_allowed():
    assert note_name("#Rules") == "rules"
    assert note_name("faq-2_x") == "faq-2_x"
    for bad in ("", "#", "two words", "é", "x" * 65):
        with pytest.raises(UsageError):
            note_name(bad)


@pytest.mark.parametrize(("text", "asked"), [
    ("#rules", ("rules", False)),
    ("#Rules please", ("rules", False)),
    ("#rules noformat", ("rules", True)),
    ("#rules NOFORMAT x", ("rules", True)),
    ("# rules", None),
    ("hi #rules", None),
    ("#", None),
    ("#no.dots", None),
])
def test_a_hashtag_request(text, asked):
    assert hashtag_request(text) == asked


def test_the_private_note_link_fits_telegrams_start_parameter():
    assert note_link("sandbox_mod_bot", -1002000000001, "rules") == \
        "https://t.me/sandbox_mod_bot?start=note_-1002000000001_rules"
    longest = 64 - len("note_-1002000000001_")
    assert note_link("b", -1002000000001, "x" * longest) is not None
    assert note_link("b", -1002000000001, "x" * (longest + 1)) is None  # sent in the group instead
    assert note_link(None, -1, "rules") is None


def test_render_fills_placeholders_for_the_member_and_adds_the_rules_button_after_saved_buttons():
    saved = {"text": "Hi <b>{first}</b> {username} of {chatname}, {count} here {nope}\n{rules}",
             "buttons": [[{"text": "Site", "url": "https://e.com"}, {"text": "Chat", "url": "https://t.me/c"}]]}
    rendered = render(saved, user=EVE, chat_id=-100123, chat_title="Cats & Dogs", bot_username="bot", count=12)
    assert rendered.text == "Hi <b>Eve &lt;3</b> @eve of Cats &amp; Dogs, 12 here {nope}"
    rows = [[(b.text, b.url) for b in row] for row in rendered.markup.inline_keyboard]
    assert rows == [[("Site", "https://e.com"), ("Chat", "https://t.me/c")],
                    [("Rules", "https://t.me/bot?start=rules_-100123")]]
    assert rendered.parse_mode == "HTML"


def test_noformat_shows_the_note_as_saved_with_its_buttons_in_rose_syntax():
    saved = {"text": "Hi <b>{first}</b>", "buttons": [[{"text": "A", "url": "https://a"}, {"text": "B", "url":
                                                                                         "https://b"}],
                                                      [{"text": "C", "url": "tg://c"}]]}
    rendered = render(saved, user=EVE, chat_id=-1, chat_title="G", bot_username="bot", noformat=True)
    assert rendered.text == ("Hi <b>{first}</b>\n[A](buttonurl://https://a)\n[B](buttonurl://https://b:same)\n"
                             "[C](buttonurl://tg://c)")
    assert rendered.markup is None and rendered.parse_mode is None
    assert button_markup([]) == ""


def test_without_a_member_nothing_is_filled_in():
    rendered = render({"text": "{first}"}, user=None, chat_id=-1, chat_title="G", bot_username=None)
    assert rendered.text == "{first}" and rendered.markup is None
