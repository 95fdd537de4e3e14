import pytest

from apps.botgateway.parsing import TargetRef, UsageError, parse_duration, parse_target_args


@pytest.mark.parametrize(("token", "seconds"), [("30s", 30), ("10m", 600), ("3h", 10800), ("2d", 172800),
                                                ("1w", 604800), ("5M", 300)])
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
    parsed = parse_target_args(["@spammer", "10m", "calm", "down"], reply_from=None, wants_duration=True)
    assert (parsed.duration_seconds, parsed.reason) == (600, "calm down")


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [
        ([], {}),
        (["just", "words"], {}),
        (["@x"], {}),  # too short to be a Telegram username
        (["@spammer"], {"wants_duration": True}),
        (["@spammer", "forever"], {"wants_duration": True}),
    ],
)
def test_usage_errors_explain(args, kwargs):
    with pytest.raises(UsageError) as error:
        parse_target_args(args, reply_from=None, **kwargs)
    assert str(error.value)
