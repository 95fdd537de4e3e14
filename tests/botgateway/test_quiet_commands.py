"""The quiet moderation commands' pure parts: the variants' table, /pin's loud word, which messages a /purge
deletes, the command names /disable reads."""

from types import SimpleNamespace

import pytest

from apps.botgateway.handlers.command_settings import DISABLEABLE, _names
from apps.botgateway.handlers.member_actions import DELETE, QUIET_COMMANDS, SILENT, TARGET_COMMANDS
from apps.botgateway.handlers.messages import PURGE_AT_MOST, _pin_options, _purge_options
from apps.botgateway.parsing import UsageError


def test_roses_silent_and_delete_variants_of_ban_mute_and_kick():
    by_name = {command.name: command for command in QUIET_COMMANDS}
    assert sorted(by_name) == ["dban", "dkick", "dmute", "sban", "skick", "smute"]
    plain = {command.name: command for command in TARGET_COMMANDS}
    for name, command in by_name.items():
        base = plain[name[1:]]
        assert (command.action, command.permission, command.act, command.duration) == \
            (base.action, base.permission, base.act, base.duration)
        assert command.quiet == (SILENT if name[0] == "s" else DELETE)
    assert by_name["dban"].usage.startswith("/dban (reply)")


@pytest.mark.parametrize(("args", "loud", "reason"), [
    ([], False, ""), (["loud"], True, ""), (["NOTIFY", "read", "this"], True, "read this"),
    (["important"], False, "important"),
])
def test_pin_is_silent_unless_loud(args, loud, reason):
    assert _pin_options(args, None) == (loud, reason)


def message(message_id, replied_id=None):
    replied = SimpleNamespace(message_id=replied_id) if replied_id is not None else None
    return SimpleNamespace(message_id=message_id, reply_to_message=replied)


def test_purge_by_reply_goes_up_to_the_command():
    assert _purge_options([], message(20, 15)) == ([15, 16, 17, 18, 19, 20], "")


def test_purge_with_a_count_starts_at_the_reply_and_never_passes_the_command():
    assert _purge_options(["3", "spam"], message(20, 10)) == ([10, 11, 12, 20], "spam")
    assert _purge_options(["50"], message(20, 18)) == ([18, 19, 20], "")


def test_purge_with_a_count_and_no_reply_takes_the_messages_before_the_command():
    assert _purge_options(["2"], message(20)) == ([18, 19, 20], "")
    assert _purge_options(["9"], message(5)) == ([1, 2, 3, 4, 5], "")


@pytest.mark.parametrize("args", [[], ["0"], [str(PURGE_AT_MOST + 1)], ["many"]])
def test_purge_without_a_reply_needs_a_count_in_range(args):
    with pytest.raises(UsageError):
        _purge_options(args, message(20))


def test_disable_reads_names_as_typed():
    assert _names(["/Warns@Some_Bot", "id,info", "id"]) == ["warns", "id", "info"]
    assert {"rules", "warns", "report", "notes", "id"} <= set(DISABLEABLE)
    assert not {"disable", "enable", "ban", "warn", "purge"} & set(DISABLEABLE)


def test_a_long_help_list_is_split_between_lines_within_telegrams_limit():
    from apps.botgateway.handlers.info import HELP, message_parts

    lines = [f"{line.usage}: {line.text}" for line in HELP] * 3
    parts = message_parts("What you can do in Tea room:", lines)
    assert len(parts) > 1 and all(len(part) <= 4096 for part in parts)
    assert "\n".join(parts) == "\n".join(["What you can do in Tea room:", *lines])
    assert message_parts("Heading:", ["a", "b"]) == ["Heading:\na\nb"]
