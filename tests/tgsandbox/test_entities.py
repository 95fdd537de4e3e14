"""Message text the way Telegram computes it (no server needed)."""

import pytest

from tgsandbox.entities import detect_entities, entity_text, utf16_len
from tgsandbox.errors import BotApiError
from tgsandbox.markup import render_text


def test_offsets_are_utf16_code_units():
    text, entities = render_text("😀 <b>bold</b> 👍🏽 /ban", "HTML", None)
    assert text == "😀 bold 👍🏽 /ban"
    assert entities == [{"offset": 3, "length": 4, "type": "bold"},
                        {"offset": 13, "length": 4, "type": "bot_command"}]
    assert utf16_len("👍🏽") == 4
    assert entity_text(text, entities[1]) == "/ban"


def test_html_nesting_links_pre_and_entities():
    text, entities = render_text(
        '<b>a <i>b</i></b> <a href="tg://user?id=42">Bob</a> <pre><code class="language-python">x &lt; 1'
        "</code></pre> &amp; &#128512; &nbsp;", "html", None)
    assert text == "a b Bob x < 1 & 😀 &nbsp;"
    kinds = [(e["type"], entity_text(text, e)) for e in entities]
    assert kinds == [("bold", "a b"), ("italic", "b"), ("text_mention", "Bob"), ("pre", "x < 1")]
    assert entities[2]["user"]["id"] == 42 and entities[3]["language"] == "python"


@pytest.mark.parametrize(("source", "error"), [
    ("<b>x", 'Can\'t find end tag corresponding to start tag "b"'),
    ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
    ("é</b>", "Unexpected end tag at byte offset 2"),
    ("<span>x</span>", 'Unsupported start tag "span" at byte offset 0'),
])
def test_html_errors(source, error):
    with pytest.raises(BotApiError) as raised:
        render_text(source, "HTML", None)
    assert raised.value.description == f"Bad Request: can't parse entities: {error}"


def test_markdown_v2():
    text, entities = render_text(r"*bold _both_* __u__ ~s~ ||spoiler|| `a\`b` [site](https://x.org/a\)b) 1\.5\!",
                                 "MarkdownV2", None)
    assert text == "bold both u s spoiler a`b site 1.5!"
    assert [(e["type"], entity_text(text, e)) for e in entities] == [
        ("bold", "bold both"), ("italic", "both"), ("underline", "u"), ("strikethrough", "s"),
        ("spoiler", "spoiler"), ("code", "a`b"), ("text_link", "site")]
    assert entities[-1]["url"] == "https://x.org/a)b"
    pre_text, pre = render_text("```python\nprint(1)\n```", "MarkdownV2", None)
    assert (pre_text, pre[0]["type"], pre[0]["language"]) == ("print(1)", "pre", "python")


@pytest.mark.parametrize(("source", "error"), [
    ("Banned for 1.5 hours", "Character '.' is reserved and must be escaped with the preceding '\\'"),
    ("(reason)", "Character '(' is reserved and must be escaped with the preceding '\\'"),
    ("*bold", "Can't find end of Bold entity at byte offset 0"),
    ("ok `code", "Can't find end of Code entity at byte offset 3"),
])
def test_markdown_v2_errors(source, error):
    with pytest.raises(BotApiError) as raised:
        render_text(source, "MarkdownV2", None)
    assert raised.value.description == f"Bad Request: can't parse entities: {error}"


def test_legacy_markdown_and_explicit_entities_and_trimming():
    assert render_text("*b* _i_ [l](http://a.b)", "Markdown", None)[0] == "b i l"
    with pytest.raises(BotApiError, match="Can't find end of the entity starting at byte offset 0"):
        render_text("*open", "Markdown", None)
    text, entities = render_text("  hi there  ", None, [{"type": "bold", "offset": 2, "length": 2}])
    assert (text, entities) == ("hi there", [{"type": "bold", "offset": 0, "length": 2}])
    with pytest.raises(BotApiError, match="unsupported parse_mode"):
        render_text("x", "BBCode", None)


def test_server_detected_entities():
    found = detect_entities("/ban@sandbox_mod_bot @spammer see https://t.me/x #rules $USD mail@example.org")
    assert [e["type"] for e in found] == ["bot_command", "mention", "url", "hashtag", "cashtag", "email"]
    assert detect_entities("a/b @ab #123 path/to/x") == []
    _, entities = render_text("<code>/not_a_command</code> /yes", "HTML", None)
    assert [e["type"] for e in entities] == ["code", "bot_command"]
