"""GET /api/audit/events: filters, newest first, a cursor that visits every event exactly once."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.audit.services import audit_record
from apps.common.context import bind_context
from tests.common.assertions import assert_error, query
from tests.factories import make_group, make_user

EVENTS = "/api/audit/events"


def fetch(api, **params) -> dict:
    response = api.get(query(EVENTS, **params))
    assert response.status_code == 200, response.content
    return response.json()["data"]


def walk(api, cursor=None, **params) -> list[dict]:
    """Every page, following next_cursor until it runs out."""
    items, pages = [], 0
    while True:
        data = fetch(api, **params, **({"cursor": cursor} if cursor else {}))
        items += data["items"]
        pages += 1
        assert pages < 1000, "the cursor never ends"
        cursor = data["next_cursor"]
        if cursor is None:
            return items


def record(action="user.update", result="success", service="tests", **fields):
    bind_context(service=service)
    try:
        return audit_record(action=action, result=result, **fields)
    finally:
        bind_context(service="tests")


def newest_first() -> list[int]:
    return list(AuditEvent.objects.order_by("-sequence").values_list("sequence", flat=True))


@pytest.fixture
def trail(db):
    """23 events from three services, two actors, two groups, four actions, three results."""
    alice, bob = make_user("alice"), make_user("bob")
    north, south = make_group(), make_group()
    for number in range(19):
        record(
            action=["user.update", "permission.check", "membership.upsert"][number % 3],
            result=["success", "allowed", "denied"][number % 3],
            service=["bot", "web", "tests"][number % 3],
            actor_user_id=[alice.pk, bob.pk][number % 2],
            group_id=[north.pk, south.pk, None][number % 3],
        )
    return {"alice": alice, "bob": bob, "north": north, "south": south}


def test_items_are_newest_first_with_every_field(api, trail):
    data = fetch(api, limit="200")
    sequences = [item["sequence"] for item in data["items"]]
    assert sequences == sorted(sequences, reverse=True) == newest_first()
    assert len(sequences) == 23
    newest = data["items"][0]
    event = AuditEvent.objects.get(sequence=sequences[0])
    assert newest["id"] == str(sequences[0])
    assert newest["hash"] == event.hash and newest["previous_hash"] == data["items"][1]["hash"]
    assert (newest["action"], newest["service"], newest["result"]) == (event.action, event.service, event.result)
    assert data["next_cursor"] is None
    assert data["limit"] == 200


def test_default_limit_is_50(api, trail):
    for _ in range(40):
        record()
    data = fetch(api)
    assert (len(data["items"]), data["limit"]) == (50, 50)
    assert data["next_cursor"] == str(newest_first()[49])


@pytest.mark.parametrize("limit", ["1", "4", "7", "22", "23", "200"])
def test_walking_the_cursor_visits_every_event_exactly_once(api, trail, limit):
    items = walk(api, limit=limit)
    assert [item["sequence"] for item in items] == newest_first()
    assert len(items) == 23


def test_cursor_walk_with_a_filter(api, trail):
    expected = list(AuditEvent.objects.filter(service="bot").values_list("sequence", flat=True))
    assert len(expected) > 3
    items = walk(api, service="bot", limit="2")
    assert [item["sequence"] for item in items] == expected
    assert {item["service"] for item in items} == {"bot"}


def test_events_written_during_a_walk_do_not_shift_it(api, trail):
    before = newest_first()
    first = fetch(api, limit="5")
    for _ in range(3):
        record(reason="late")
    rest = walk(api, limit="5", cursor=first["next_cursor"])
    assert [item["sequence"] for item in first["items"] + rest] == before


@pytest.mark.parametrize(
    ("param", "value", "field"),
    [
        ("service", "bot", "service"),
        ("action", "permission.check", "action"),
        ("result", "denied", "result"),
    ],
)
def test_filter_by_field(api, trail, param, value, field):
    items = walk(api, **{param: value})
    expected = AuditEvent.objects.filter(**{field: value}).count()
    assert 0 < len(items) == expected
    assert {item[field] for item in items} == {value}


def test_filter_by_actor_and_group(api, trail):
    alice, north = trail["alice"], trail["north"]
    items = walk(api, actor_user_id=str(alice.pk), group_id=str(north.pk))
    expected = AuditEvent.objects.filter(actor_user_id=str(alice.pk), group_id=str(north.pk))
    assert [item["sequence"] for item in items] == list(expected.values_list("sequence", flat=True))
    assert items and {(item["actor_user_id"], item["group_id"]) for item in items} == {(str(alice.pk), str(north.pk))}


def test_empty_ids_are_null_on_the_wire(api, db):
    record(action="user.update")
    item = fetch(api)["items"][0]
    assert (item["actor_user_id"], item["group_id"]) == (None, None)


def test_unknown_service_or_actor_is_an_empty_page_not_an_error(api, trail):
    assert fetch(api, service="nobody")["items"] == []
    assert fetch(api, actor_user_id="424242")["items"] == []


def test_since_is_inclusive_and_until_exclusive(api, db, monkeypatch):
    from apps.audit import services

    start = timezone.now().replace(microsecond=0)
    for hours in range(4):
        monkeypatch.setattr(services, "_now_ms", lambda hours=hours: start + timedelta(hours=hours))
        record(reason=f"at +{hours}h")

    def reasons(**params):
        return [item["reason"] for item in walk(api, **{key: value.isoformat() for key, value in params.items()})]

    assert reasons(since=start + timedelta(hours=1)) == ["at +3h", "at +2h", "at +1h"]
    assert reasons(until=start + timedelta(hours=1)) == ["at +0h"]
    assert reasons(since=start + timedelta(hours=1), until=start + timedelta(hours=3)) == ["at +2h", "at +1h"]
    assert reasons(since=start + timedelta(minutes=61)) == ["at +3h", "at +2h"]
    assert reasons(since=start + timedelta(hours=5)) == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"action": "user.delete"}, "action"),
        ({"action": "USER.CREATE"}, "action"),
        ({"result": "maybe"}, "result"),
        ({"result": ""}, "result"),
        ({"limit": "201"}, "limit"),
        ({"limit": "0"}, "limit"),
        ({"cursor": "-3"}, "cursor"),
        ({"since": "not-a-date"}, "since"),
        ({"page": "2"}, "page"),
    ],
)
def test_bad_filters_are_400(api, trail, params, field):
    body = assert_error(api.get(query(EVENTS, **params)), 400, "validation_error", field)
    assert field in body["details"]


def test_since_after_until_is_400(api, db):
    now = timezone.now()
    assert_error(api.get(query(EVENTS, since=now.isoformat(), until=(now - timedelta(hours=1)).isoformat())),
                 400, "validation_error", "since must be before until")


def test_every_action_in_the_catalogue_is_accepted_as_a_filter(api, db):
    from apps.common.audit_actions import ALL_ACTIONS

    for action in ALL_ACTIONS:
        assert api.get(query(EVENTS, action=action)).status_code == 200, action
