import pytest

from apps.botgateway.parsing import (
    Duration,
    TargetRef,
    UsageError,
    looks_like_duration,
    parse_duration,
    parse_target_args,
)


@pytest.mark.parametrize(("token", "seconds"), [("30s", 30), ("10m", 600), ("3h", 10800), ("2d", 172800),
                                                ("1w", 604800), ("5M", 300), ("10min", 600), ("2hours", 7200),
                                                ("3days", 259200), ("1week", 604800), ("0m", 0)])
def test_durations(token, seconds):
    assert parse_duration(token) == seconds


@pytest.mark.parametrize("token", ["", "10", "m", "10y", "-5m", "1.5h", "10 m", "99999999s"])
def test_not_durations(token):
    assert parse_duration(token) is None


def test_reply_target_wins_and_the_rest_is_the_reason():
    replied = TargetRef(telegram_user_id=42, display="Bob")
    parsed = parse_target_args(["flooding", "the", "chat"], reply_from=replied)
    assert (parsed.target, parsed.reason) == (replied, "flooding the chat")


def test_username_and_numeric_targets():
    assert parse_target_args(["@spammer", "spam"], reply_from=None).target.username == "spammer"
    assert parse_target_args(["123456789"], reply_from=None).target.telegram_user_id == 123456789


def test_duration_after_the_target():
    parsed = parse_target_args(["@spammer", "10m", "calm", "down"], reply_from=None, duration=Duration.REQUIRED)
    assert (parsed.duration_seconds, parsed.reason) == (600, "calm down")


@pytest.mark.parametrize("args", [["@spammer", "10m", "calm", "down"], ["@spammer", "10min", "calm", "down"]])
def test_an_optional_duration_is_applied_never_folded_into_the_reason(args):
    parsed = parse_target_args(args, reply_from=None, duration=Duration.OPTIONAL)
    assert (parsed.duration_seconds, parsed.reason) == (600, "calm down")
    replied = parse_target_args(args[1:], reply_from=TargetRef(telegram_user_id=42), duration=Duration.OPTIONAL)
    assert (replied.duration_seconds, replied.reason) == (600, "calm down")


def test_without_a_leading_duration_the_whole_line_is_the_reason():
    parsed = parse_target_args(["@spammer", "spam", "10m", "ago"], reply_from=None, duration=Duration.OPTIONAL)
    assert (parsed.duration_seconds, parsed.reason) == (None, "spam 10m ago")


@pytest.mark.parametrize("token", ["10y", "2mo", "3months", "99999999s"])
def test_a_duration_like_token_that_is_not_readable_is_refused(token):
    assert looks_like_duration(token)
    with pytest.raises(UsageError, match=f"{token} is not a duration I can read"):
        parse_target_args(["@spammer", token, "spam"], reply_from=None, duration=Duration.OPTIONAL)


@pytest.mark.parametrize("token", ["10m", "1w", "10y", "5mins"])
def test_commands_that_cannot_be_temporary_refuse_a_duration(token):
    with pytest.raises(UsageError, match=f"/warn takes no duration \\({token} reads as one\\)"):
        parse_target_args(["@spammer", token, "spam"], reply_from=None, duration=Duration.REFUSED,
                          refused_duration="/warn takes no duration ({token} reads as one)")


@pytest.mark.parametrize("token", ["2nd", "10", "m", "ten", "5x"])
def test_words_that_merely_start_with_a_number_are_a_reason(token):
    for policy in (Duration.OPTIONAL, Duration.REFUSED):
        parsed = parse_target_args(["@spammer", token, "spam"], reply_from=None, duration=policy)
        assert (parsed.duration_seconds, parsed.reason) == (None, f"{token} spam")


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [
        ([], {}),
        (["just", "words"], {}),
        (["@x"], {}),  # too short to be a Telegram username
        (["@spammer"], {"duration": Duration.REQUIRED}),
        (["@spammer", "forever"], {"duration": Duration.REQUIRED}),
    ],
)
def test_usage_errors_explain(args, kwargs):
    with pytest.raises(UsageError) as error:
        parse_target_args(args, reply_from=None, **kwargs)
    assert str(error.value)
