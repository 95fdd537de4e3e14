"""Properties of the content rules engine: it never raises on whatever JSON a message may hold, its blocklist
agrees with a plain regular-expression reading of Rose's rules (on small inputs, where backtracking is harmless),
its two finders agree, and its cost stays linear in the text on adversarial patterns and texts."""

import itertools
import re
import time

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from apps.common.contentrules import LOCK_TYPES, compile_rules, normalize, parse_buttons, pattern_problems
from apps.common.contentrules.blocklist import MAX_TEXT, MAX_WORK, Blocklist

MESSAGE_KEYS = ["message_id", "from", "chat", "date", "text", "caption", "entities", "caption_entities", "photo",
                "video", "animation", "sticker", "audio", "voice", "video_note", "document", "poll", "contact",
                "location", "venue", "game", "dice", "story", "forward_origin", "forward_from", "forward_from_chat",
                "forward_sender_name", "via_bot", "reply_markup", "new_chat_members", "sender_chat",
                "is_automatic_forward", "link_preview_options", "edit_date", "type", "offset", "length", "url",
                "inline_keyboard", "is_bot", "id", "question", "options", "sender_user", "title", "custom_emoji_id"]
SCALARS = (st.none() | st.booleans() | st.integers(min_value=-2**63, max_value=2**63) | st.floats()
           | st.text(max_size=40) | st.sampled_from(["url", "text_link", "bot_command", "custom_emoji", "email",
                                                      "phone_number", "user", "channel", "chat", "hidden_user",
                                                      "https://t.me/+abcDEF123", "\U0001f600", "\u0645"]))
JSON = st.recursive(SCALARS, lambda children: st.lists(children, max_size=4)
                    | st.dictionaries(st.sampled_from(MESSAGE_KEYS) | st.text(max_size=8), children, max_size=6),
                    max_leaves=15)
MESSAGES = st.dictionaries(st.sampled_from(MESSAGE_KEYS) | st.text(max_size=10), JSON, max_size=12)

RULES = compile_rules({
    "locks": {lock_type: {"mode": "delete"} for lock_type in LOCK_TYPES},
    "blocklist": [{"pattern": pattern} for pattern in ("spam", "buy*now", "f?ck", "*.ru", "\u0441\u043f\u0430\u043c")],
    "blocklist_joiner_names": True,
    "filters": [{"trigger": "hi", "match": "word"}, {"trigger": "/x", "match": "prefix"},
                {"trigger": "y", "match": "exact"}],
    "notes": ["rules"]})
NO_ALL = compile_rules({"locks": {lock_type: {"mode": "delete"} for lock_type in LOCK_TYPES[1:]},
                        "blocklist": [{"pattern": "spam"}]})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(MESSAGES)
def test_evaluate_and_explain_never_raise(payload):
    for rules in (RULES, NO_ALL):
        verdict = rules.evaluate(payload)
        assert verdict is None or verdict.rule in ("locks", "blocklist")
        rules.evaluate(payload, edited=True)
        explained = rules.explain(payload)
        assert set(explained) == {"verdict", "locks", "blocklist", "filter", "note"}
    for text in (payload.get("text"), payload.get("caption")):
        RULES.match_filter(text)
        RULES.note_request(text)
        RULES.match_name(text)


@settings(max_examples=100, deadline=None)
@given(JSON)
def test_compile_rules_never_raises_on_any_settings(value):
    for settings_wire in (value, {"locks": value}, {"blocklist": value}, {"filters": value}, {"notes": value},
                          {"blocklist": [value]}, {"filters": [value]}, {"locks": {"sticker": value}}):
        rules = compile_rules(settings_wire)
        rules.evaluate({"text": "spam", "sticker": {}})


@given(st.text(max_size=200))
def test_text_helpers_never_raise(text):
    normalized = normalize(text)
    assert normalize(normalized) == normalized
    assert "  " not in normalized and normalized == normalized.strip()
    pattern_problems(text)
    parse_buttons(text)


# -- the blocklist against a plain regex reading of Rose's rules

ALPHABET = "ab_1. "


def oracle(pattern: str, text: str) -> bool:
    """Rose's rules as one regex (fine on short texts): * = [^ ]*, ? = [^ ], whole words unless a * at that end."""
    pattern, text = normalize(pattern), normalize(text)
    parts, index = [], 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\" and index + 1 < len(pattern):
            parts.append(re.escape(pattern[index + 1]))
            index += 2
            continue
        parts.append("[^ ]*" if char == "*" else "[^ ]" if char == "?" else re.escape(char))
        index += 1
    edge = r"(?:(?<!\w)|(?!\w))"
    body = "".join(parts)
    expression = ("" if pattern.startswith("*") else edge) + body + ("" if pattern.endswith("*") and not
                                                                    pattern.endswith("\\*") else r"(?:(?<!\w)|(?!\w))")
    return re.search(expression, text) is not None


def patterns(alphabet: str):
    return st.text(alphabet=alphabet + "*?", min_size=1, max_size=7).filter(lambda pattern: not
                                                                         pattern_problems(pattern))


# a wide alphabet (boundaries: letters, digits, "_", punctuation) and a narrow one (many overlaps and near misses)
CASES = (st.tuples(st.lists(patterns(ALPHABET), min_size=1, max_size=6), st.text(alphabet=ALPHABET, max_size=24))
         | st.tuples(st.lists(patterns("ab "), min_size=1, max_size=6), st.text(alphabet="ab ", max_size=16))
         | st.tuples(st.lists(st.text(alphabet="ab *?", min_size=1, max_size=4).filter(
             lambda pattern: not pattern_problems(pattern)), min_size=1, max_size=3), st.text(alphabet="ab ",
                                                                                              max_size=6)))


@settings(max_examples=500, deadline=None)
@given(CASES)
@example((["a?b", "b?a", "a*?b"], "a b a"))
@example((["?a", "a?", "a ?"], " a a"))
@example((["a*b", "*a b*", "a b?"], "aa bb"))
def test_the_blocklist_agrees_with_the_regex_reading(case):
    patterns, text = case
    entries = [{"pattern": pattern} for pattern in patterns]
    expected = []
    for pattern in patterns:
        if oracle(pattern, text) and normalize(pattern) not in [normalize(done) for done in expected]:
            expected.append(pattern)
    for engine in ("automaton", "regex"):
        blocklist = Blocklist(entries, engine=engine)
        matched = [found.pattern for found in blocklist.all(normalize(text))]
        assert matched == expected, (engine, patterns, text)
        first = blocklist.first(normalize(text))
        assert (first is None) == (not expected)
        assert first is None or first.pattern in expected


# -- linear cost on adversarial input

ADVERSARIAL = ["a*a*a*a*b", "*a?a*a*a", "a?a?a?a?a?a?b", "*a*", "a a a a b", "aa*aa*aa*aab", "*a*a*a*a*",
               "a*b", "?a*", "b*a a*a", "a", "aa", "aaa", "aaaa", "a a"]
TEXTS = [lambda n: "a" * n, lambda n: "a " * (n // 2), lambda n: "ab" * (n // 2), lambda n: "aab " * (n // 4),
         lambda n: ("a" * 63 + " ") * (n // 64)]


def test_adversarial_patterns_and_texts_cost_linear_work():
    """The work (anchor hits seen plus verification steps) grows with the text at most linearly, and never past the
    bound; the time follows (checked loosely: the machine may be loaded)."""
    entries = [{"pattern": pattern} for pattern in ADVERSARIAL]
    for engine in ("automaton", "regex"):
        blocklist = Blocklist(entries, engine=engine)
        for make in TEXTS:
            works = [blocklist.scan(normalize(make(size)))[1] for size in (64, 128, 256, 512)]
            for smaller, larger in itertools.pairwise(works):
                assert larger <= 2.2 * smaller + 64, (engine, make(8), works)
            started = time.process_time()
            blocklist.all(normalize(make(4096)))
            blocklist.first(normalize(make(4096)))
            assert time.process_time() - started < 0.25, (engine, make(8))
            assert blocklist.scan(normalize(make(MAX_TEXT)))[1] <= MAX_WORK


def test_thousands_of_overlapping_entries_on_a_built_text_stay_bounded():
    """Entries made to overlap everywhere in a text made of them: the work bound bounds the time."""
    entries = [{"pattern": "a" * length} for length in range(1, 101)] + [
        {"pattern": f"*{'a' * length}*b"} for length in range(1, 101)] + [
        {"pattern": f"a*{'a' * length}?b"} for length in range(1, 101)]
    blocklist = Blocklist(entries)
    started = time.process_time()
    assert blocklist.scan("a" * 4096)[1] == MAX_WORK
    blocklist.first("a" * 4096 + "b")
    assert time.process_time() - started < 0.5


def test_text_past_the_bound_is_not_searched():
    blocklist = Blocklist([{"pattern": "spam"}])
    assert blocklist.first("x " * (MAX_TEXT // 2 - 4) + "spam").pattern == "spam"
    assert blocklist.first("x " * (MAX_TEXT // 2) + "spam") is None


# -- the hot path's lock check against the plain one (explain's), on realistic messages mixed together

def realistic_messages():
    from tests.common.test_contentrules import CASES

    payloads = [payload for payload, _kinds in CASES.values()]
    return st.lists(st.sampled_from(payloads), min_size=1, max_size=3).map(
        lambda chosen: {key: value for payload in chosen for key, value in payload.items()}) | MESSAGES


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sets(st.sampled_from(LOCK_TYPES), min_size=1), realistic_messages(), st.booleans())
def test_evaluate_names_the_first_lock_that_explain_lists(locked, payload, edited):
    rules = compile_rules({"locks": {lock_type: {"mode": "warn"} for lock_type in locked}})
    verdict = rules.evaluate(payload, edited=edited)
    applying = rules.explain(payload)["locks"]
    assert (verdict.kind if verdict else None) == (applying[0] if applying else None)
