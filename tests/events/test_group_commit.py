"""Event batches ingested by concurrent threads of one process (gthread workers) share a writer's turn and a
transaction: each request still gets its own answer, its own audit event under its own request id, and its own
refusal; the counters and rollups come out as if the batches had been written one by one."""

import threading
import time
from datetime import UTC, timedelta

import pytest
from django.utils import timezone

from apps.analytics.rollups import analytics_rebuild
from apps.audit.models import AuditEvent
from apps.audit.selectors import audit_chain_verify
from apps.common.context import bind_context, reset_context
from apps.events import services as ingest
from apps.events.apis import EventInputSerializer
from apps.events.models import ActivityBucket, GroupEvent
from apps.events.services import UnknownGroupError, events_ingest
from apps.groups.models import Membership
from tests.analytics.test_exact import _rows
from tests.concurrency import run_threads
from tests.factories import make_group

THREADS = 6
BATCHES_PER_THREAD = 4
SHARED = 10  # event ids every thread's first batch carries: stored once, duplicates for all the others


def _events(group, thread: int, number: int) -> list[dict]:
    start = timezone.now().astimezone(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=3)
    events = [{"event_id": f"t{thread}-b{number}-{n}", "type": "message" if n % 7 else "command",
               "command": "" if n % 7 else "stats", "telegram_chat_id": group.telegram_chat_id,
               "telegram_user_id": 5000 + (thread * 7 + n) % 23, "username": f"member{(thread * 7 + n) % 23}",
               "occurred_at": (start + timedelta(minutes=(thread * 13 + number * 5 + n) % 170)).isoformat()}
              for n in range(40)]
    events.append({"event_id": f"t{thread}-b{number}-join", "type": "join", "telegram_chat_id": group.telegram_chat_id,
                   "telegram_user_id": 6000 + thread, "occurred_at": start.isoformat()})
    if number == 0:
        events += [{"event_id": f"shared-{n}", "type": "message", "telegram_chat_id": group.telegram_chat_id,
                    "telegram_user_id": 5000, "occurred_at": start.isoformat()} for n in range(SHARED)]
    return events


def _parse(events):
    serializer = EventInputSerializer(data=events, many=True)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class SharedWrites(list):
    """The sizes of the groups written in one transaction. The first write waits (up to 5 s) until every other
    thread's batch is waiting, so that the next turn takes them all together."""

    def __init__(self):
        super().__init__()
        self.first_started = threading.Event()


@pytest.fixture
def shared_writes(monkeypatch):
    sizes = SharedWrites()
    real_write = ingest._write

    def counting_write(batches):
        sizes.append(len(batches))
        if len(sizes) == 1:
            sizes.first_started.set()
            deadline = time.monotonic() + 5
            while ingest._group_commit.waiting() < THREADS - len(batches) and time.monotonic() < deadline:
                time.sleep(0.01)
        real_write(batches)

    monkeypatch.setattr(ingest, "_write", counting_write)
    return sizes


def test_concurrent_batches_share_transactions_and_each_gets_its_own_answer_and_audit(transactional_db,
                                                                                      shared_writes):
    group = make_group()
    batches = {(thread, number): _parse(_events(group, thread, number))
               for thread in range(THREADS) for number in range(BATCHES_PER_THREAD)}
    answers = {}

    def ingest_batches(thread):
        for number in range(BATCHES_PER_THREAD):
            token = bind_context(request_id=f"req-{thread}-{number}", service="bot")
            try:
                answers[(thread, number)] = events_ingest(events=batches[(thread, number)])
            finally:
                reset_context(token)

    assert run_threads(ingest_batches, THREADS) == []
    assert max(shared_writes) > 1, "no two concurrent batches ever shared a transaction"
    stored_once = sum(len(events) for events in batches.values()) - (THREADS - 1) * SHARED
    assert GroupEvent.objects.count() == stored_once
    assert sum(answer["accepted"] for answer in answers.values()) == stored_once
    for key, answer in answers.items():
        assert answer["received"] == len(batches[key]) == answer["accepted"] + answer["duplicates"]
    assert sum(answer["duplicates"] for answer in answers.values()) == (THREADS - 1) * SHARED

    audited = {event.request_id: event for event in AuditEvent.objects.filter(action="events.ingest")}
    assert set(audited) == {f"req-{thread}-{number}" for thread, number in batches}
    for (thread, number), answer in answers.items():
        event = audited[f"req-{thread}-{number}"]
        assert (event.service, event.details["accepted"]) == ("bot", answer["accepted"])
    created = AuditEvent.objects.filter(action="user.create")
    assert created.count() == 23 + THREADS and all(event.request_id.startswith("req-") for event in created)
    assert audit_chain_verify().intact

    messages = sum(1 for events in batches.values() for event in events if event["type"] == "message")
    buckets = ActivityBucket.objects.filter(group=group)
    assert sum(bucket.messages for bucket in buckets) == messages - (THREADS - 1) * SHARED
    group.refresh_from_db()
    assert group.message_count == messages - (THREADS - 1) * SHARED
    assert Membership.objects.filter(group=group, user__telegram_user_id__gte=6000).count() == THREADS
    written = _rows(group)
    analytics_rebuild(group=group)  # the rollups again, from the raw events alone
    assert _rows(group) == written


def test_a_batch_naming_an_unknown_group_is_refused_alone(transactional_db, shared_writes):
    group = make_group()
    unknown = make_group()
    bad = _events(unknown, 99, 0)
    unknown.delete()
    batches = [_parse(_events(group, thread, 1)) for thread in range(THREADS - 1)] + [_parse(bad)]
    outcomes = {}

    def ingest_one(thread):
        if thread == THREADS - 1:  # not in the first group: in the next, beside the others
            shared_writes.first_started.wait(5)
        try:
            outcomes[thread] = events_ingest(events=batches[thread])
        except UnknownGroupError as exc:
            outcomes[thread] = exc

    assert run_threads(ingest_one, THREADS) == []
    # A shared transaction failed and its batches were written one by one by its leader, on its own connection.
    assert max(shared_writes) > 1, "no two concurrent batches ever shared a transaction"
    assert isinstance(outcomes[THREADS - 1], UnknownGroupError)
    assert set(outcomes[THREADS - 1].details["events"]) == {str(index) for index in range(len(bad))}
    assert all(outcomes[thread]["accepted"] == len(batches[thread]) for thread in range(THREADS - 1))
    assert GroupEvent.objects.count() == sum(len(events) for events in batches[:-1])
    assert AuditEvent.objects.filter(action="events.ingest").count() == THREADS - 1
