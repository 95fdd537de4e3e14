"""Welcome/goodbye templates: Rose's placeholders on Telegram's HTML, checked against the sandbox's parser (the
same rules as Telegram's: what the validator passes, the parser accepts, and what it refuses, the parser refuses)."""

import pytest

from apps.common.welcome import (
    DEFAULT_WELCOME,
    GreetingButton,
    GreetingMember,
    greeting_problems,
    html_problems,
    render_greeting,
    unknown_placeholders,
)
from tgsandbox.errors import BotApiError
from tgsandbox.markup import parse_html

ALICE = GreetingMember(id=42, first_name="Al<i>ce", last_name="B&B", username="alice_b")
NO_USERNAME = GreetingMember(id=7, first_name="Bob")


def test_each_placeholder_is_filled_and_names_are_escaped():
    rendered = render_greeting("{first}|{last}|{fullname}|{username}|{mention}|{id}|{chatname}|{count}",
                               member=ALICE, chat_title="Cats & <Dogs>", count=12)
    assert rendered.text == ('Al&lt;i&gt;ce|B&amp;B|Al&lt;i&gt;ce B&amp;B|@alice_b|'
                             '<a href="tg://user?id=42">Al&lt;i&gt;ce</a>|42|Cats &amp; &lt;Dogs&gt;|12')
    assert rendered.buttons == ()
    text, entities = parse_html(rendered.text)
    assert text.startswith("Al<i>ce|B&B|")
    assert {"type": "text_mention"}.items() <= entities[0].items()


def test_username_falls_back_to_a_mention():
    assert render_greeting("hi {username}", member=NO_USERNAME, chat_title="g").text == (
        'hi <a href="tg://user?id=7">Bob</a>')


def test_template_html_kept_unknown_left_escapes_and_default():
    rendered = render_greeting("<b>{first}</b> {nope} {{first}} }} {count}", member=NO_USERNAME, chat_title="g")
    assert rendered.text == "<b>Bob</b> {nope} {first} } {count}"
    assert render_greeting(DEFAULT_WELCOME, member=NO_USERNAME, chat_title="g").text == "Hey Bob, how are you?"


def test_rules_is_a_button_not_text():
    rendered = render_greeting("Welcome {first}!\n{rules}", member=NO_USERNAME, chat_title="g",
                               rules_url="https://t.me/bot?start=rules_-100123")
    assert rendered.text == "Welcome Bob!"
    assert rendered.buttons == (GreetingButton("Rules", "https://t.me/bot?start=rules_-100123"),)
    assert render_greeting("{rules}{rules} x", member=NO_USERNAME, chat_title="g").buttons == (
        GreetingButton("Rules", None),)


@pytest.mark.parametrize("template", [
    "<b>bold", "</b>", "<b><i>x</b></i>", "a <3 b", "<div>x</div>", "<span>x</span>", "x < y",
])
def test_refused_html_is_refused_by_telegram_too(template):
    assert html_problems(template)
    with pytest.raises(BotApiError, match="can't parse entities"):
        parse_html(template)


@pytest.mark.parametrize("template", [
    "<b>x</b> <i>y</i> <a href='https://e.org'>z</a> &lt;3", "<span class=\"tg-spoiler\">s</span>",
    "<pre><code class=\"language-py\">x</code></pre>", "<b>a</>", "{first} & co",
])
def test_accepted_html_is_accepted_by_telegram(template):
    assert html_problems(template) == []
    parse_html(template)


def test_greeting_problems_name_unknown_placeholders_once():
    assert unknown_placeholders("{frist} {frist} {first} {{x}} {chat}") == ["frist", "chat"]
    problems = greeting_problems("<b>{frist}")
    assert problems[0] == "<b> is never closed: add </b>."
    assert "Unknown placeholder {frist}" in problems[1] and "{{ and }}" in problems[1]
    assert greeting_problems("Hey {first}, rules: {rules}") == []
    assert "4096" in greeting_problems("x" * 4097)[0]
