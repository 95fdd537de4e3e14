"""Ingest keeps each Telegram account's @username current: the name a sender's event shows is theirs now, and an
account core still knows by that name loses it (Telegram usernames are unique at any one time and move)."""

import pytest

from apps.audit.models import AuditEvent
from apps.users.models import User
from apps.users.selectors import UnknownTargetError, user_by_telegram_username
from apps.users.services import user_ensure_telegram
from tests.events.test_events_and_stats import BATCH, event
from tests.factories import make_group

_numbers = iter(range(1, 10_000))


@pytest.fixture
def group(db):
    return make_group()


def say(api, group, user: int, username: str | None):
    extra = {"username": username} if username is not None else {}
    response = api.post(BATCH, {"events": [event(group, next(_numbers), user=user, **extra)]})
    assert response.status_code == 200, response.content


def renames() -> list[dict]:
    return [entry.details for entry in AuditEvent.objects.filter(action="user.update").order_by("sequence")
            if entry.details.get("via") == "events"]


def test_an_account_first_known_without_a_name_gets_it_from_its_next_message(api, group):
    """As when a test or an automated record names the account by its id before it ever wrote."""
    user_ensure_telegram(telegram_user_id=3001)
    with pytest.raises(UnknownTargetError):
        user_by_telegram_username(telegram_username="dave")
    say(api, group, 3001, "dave")
    assert user_by_telegram_username(telegram_username="@Dave").telegram_user_id == 3001
    assert renames() == [{"changed": ["telegram_username"], "telegram_username": "dave",
                          "previous_telegram_username": "", "via": "events"}]


def test_a_name_that_moved_to_another_account_names_that_account_only(api, group):
    say(api, group, 3001, "dave")
    say(api, group, 3001, "dave_old")  # dave renamed himself
    say(api, group, 3002, "dave")  # and someone else took the name
    assert user_by_telegram_username(telegram_username="dave").telegram_user_id == 3002
    assert User.objects.get(telegram_user_id=3001).telegram_username == "dave_old"


def test_a_stale_holder_loses_the_name_to_its_new_owner(api, group):
    say(api, group, 3001, "carol")
    say(api, group, 3002, "Carol")  # a newcomer: core never saw 3001 give the name up
    assert User.objects.get(telegram_user_id=3001).telegram_username == "carol"  # another case: not matched
    say(api, group, 3003, "carol")
    assert User.objects.get(telegram_user_id=3001).telegram_username == ""
    assert User.objects.get(telegram_user_id=3003).telegram_username == "carol"
    assert {"telegram_username": "", "previous_telegram_username": "carol"}.items() <= renames()[-1].items()
    say(api, group, 3001, "CAROL")  # a renamed known account takes it whatever its case
    assert User.objects.filter(telegram_username__iexact="carol").get().telegram_user_id == 3001


def test_an_unchanged_name_or_none_given_writes_nothing(api, group):
    say(api, group, 3001, "erin")
    say(api, group, 3001, "erin")
    say(api, group, 3001, None)  # an event that does not carry the name (or a user who hid it) keeps it
    assert renames() == []
    assert User.objects.get(telegram_user_id=3001).telegram_username == "erin"


def test_the_command_path_moves_a_name_too(db):
    """user_ensure_telegram (a command, a captcha, an admin sync naming someone) keeps names unique as ingest does:
    the account it is told holds @name gets it, any other account core knew by it (in any case) loses it."""
    stale = user_ensure_telegram(telegram_user_id=3101, telegram_username="erin")
    newcomer = user_ensure_telegram(telegram_user_id=3102, telegram_username="@Erin")
    stale.refresh_from_db()
    assert (stale.telegram_username, newcomer.telegram_username) == ("", "Erin")
    assert user_by_telegram_username(telegram_username="erin").telegram_user_id == 3102
    renamed = user_ensure_telegram(telegram_user_id=3101, telegram_username="ERIN")  # a known account renamed
    newcomer.refresh_from_db()
    assert (renamed.telegram_username, newcomer.telegram_username) == ("ERIN", "")
    cleared = [entry.target_id for entry in AuditEvent.objects.filter(action="user.update").order_by("sequence")]
    assert cleared == [str(stale.pk), str(newcomer.pk), str(stale.pk)]


def test_the_command_path_leaves_a_name_alone_when_nobody_else_holds_it(db):
    user_ensure_telegram(telegram_user_id=3201, telegram_username="frank")
    user_ensure_telegram(telegram_user_id=3202, telegram_username="frankie")
    assert user_ensure_telegram(telegram_user_id=3201, telegram_username="frank").telegram_username == "frank"
    assert User.objects.get(telegram_user_id=3202).telegram_username == "frankie"
    assert not AuditEvent.objects.filter(action="user.update").exists()
