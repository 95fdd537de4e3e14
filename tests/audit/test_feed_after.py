"""GET /api/audit/events?after=N: the change feed web's live updates poll (oldest first, gap-free, resumable)."""

import pytest

from apps.audit.models import AuditEvent
from tests.common.assertions import assert_error, query

from .test_audit_api import EVENTS, fetch, record, trail  # noqa: F401 (the 23-event fixture, used by name)


def feed(api, after, **params) -> list[dict]:
    """Every event after `after`, following next_cursor as the next page's `after`."""
    items, pages = [], 0
    while True:
        data = fetch(api, after=after, **params)
        items += data["items"]
        pages += 1
        assert pages < 1000, "the feed never ends"
        if data["next_cursor"] is None:
            return items
        after = int(data["next_cursor"])


@pytest.mark.usefixtures("trail")
def test_after_returns_newer_events_oldest_first(api):
    sequences = list(AuditEvent.objects.order_by("sequence").values_list("sequence", flat=True))
    middle = sequences[len(sequences) // 2]
    data = fetch(api, after=middle, limit=200)
    assert [item["sequence"] for item in data["items"]] == [s for s in sequences if s > middle]
    assert data["next_cursor"] is None
    assert data["limit"] == 200


@pytest.mark.usefixtures("trail")
@pytest.mark.parametrize("limit", [1, 4, 200])
def test_paging_through_the_feed_visits_every_event_once_in_order(api, limit):
    sequences = list(AuditEvent.objects.order_by("sequence").values_list("sequence", flat=True))
    assert len(sequences) >= 19
    items = feed(api, 0, limit=limit)
    assert [item["sequence"] for item in items] == sequences


@pytest.mark.usefixtures("trail")
def test_after_the_latest_is_empty_until_something_happens(api):
    latest = AuditEvent.objects.order_by("-sequence").values_list("sequence", flat=True).first()
    assert fetch(api, after=latest)["items"] == []
    new = record(action="group.update", result="success")
    (item,) = fetch(api, after=latest)["items"]
    assert item["sequence"] == new.sequence > latest
    assert item["action"] == "group.update"


@pytest.mark.usefixtures("trail")
def test_after_combines_with_filters(api):
    items = feed(api, 0, service="bot", limit=2)
    expected = list(AuditEvent.objects.filter(service="bot").order_by("sequence").values_list("sequence", flat=True))
    assert [item["sequence"] for item in items] == expected
    assert {item["service"] for item in items} == {"bot"}


@pytest.mark.usefixtures("trail")
def test_after_and_cursor_together_are_refused(api):
    response = api.get(query(EVENTS, after=1, cursor=5))
    body = assert_error(response, 400, "validation_error")
    assert "after" in str(body["details"])


@pytest.mark.parametrize("value", ["-1", "x", "1.5"])
def test_a_bad_after_is_a_400(api, db, value):
    response = api.get(query(EVENTS, after=value))
    assert_error(response, 400, "validation_error")


@pytest.mark.usefixtures("trail")
def test_after_zero_starts_at_the_first_event(api):
    oldest = AuditEvent.objects.order_by("sequence").values_list("sequence", flat=True).first()
    first = fetch(api, after=0, limit=1)
    assert first["items"][0]["sequence"] == oldest
    assert first["next_cursor"] == str(oldest)
