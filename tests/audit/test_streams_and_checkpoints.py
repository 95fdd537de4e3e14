"""Writer streams and signed checkpoints: `audit_verify` catches what rehashing a whole stream cannot hide."""

import threading
from contextlib import nullcontext
from datetime import datetime

import pytest
from django.core.management import CommandError
from django.db import connection
from django.test import override_settings

from apps.audit.chain import GENESIS_HASH, LEGACY_STREAM, event_hash
from apps.audit.models import AuditCheckpoint, AuditEvent
from apps.audit.selectors import audit_chain_verify
from apps.audit.services import AuditEntry, audit_append_many, audit_checkpoint_now, audit_record
from apps.audit.streams import lanes
from apps.common.db import is_mongodb
from apps.common.prepared import switched_off

from .test_chain_verify import TABLE, tamper, tamper_delete, verify

HASHED = [f.name for f in AuditEvent._meta.concrete_fields if f.name not in {"id", "hash"}]


def write(count: int) -> None:
    for number in range(count):
        audit_record(action="user.update", result="success", target_type="user", target_id=number)


def checkpoint() -> AuditCheckpoint:
    (signed,) = audit_checkpoint_now(lanes.current())
    return signed


def rehash_from(position: int, stream: str, **changes) -> None:
    """An attacker with database access edits the event at `position` and recomputes every later hash and link."""
    previous = None
    for event in AuditEvent.objects.filter(stream=stream, stream_seq__gte=position).order_by("stream_seq"):
        values = {name: getattr(event, name) for name in HASHED}
        if event.stream_seq == position:
            values.update(changes)
        if previous is not None:
            values["previous_hash"] = previous
        previous = event_hash(**values)
        stored = {**{k: v for k, v in values.items() if k in changes or k == "previous_hash"}, "hash": previous}
        if "created_at" in stored:
            stored["created_at"] = stored["created_at"].isoformat()
        tamper(event.sequence, **stored)


def tamper_checkpoint(checkpoint_id, **changes) -> None:
    table = AuditCheckpoint._meta.db_table
    if is_mongodb():
        connection.get_collection(table).update_one({"_id": checkpoint_id}, {"$set": changes})
        return
    assignments = ", ".join(f"{column} = %s" for column in changes)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET {assignments} WHERE id = %s",  # noqa: S608 (fixed names)
                       [*changes.values(), checkpoint_id])


def test_each_writer_thread_appends_to_its_own_stream(transactional_db):
    write(2)

    def other_writer():
        try:
            audit_append_many([AuditEntry(action="permission.check", result="allowed")] * 3)
        finally:
            connection.close()

    thread = threading.Thread(target=other_writer)
    thread.start()
    thread.join()
    streams = set(AuditEvent.objects.values_list("stream", flat=True))
    assert len(streams) == 2
    positions = {}
    for stream, position in AuditEvent.objects.order_by("sequence").values_list("stream", "stream_seq"):
        positions.setdefault(stream, []).append(position)
    assert set(positions) == streams
    assert all(found == list(range(1, len(found) + 1)) for found in positions.values())
    assert "Audit chain intact: 5 events verified" in verify()


def test_a_checkpoint_signs_the_head_and_verifies(db):
    write(3)
    signed = checkpoint()
    head = AuditEvent.objects.get(stream=signed.stream, stream_seq=3)
    assert (signed.stream_seq, signed.head_hash) == (3, head.hash)
    assert f"{AuditCheckpoint.objects.count()} signed checkpoints" in verify()


def test_first_append_of_a_writer_is_checkpointed(db):
    lane = lanes.current()
    lane.checkpointed_at = None  # as a new writer
    write(1)
    assert AuditCheckpoint.objects.filter(stream=lane.name, stream_seq=1).exists()
    write(1)  # within the minute: no second one
    assert AuditCheckpoint.objects.filter(stream=lane.name).count() == 1


def test_an_edit_with_every_later_hash_recomputed_is_caught_by_the_checkpoint(db):
    write(5)
    signed = checkpoint()
    rehash_from(2, signed.stream, reason="innocent")
    with pytest.raises(CommandError, match=r"checkpoint at 5: the signed head hash is not the event's"):
        verify()


def test_a_deleted_row_is_a_gap(db):
    write(4)
    checkpoint()
    tamper_delete(AuditEvent.objects.get(stream_seq=2).sequence)
    with pytest.raises(CommandError, match=r"expected sequence 2 in stream .*, found 3"):
        verify()


def test_a_truncated_tail_ends_before_the_last_checkpoint(db):
    write(4)
    signed = checkpoint()
    for position in (3, 4):
        tamper_delete(AuditEvent.objects.get(stream_seq=position).sequence)
    report = audit_chain_verify()
    assert not report.intact and report.stream == signed.stream
    assert report.problem == "stream ends at 2, before its signed checkpoint at 4 (truncated tail)"
    with pytest.raises(CommandError, match=r"truncated tail"):
        verify()


def test_a_forged_checkpoint_fails_its_signature(db):
    write(2)
    signed = checkpoint()
    tamper_checkpoint(signed.pk, head_hash="f" * 64)
    with pytest.raises(CommandError, match=r"checkpoint at 2: signature does not match"):
        verify()


def test_keys_rotate_by_listing_old_and_new(db, settings):
    settings.AUDIT_CHECKPOINT_KEYS = {"old": b"o" * 32}
    write(1)
    checkpoint()
    settings.AUDIT_CHECKPOINT_KEYS = {"new": b"n" * 32, "old": b"o" * 32}
    write(1)
    assert checkpoint().key_id == "new"
    assert {"old", "new"} == set(AuditCheckpoint.objects.values_list("key_id", flat=True))
    assert f"{AuditCheckpoint.objects.count()} signed checkpoints" in verify()
    settings.AUDIT_CHECKPOINT_KEYS = {"new": b"n" * 32}
    with pytest.raises(CommandError, match=r"checkpoint at 1: unknown key id"):
        verify()


def test_legacy_events_verify_with_the_hash_they_were_written_with(db):
    """Events from before streams (the migration puts them in one stream, "legacy") keep their old hashes."""
    previous = GENESIS_HASH
    for sequence in (1, 2, 3):
        row = {"sequence": sequence, "created_at": datetime.fromisoformat("2026-11-01T10:00:00.123+00:00"),
               "service": "tests", "request_id": "", "actor_user_id": "", "action": "user.update",
               "target_type": "", "target_id": "", "group_id": "", "result": "success", "reason": "",
               "details": {}, "previous_hash": previous}
        previous = event_hash(**row)  # the pre-stream hash: no stream fields
        AuditEvent.objects.create(**row, hash=previous, stream=LEGACY_STREAM, stream_seq=sequence)
    write(1)
    assert "4 events verified in 2 streams" in verify()
    tamper(2, reason="x")
    with pytest.raises(CommandError, match=r"#2\b.*content does not match"):
        verify()


@override_settings(AUDIT_CHECKPOINT_KEYS={})
def test_without_keys_nothing_is_signed_and_the_deploy_check_says_so(db, settings):
    from apps.audit.checks import audit_checkpoint_keys_configured

    write(1)
    assert audit_checkpoint_now(lanes.current()) == []
    settings.PRODUCTION = True
    (error,) = audit_checkpoint_keys_configured(None)
    assert error.id == "audit.E001" and "AUDIT_CHECKPOINT_KEYS" in error.msg
    assert TABLE  # the shared tamper helpers address the events' table


@pytest.mark.parametrize("newest_key_read", ["compiled", "orm"])
def test_on_sqlite_keys_follow_commit_order_even_when_a_writers_clock_runs_ahead(transactional_db, newest_key_read):
    """A writer whose key clock is ahead (a burst borrowed milliseconds): the next writer's key still comes after
    it, so the live feed's cursor never passes an event committed later. The newest key read both ways: its
    compiled statement and its ORM path (PREPARED_SQL_OFF)."""
    if is_mongodb():
        pytest.skip("MongoDB's writers do not take turns (docs/mongodb.md)")
    with switched_off("audit:newest-key") if newest_key_read == "orm" else nullcontext():
        _second_writer_keys_after_the_first_one_ahead()


def _second_writer_keys_after_the_first_one_ahead():
    lanes.current().tick += 60_000  # a minute ahead
    write(1)
    ahead = AuditEvent.objects.get().sequence

    def other_writer():
        try:
            write(1)
        finally:
            connection.close()

    thread = threading.Thread(target=other_writer)
    thread.start()
    thread.join()
    later = AuditEvent.objects.exclude(sequence=ahead).get()
    assert later.stream != AuditEvent.objects.get(sequence=ahead).stream
    assert later.sequence > ahead
