"""The weekly digest (apps/analytics/digests.py): written lazily when a bot claims log entries, once per group and
week however many claimers race for it, for the Monday-to-Sunday week of the group's own clock, and never for a
group with the digest off, without a log chat, or switched off."""

import threading
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.analytics import digests
from apps.analytics.digests import digests_enqueue_due, last_complete_week, latest_complete_week
from apps.common.db import is_mongodb
from apps.groups.models import Group
from apps.logchannel.models import LogEntry
from apps.logchannel.services import log_entries_claim
from tests.factories import make_group

LOG_CHAT = -1009999000077
NEW_YORK = ZoneInfo("America/New_York")  # UTC-5 in November: its Monday starts at 05:00 UTC
WEEK = date(2026, 11, 23)  # a Monday
NEXT_MONDAY = WEEK + timedelta(days=7)


def _local(day: date, hour: int, minute: int = 0, zone=NEW_YORK) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone).astimezone(UTC)


def _digest_group(title="Night <owls>", **fields) -> Group:
    group = make_group(title=title)
    values = {"weekly_digest": True, "log_chat_id": LOG_CHAT, "timezone": "America/New_York", **fields}
    Group.objects.filter(pk=group.pk).update(**values)
    group.refresh_from_db()
    return group


def _digests(group=None):
    entries = LogEntry.objects.filter(kind=LogEntry.Kind.DIGEST)
    return list(entries.filter(group=group) if group is not None else entries)


@pytest.fixture(autouse=True)
def _fresh_recheck(monkeypatch):
    """Each test starts with this process's recheck pause cleared (the receiver keeps it between claims)."""
    monkeypatch.setattr(digests, "_recheck", digests._Recheck())


def test_the_last_complete_week_is_the_groups_own():
    sunday_night = _local(WEEK + timedelta(days=6), 23, 50)  # Monday 04:50 UTC
    assert last_complete_week(NEW_YORK, sunday_night) == WEEK - timedelta(days=7)
    assert last_complete_week(ZoneInfo("UTC"), sunday_night) == WEEK
    assert last_complete_week(NEW_YORK, _local(NEXT_MONDAY, 0, 5)) == WEEK
    kiritimati = ZoneInfo("Pacific/Kiritimati")  # UTC+14: the first clock to reach Monday
    first_monday = _local(NEXT_MONDAY, 0, 0, kiritimati)
    assert latest_complete_week(first_monday) == WEEK
    assert latest_complete_week(first_monday - timedelta(minutes=1)) == WEEK - timedelta(days=7)


def test_week_boundaries_follow_the_groups_time_zone(api):
    group = _digest_group(digest_sent_week=WEEK - timedelta(days=7))
    chat = group.telegram_chat_id
    events = [
        ("before", _local(WEEK - timedelta(days=1), 23, 30)),  # Sunday night before: Monday 04:30 UTC, last week
        ("first", _local(WEEK, 0, 30)),  # the week's first hour
        ("last", _local(WEEK + timedelta(days=6), 23, 30)),  # Sunday 23:30: Monday 04:30 UTC, still this week
        ("after", _local(NEXT_MONDAY, 0, 30)),  # next week
    ]
    body = [{"event_id": f"digest-{name}", "type": "message", "telegram_chat_id": chat,
             "telegram_user_id": 8_100_001, "display_name": "Ann", "occurred_at": moment.isoformat()}
            for name, moment in events]
    assert api.post("/api/events/batch", {"events": body}).json()["data"]["accepted"] == 4

    # Monday 03:00 UTC is still Sunday in New York: the week is not over there, so no digest yet.
    assert digests_enqueue_due(now=_local(WEEK + timedelta(days=6), 22)) == ([], 1)
    assert _digests() == []

    [entry], waiting = digests_enqueue_due(now=_local(NEXT_MONDAY, 0, 10))
    assert waiting == 0
    group.refresh_from_db()
    assert group.digest_sent_week == WEEK
    lines = entry.text.splitlines()
    assert lines[:4] == [f"<b>Night &lt;owls&gt;</b> [<code>{chat}</code>]", "#DIGEST",
                         "<b>Week:</b> Mon 23 Nov to Sun 29 Nov 2026 (America/New_York)",
                         "<b>Messages:</b> 2 from 1 active members"]
    assert "<b>Busiest day:</b> Mon; <b>hour:</b> 00:00-01:00" in lines
    assert "1. Ann: 2 (100.0%)" in lines
    assert (entry.log_chat_id, entry.status) == (LOG_CHAT, LogEntry.Status.PENDING)
    # Done for this week: later rounds write nothing until the next week ends.
    assert digests_enqueue_due(now=_local(NEXT_MONDAY, 9)) == ([], 0)
    [later], _ = digests_enqueue_due(now=_local(NEXT_MONDAY + timedelta(days=7), 0, 1))
    assert "Mon 30 Nov to Sun 06 Dec 2026" in later.text and "<b>Messages:</b> 1 from 1" in later.text


def test_a_group_never_digested_gets_last_weeks_digest_at_the_next_claim(api):
    group = _digest_group()
    now = _local(WEEK + timedelta(days=3), 12)
    [claimed] = log_entries_claim(limit=10, now=now)
    assert (claimed.kind, claimed.group_id) == (LogEntry.Kind.DIGEST, group.pk)
    assert "Mon 16 Nov to Sun 22 Nov 2026" in claimed.text
    assert "<b>Moderation:</b> none; reports by members: 0" in claimed.text
    group.refresh_from_db()
    assert group.digest_sent_week == WEEK - timedelta(days=7)
    assert log_entries_claim(limit=10, now=now + timedelta(seconds=30)) == []  # leased, and written once


def test_names_neither_render_nor_ping(api):
    group = _digest_group()
    body = [{"event_id": f"name-{number}", "type": "message", "telegram_chat_id": group.telegram_chat_id,
             "telegram_user_id": 8_200_001, "display_name": "<b>@everyone</b>",
             "occurred_at": _local(WEEK, 12, number).isoformat()} for number in range(3)]
    assert api.post("/api/events/batch", {"events": body}).json()["data"]["accepted"] == 3
    [entry], _ = digests_enqueue_due(now=_local(NEXT_MONDAY, 1))
    assert "1. &lt;b&gt;@\u2060everyone&lt;/b&gt;: 3 (100.0%)" in entry.text.splitlines()
    assert "tg://user" not in entry.text


@pytest.mark.parametrize("fields", [
    {"weekly_digest": False},
    {"log_chat_id": None},
    {"is_active": False},
    {"digest_sent_week": WEEK},
], ids=["digest-off", "no-log-chat", "group-switched-off", "already-sent"])
def test_no_digest_when_off_without_a_log_chat_or_already_sent(db, fields):
    group = _digest_group(**fields)
    now = _local(NEXT_MONDAY, 6)
    assert digests_enqueue_due(now=now) == ([], 0)
    assert log_entries_claim(limit=10, now=now) == []
    assert _digests() == []
    group.refresh_from_db()
    assert group.digest_sent_week == fields.get("digest_sent_week")


def test_the_setting_is_patched_through_the_groups_api_and_logged(api):
    group = make_group()
    Group.objects.filter(pk=group.pk).update(log_chat_id=LOG_CHAT)
    for bad in ("yes", 1, None):
        assert api.patch(f"/api/groups/{group.pk}", {"weekly_digest": bad}).status_code == 400, bad
    assert api.patch(f"/api/groups/{group.pk}", {"digest_sent_week": "2026-11-23"}).status_code == 400
    data = api.patch(f"/api/groups/{group.pk}", {"weekly_digest": True}).json()["data"]
    assert (data["weekly_digest"], data["digest_sent_week"]) == (True, None)
    settings_entry = LogEntry.objects.get(group=group, kind=LogEntry.Kind.SETTINGS)
    assert "<code>weekly_digest</code>: off → on" in settings_entry.text
    listed = api.get("/api/groups?limit=100").json()["data"]["items"]
    assert next(item for item in listed if item["id"] == str(group.pk))["weekly_digest"] is True


def _race(target, parties=2) -> list:
    """Runs `target` in `parties` threads started together; returns their errors."""
    barrier, errors = threading.Barrier(parties), []

    def run():
        try:
            barrier.wait()
            target()
        except Exception as exc:  # asserted by the caller
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(parties)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_claimers_write_and_claim_the_digest_once():
    groups = [_digest_group(), _digest_group(timezone="Asia/Kolkata")]
    now = _local(NEXT_MONDAY, 12)
    claimed = []
    assert _race(lambda: claimed.append(log_entries_claim(limit=10, now=now))) == []
    for group in groups:
        assert len(_digests(group)) == 1, group.timezone
        group.refresh_from_db()
        assert group.digest_sent_week == WEEK
    # Each entry leased to exactly one of the two claimers.
    leased = sorted(str(entry.pk) for batch in claimed for entry in batch)
    assert leased == sorted(str(entry.pk) for entry in _digests())


@pytest.mark.django_db(transaction=True)
def test_two_claimers_that_both_found_the_digest_due_write_it_once(monkeypatch):
    """The race itself, made certain: neither claims the week before both have read it as due (they meet in the
    render), so only the conditional update keeps the second from writing it again."""
    group = _digest_group()
    both_rendering, render = threading.Barrier(2, timeout=30), digests.render_digest

    def render_together(group, week):
        both_rendering.wait()
        return render(group, week)

    monkeypatch.setattr(digests, "render_digest", render_together)
    results = []
    assert _race(lambda: results.append(digests_enqueue_due(now=_local(NEXT_MONDAY, 12)))) == []
    assert sorted(len(written) for written, _ in results) == [0, 1]
    assert len(_digests(group)) == 1


def test_the_due_query_searches_the_index_and_reads_no_table(db):
    """It runs on every log claim: on SQLite, index searches only (the plan of the statement as run)."""
    if is_mongodb():
        pytest.skip("SQLite's query plan; MongoDB's test server does not plan like mongod")
    _digest_group(digest_sent_week=WEEK)
    with CaptureQueriesContext(connection) as queries:
        assert digests_enqueue_due(now=_local(NEXT_MONDAY, 6)) == ([], 0)
    statements = [query["sql"] for query in queries.captured_queries if "groups_group" in query["sql"]]
    assert len(statements) == 2, statements
    with connection.cursor() as cursor:
        for statement in statements:
            plan = [row[-1] for row in cursor.execute(f"EXPLAIN QUERY PLAN {statement}").fetchall()]
            assert len(plan) == 1 and plan[0].startswith(
                "SEARCH groups_group USING INDEX group_digest_due (weekly_digest=? AND digest_sent_week"), plan


def test_a_claim_writes_a_bounded_number_and_the_next_claims_the_rest(db):
    groups = [_digest_group() for _ in range(3)]
    now = _local(NEXT_MONDAY, 6)
    first, _ = digests_enqueue_due(now=now, limit=2)
    second, _ = digests_enqueue_due(now=now, limit=2)
    assert (len(first), len(second)) == (2, 1)
    assert sorted(entry.group_id for entry in first + second) == sorted(group.pk for group in groups)
    assert digests_enqueue_due(now=now, limit=2) == ([], 0)


def test_one_groups_failure_holds_back_no_other_group(db, monkeypatch):
    broken, healthy = _digest_group(title="broken"), _digest_group()
    render = digests.render_digest

    def render_or_fail(group, week):
        if group.pk == broken.pk:
            raise RuntimeError("a figure could not be read")
        return render(group, week)

    monkeypatch.setattr(digests, "render_digest", render_or_fail)
    [entry], waiting = digests_enqueue_due(now=_local(NEXT_MONDAY, 6))
    assert (entry.group_id, waiting) == (healthy.pk, 1)
    broken.refresh_from_db()
    assert broken.digest_sent_week is None  # not claimed: written by a later round once it renders
