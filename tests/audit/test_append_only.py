"""The trail is append-only through the ORM: nothing updates or deletes an event once written."""

import pytest
from django.db import IntegrityError, transaction

from apps.audit.models import AppendOnlyError, AuditEvent
from apps.audit.services import audit_record
from tests.factories import make_user


@pytest.fixture
def event(db):
    make_user()
    return AuditEvent.objects.get()


def snapshot():
    return list(AuditEvent.objects.order_by("sequence").values())


def test_saving_an_existing_event_raises(event):
    before = snapshot()
    event.reason = "rewritten"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.save(update_fields=["reason"])
    assert snapshot() == before


def test_deleting_an_event_raises(event):
    with pytest.raises(AppendOnlyError):
        event.delete()
    assert AuditEvent.objects.filter(pk=event.pk).exists()


@pytest.mark.parametrize(
    "write",
    [
        lambda qs, _: qs.update(reason="x"),
        lambda qs, _: qs.filter(action="user.create").update(reason="x"),
        lambda qs, _: qs.delete(),
        lambda qs, event: qs.filter(sequence=event.sequence).delete(),
        lambda qs, _: qs.all().delete(),
        lambda qs, event: qs.update_or_create(sequence=event.sequence, defaults={"reason": "x"}),
    ],
    ids=["update", "filtered-update", "delete", "filtered-delete", "all-delete", "update_or_create"],
)
def test_queryset_writes_raise(event, write):
    before = snapshot()
    with pytest.raises(AppendOnlyError):
        write(AuditEvent.objects, event)
    assert snapshot() == before


def test_bulk_update_raises(event):
    before = snapshot()
    event.reason = "x"
    with pytest.raises(AppendOnlyError), transaction.atomic():
        AuditEvent.objects.bulk_update([event], ["reason"])
    assert snapshot() == before


def test_a_new_instance_with_an_existing_primary_key_cannot_overwrite_the_row(event):
    before = snapshot()
    forged = AuditEvent(**{**before[0], "reason": "forged"})
    assert forged._state.adding
    with pytest.raises((AppendOnlyError, IntegrityError)), transaction.atomic():
        forged.save()
    assert snapshot() == before


def test_recording_still_appends(event):
    audit_record(action="user.update", result="success", target_type="user", target_id=1)
    events = list(AuditEvent.objects.order_by("sequence").values_list("stream", "stream_seq"))
    assert [position for _, position in events] == [1, 2]
    assert events[0][0] == events[1][0]  # one writer, one stream
