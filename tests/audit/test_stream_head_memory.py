"""A writer keeps its stream's head in memory between its own committed transactions (SQLite), and never lets that
memory run ahead of the database: after a rollback, a rolled-back savepoint or a flush it reads the head again."""

import re

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.audit.models import AuditEvent
from apps.audit.services import audit_record
from apps.audit.streams import lanes
from apps.common.db import atomic, is_mongodb

from .test_chain_verify import verify


class Undone(Exception):
    pass


def write(count: int = 1, reason: str = "") -> None:
    for number in range(count):
        audit_record(action="user.update", result="success", target_type="user", target_id=number, reason=reason)


def positions() -> list[int]:
    stream = lanes.current().name
    return list(AuditEvent.objects.filter(stream=stream).order_by("stream_seq").values_list("stream_seq", flat=True))


def head_reads(queries: list[dict]) -> list[str]:
    """SELECTs of one stream's events (the head read), not of the newest order key."""
    return [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith("SELECT")
            and re.search(r'"stream"\s*=', q["sql"])]


def test_after_its_first_commit_a_writer_reads_only_the_newest_key(transactional_db):
    if is_mongodb():
        pytest.skip("a MongoDB append reads its head every time")
    write(1)
    with CaptureQueriesContext(connection) as captured:
        write(2)
    assert head_reads(captured.captured_queries) == []
    selects = [q["sql"] for q in captured.captured_queries if q["sql"].lstrip().upper().startswith("SELECT")]
    assert len(selects) == 2  # one newest-key read per append, nothing else
    assert positions() == [1, 2, 3]
    assert "3 events verified" in verify()


def test_a_rolled_back_append_is_not_remembered(transactional_db):
    write(2)
    with pytest.raises(Undone), atomic():
        write(1, reason="rolled back")
        raise Undone
    write(1)
    assert positions() == [1, 2, 3]
    assert not AuditEvent.objects.filter(reason="rolled back").exists()
    assert "3 events verified" in verify()


def test_an_append_in_a_rolled_back_savepoint_is_not_remembered(transactional_db):
    if is_mongodb():
        pytest.skip("no savepoints in MongoDB's transactions")
    write(1)
    with atomic():
        write(1)
        with pytest.raises(Undone), atomic():
            write(1, reason="rolled back")
            raise Undone
        write(1)
    write(1)
    assert positions() == [1, 2, 3, 4]
    assert not AuditEvent.objects.filter(reason="rolled back").exists()
    assert "4 events verified" in verify()


def test_after_a_flush_a_writer_starts_its_stream_again(transactional_db):
    write(2)
    call_command("flush", interactive=False, verbosity=0)
    write(1)
    assert positions() == [1]
    assert "1 events verified" in verify()
