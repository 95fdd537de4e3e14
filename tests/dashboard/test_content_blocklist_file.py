"""The blocklist as a text file (apps/dashboard/blocklist_file.py): what the dashboard exports, imports and reads from
its bulk paste. Every entry survives the round trip; a line it cannot read is named with its number and why."""

import pytest

from apps.dashboard import blocklist_file


def test_the_three_line_shapes_comments_and_blank_lines():
    entries, problems = blocklist_file.parse(
        "# a comment\n\nbuy*now\n  spam | ban  \nscam link | tban 1d | no scams\nfree crypto | | crypto spam\n")
    assert problems == []
    assert entries == [
        {"pattern": "buy*now"},
        {"pattern": "spam", "mode": "ban"},
        {"pattern": "scam link", "mode": "tban", "duration_seconds": 86400, "reason": "no scams"},
        {"pattern": "free crypto", "reason": "crypto spam"},  # an empty mode: the group's
    ]


def test_the_reason_keeps_its_bars_and_a_pattern_its_escaped_ones():
    entries, problems = blocklist_file.parse("a\\|b | warn | one | two\n\\#tag\nback\\\\slash\n")
    assert problems == []
    assert entries == [{"pattern": "a|b", "mode": "warn", "reason": "one | two"}, {"pattern": "#tag"},
                       {"pattern": "back\\slash"}]


@pytest.mark.parametrize(("line", "problem"), [
    ("x | nope", 'unknown mode "nope"'),
    ("x | tmute", "tmute needs a length"),
    ("x | tban forever", '"forever" is not a length'),
    ("x | tban 10s", "30 seconds to 366 days"),
    ("x | tban 400d", "30 seconds to 366 days"),
    ("x | ban 1d", "ban takes no length"),
    (" | ban", "no pattern"),
    ("x | ban | " + "r" * 513, "longer than 512"),
])
def test_a_line_it_cannot_read_is_named_with_its_number(line, problem):
    entries, problems = blocklist_file.parse(f"fine\n{line}\nalso fine\n")
    assert [entry["pattern"] for entry in entries] == ["fine", "also fine"]
    (found,) = problems
    assert found.line == 2 and problem in found.problem, found
    assert str(found).startswith("Line 2: ")


def test_lengths():
    assert [blocklist_file.parse_length(text) for text in ("90", "90s", "30m", "2h", "1d", "1W", "1y", "", "m")] == [
        90, 90, 1800, 7200, 86400, 604800, None, None, None]
    assert [blocklist_file.format_length(s) for s in (90, 1800, 7200, 86400, 1209600)] == [
        "90s", "30m", "2h", "1d", "2w"]


def test_a_default_mode_for_the_lines_without_one_and_a_length_only_for_timed_modes():
    entries, _ = blocklist_file.parse("a\nb | ban\n", default_mode="tmute", default_duration=3600)
    assert entries == [{"pattern": "a", "mode": "tmute", "duration_seconds": 3600}, {"pattern": "b", "mode": "ban"}]
    entries, _ = blocklist_file.parse("a\n", default_mode="warn", default_duration=3600)
    assert entries == [{"pattern": "a", "mode": "warn"}]  # core refuses a length with a mode that reads none


def test_a_pattern_given_twice_counts_once_the_last_line_winning():
    entries, _ = blocklist_file.parse("spam | warn\nspam | ban\n")
    assert entries == [{"pattern": "spam", "mode": "ban"}]


def test_more_entries_than_a_group_holds_is_a_problem():
    _, problems = blocklist_file.parse("\n".join(f"word{i}" for i in range(blocklist_file.MAX_LINES + 1)))
    assert [problem.problem for problem in problems] == ["5001 entries: at most 5000 at once"]


def test_every_entry_survives_the_round_trip():
    items = [
        {"id": "1", "pattern": "buy*now", "mode": None, "duration_seconds": None, "reason": ""},
        {"id": "2", "pattern": "a|b", "mode": "tban", "duration_seconds": 172800, "reason": "no | scams"},
        {"id": "3", "pattern": "#hashtag", "mode": "warn", "duration_seconds": None, "reason": ""},
        {"id": "4", "pattern": "back\\slash", "mode": None, "duration_seconds": None, "reason": "why"},
        {"id": "5", "pattern": "Ünïcödé wörd", "mode": "tmute", "duration_seconds": 90, "reason": "line\nbreak"},
    ]
    text = blocklist_file.export(items, title="My group")
    assert text.startswith("# Blocklist of My group: 5 entries.\n")
    entries, problems = blocklist_file.parse(text)
    assert problems == []
    expected = []
    for item in items:
        entry = {"pattern": item["pattern"]}
        if item["mode"]:
            entry["mode"] = item["mode"]
        if item["duration_seconds"]:
            entry["duration_seconds"] = item["duration_seconds"]
        if item["reason"]:
            entry["reason"] = item["reason"].replace("\n", " ")
        expected.append(entry)
    assert entries == expected
