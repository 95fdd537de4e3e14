from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.events.models import ActiveMember, ActivityBucket, GroupEvent
from apps.groups.models import ChatIdAlias, Membership
from apps.users.models import User
from tests.factories import make_group

BATCH = "/api/events/batch"


def hour_ago(hours=1, minutes=0):
    moment = timezone.now().astimezone(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=hours)
    return (moment + timedelta(minutes=minutes)).isoformat()


def event(group, number, type="message", user=1001, **extra):
    return {"event_id": f"e-{number}", "type": type, "telegram_chat_id": group.telegram_chat_id,
            "telegram_user_id": user, "occurred_at": hour_ago(1, number % 50), **extra}


@pytest.fixture
def group(db):
    return make_group()


def test_batch_is_stored_counted_and_idempotent(api, group):
    events = [event(group, n, user=1001 + n % 3) for n in range(10)] + [event(group, 99, "join", user=2002)]
    first = api.post(BATCH, {"events": events})
    assert first.json()["data"] == {"received": 11, "accepted": 11, "duplicates": 0}
    again = api.post(BATCH, {"events": events})
    assert again.json()["data"] == {"received": 11, "accepted": 0, "duplicates": 11}
    assert GroupEvent.objects.count() == 11
    speaker = Membership.objects.get(group=group, user__telegram_user_id=1001)
    assert speaker.message_count == 4 and speaker.last_seen_at is not None
    assert Membership.objects.get(group=group, user__telegram_user_id=2002).status == "member"
    group.refresh_from_db()
    assert group.message_count == 10


def test_duplicates_inside_one_batch_count_once(api, group):
    response = api.post(BATCH, {"events": [event(group, 1), event(group, 1)]})
    assert response.json()["data"]["accepted"] == 1


def test_one_group_named_three_ways_adds_up_in_one_place(api, group):
    """By chat id, by core id and by the chat id it had before a migration: one bucket, one member row."""
    ChatIdAlias.objects.create(group=group, telegram_chat_id=-4242)
    by_chat = event(group, 1)
    by_id = {**event(group, 2), "group_id": str(group.pk)}
    del by_id["telegram_chat_id"]
    by_alias = {**event(group, 3), "telegram_chat_id": -4242}
    response = api.post(BATCH, {"events": [by_chat, by_id, by_alias]})
    assert response.json()["data"]["accepted"] == 3
    bucket = ActivityBucket.objects.get(group=group)
    assert bucket.messages == 3
    speaker = Membership.objects.get(group=group, user__telegram_user_id=1001)
    assert speaker.message_count == 3
    assert speaker.last_seen_at.isoformat() == datetime.fromisoformat(by_alias["occurred_at"]).isoformat()
    assert list(ActiveMember.objects.filter(group=group).values_list("user__telegram_user_id", flat=True)) == [1001]
    group.refresh_from_db()
    assert group.message_count == 3


def test_joins_and_leaves_apply_in_the_order_they_happened(api, group):
    api.post(BATCH, {"events": [event(group, 1, "join", user=3003), event(group, 2, "leave", user=3003),
                                event(group, 3, "leave", user=3004), event(group, 4, "join", user=3004)]})
    assert Membership.objects.get(group=group, user__telegram_user_id=3003).status == "left"
    assert Membership.objects.get(group=group, user__telegram_user_id=3004).status == "member"
    bucket = ActivityBucket.objects.get(group=group)
    assert (bucket.joins, bucket.leaves, bucket.messages) == (2, 2, 0)
    assert not ActiveMember.objects.exists()  # joining and leaving is not taking part


def test_a_partly_stored_batch_counts_only_what_is_new(api, group):
    api.post(BATCH, {"events": [event(group, 1), event(group, 2, user=1002)]})
    response = api.post(BATCH, {"events": [event(group, 1), event(group, 2, user=1002), event(group, 3),
                                           event(group, 4, "command", user=1002, command="ban")]})
    assert response.json()["data"] == {"received": 4, "accepted": 2, "duplicates": 2}
    bucket = ActivityBucket.objects.get(group=group)
    assert (bucket.messages, bucket.commands) == (3, 1)
    counts = dict(Membership.objects.filter(group=group).values_list("user__telegram_user_id", "message_count"))
    assert counts == {1001: 2, 1002: 1}
    assert ActiveMember.objects.filter(group=group).count() == 2
    assert AuditEvent.objects.filter(action="events.ingest").latest("sequence").details["by_type"] == {
        "message": 1, "command": 1}


def test_a_replay_changes_nothing_that_a_new_batch_would(api, group):
    """On SQLite a batch is first written as if it were new; a replay's users, names and counts roll back with it."""
    api.post(BATCH, {"events": [event(group, 1, username="first_name")]})
    audited = set(AuditEvent.objects.values_list("pk", flat=True))
    replay = [event(group, 1, username="second_name"), event(group, 2, user=5005, username="newcomer")]
    assert api.post(BATCH, {"events": replay}).json()["data"] == {"received": 2, "accepted": 1, "duplicates": 1}
    assert api.post(BATCH, {"events": replay}).json()["data"] == {"received": 2, "accepted": 0, "duplicates": 2}
    assert User.objects.get(telegram_user_id=1001).telegram_username == "first_name"
    assert User.objects.filter(telegram_user_id=5005).count() == 1
    assert ActivityBucket.objects.get(group=group).messages == 2
    assert sorted(AuditEvent.objects.exclude(pk__in=audited).values_list("action", flat=True)) == [
        "events.ingest", "membership.upsert", "user.create"]


def test_hours_get_buckets_of_their_own(api, group):
    events = [{**event(group, n), "occurred_at": hour_ago(2 - n % 2, 5)} for n in range(5)]
    api.post(BATCH, {"events": events})
    api.post(BATCH, {"events": [{**event(group, n), "occurred_at": hour_ago(1, 7)} for n in (9, 10)]})
    assert sorted(ActivityBucket.objects.filter(group=group).values_list("messages", flat=True)) == [3, 4]
    assert ActiveMember.objects.filter(group=group).count() == 2  # one speaker, two hours


@pytest.mark.parametrize(
    "bad",
    [
        {"type": "dance"},
        {"telegram_chat_id": -100777},
        {"telegram_user_id": "12"},
        {"occurred_at": "yesterday"},
        {"event_id": ""},
        {"telegram_chat_id": 2**64},
    ],
)
def test_one_bad_event_rejects_the_whole_batch(api, group, bad):
    before = (AuditEvent.objects.count(), User.objects.count())
    events = [event(group, 1), {**event(group, 2), **bad}]
    response = api.post(BATCH, {"events": events})
    assert response.status_code == 400
    assert not GroupEvent.objects.exists()
    assert (AuditEvent.objects.count(), User.objects.count()) == before


def test_batch_limit(api, group):
    events = [event(group, n) for n in range(1001)]
    assert api.post(BATCH, {"events": events}).status_code == 400
    assert api.post(BATCH, {"events": []}).status_code == 400


def test_group_stats_by_hour_and_day(api, group):
    api.post(BATCH, {"events": [
        event(group, 1, user=1), event(group, 2, user=1), event(group, 3, user=2),
        event(group, 4, "join", user=3), event(group, 5, "leave", user=3),
        event(group, 6, "command", user=2, command="ban"),
    ]})
    target = User.objects.get(telegram_user_id=2)
    action = api.post("/api/moderation/actions", {"type": "kick", "group_id": str(group.pk),
                                                 "target_user_id": str(target.pk)}).json()["data"]["action"]
    api.post(f"/api/moderation/actions/{action['id']}/complete", {"status": "executed"})

    hourly = api.get(f"/api/stats/groups/{group.pk}?bucket=hour").json()["data"]
    assert len(hourly["series"]) >= 24
    point = next(p for p in hourly["series"] if p["messages"])
    assert (point["messages"], point["joins"], point["leaves"], point["commands"], point["active_members"]) == (
        3, 1, 1, 1, 2)
    assert hourly["totals"]["moderation"] == {"kick": 1}
    query = urlencode({"bucket": "day", "since": hour_ago(48)})
    daily = api.get(f"/api/stats/groups/{group.pk}?{query}").json()["data"]
    assert daily["totals"]["messages"] == 3 and daily["totals"]["active_members"] == 2
    assert sum(p["active_members"] for p in daily["series"]) >= 2

    stats = api.get("/api/rbac/system/stats").json()["data"]
    assert (stats["messages_24h"], stats["joins_24h"], stats["moderation_actions_24h"]) == (3, 1, 1)


@pytest.mark.parametrize("query", ["bucket=minute", "since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z",
                                   "since=2000-01-01T00:00:00Z&bucket=hour", "since=notadate"])
def test_stats_query_is_validated(api, group, query):
    assert api.get(f"/api/stats/groups/{group.pk}?{query}").status_code == 400


def test_stats_of_unknown_group_is_404(api, db):
    assert api.get("/api/stats/groups/987654").status_code == 404


def test_events_in_the_future_are_refused(api, group):
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert api.post(BATCH, {"events": [{**event(group, 1), "occurred_at": future}]}).status_code == 400


@pytest.mark.parametrize("no_sender", [{"telegram_user_id": None}, {}], ids=["null sender", "sender absent"])
def test_a_batch_in_which_no_event_has_a_sender_is_counted(api, group, no_sender):
    """Channel posts and anonymous admins' posts carry `sender_chat`, not `from`: the bot reports them without a
    user. A batch of only those is counted for the group, and no user or membership is made up for them."""
    events = []
    for number, kind in enumerate(["message", "message", "command", "join", "leave"]):
        anonymous = {key: value for key, value in event(group, number, kind).items() if key != "telegram_user_id"}
        events.append({**anonymous, **no_sender, **({"command": "ban"} if kind == "command" else {})})
    users_before = User.objects.count()
    response = api.post(BATCH, {"events": events})
    assert response.status_code == 200, response.content
    assert response.json()["data"] == {"received": 5, "accepted": 5, "duplicates": 0}
    bucket = ActivityBucket.objects.get(group=group)
    assert (bucket.messages, bucket.commands, bucket.joins, bucket.leaves) == (2, 1, 1, 1)
    assert GroupEvent.objects.filter(group=group, user__isnull=True).count() == 5
    assert User.objects.count() == users_before and not Membership.objects.filter(group=group).exists()
    assert not ActiveMember.objects.filter(group=group).exists()
    group.refresh_from_db()
    assert group.message_count == 2


def test_a_batch_naming_an_unknown_group_is_refused_with_its_own_code(api, group):
    """The bot matches the code (and reads the indices in details), never the message."""
    by_group_id = {key: value for key, value in event(group, 3).items() if key != "telegram_chat_id"}
    events = [event(group, 1), {**event(group, 2), "telegram_chat_id": -100777}, {**by_group_id, "group_id": "4242"}]
    response = api.post(BATCH, {"events": events})
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "unknown_group"
    assert body["details"] == {"events": {"1": ["Unknown group."], "2": ["Unknown group."]}}
    assert not GroupEvent.objects.exists()
