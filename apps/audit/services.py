"""The only writer of audit events. Call it inside the atomic block of the change it describes.

Every permission check appends one event, so appending is on the platform's hottest path. Two things keep
it cheap without changing what is written:

- Each writer (a thread of a process) appends to its own chain stream (`streams.py`): no two writers ever
  race for the same next position, so MongoDB's transactions never conflict on the trail. Nobody else writes
  into a stream, so on SQLite its writer keeps the head its last commit left in memory (`_take_head`) and
  reads only the newest order key under the write lock. A signed checkpoint of the stream's head goes into
  the same transaction when the last one is a minute old (and at shutdown: `audit_checkpoint_now`).
- The insert is an ORM statement compiled once per database connection and re-executed with fresh
  parameters (`PreparedQuery`): the same SQL and the same field conversions the ORM would produce, minus
  rebuilding a QuerySet and recompiling it for every event. Backends that do not compile to SQL (the MongoDB
  profile) take the plain ORM path.
- On SQLite, a transaction this module opens itself first takes an exclusive lock on a file beside the
  database (`writer_turn`). Writers from several worker processes then queue in the kernel and each is
  woken the moment the previous one is done, instead of retrying BEGIN IMMEDIATE on SQLite's busy handler,
  which sleeps 1, 2, 5, 10... ms between attempts. SQLite's own lock still guarantees correctness; the file
  lock only decides who goes next. It is never taken inside a caller's transaction (that one already holds
  the database's write lock), so it cannot deadlock.
"""

import atexit
import json
import logging
import os
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.utils import timezone

from apps.common.context import RequestContext, current_context
from apps.common.db import atomic_attempts, in_transaction, is_mongodb
from apps.common.group_commit import GroupCommit
from apps.common.prepared import PreparedQuery

from .chain import GENESIS_HASH, checkpoint_signature, event_hash
from .insert import AuditInsert
from .models import AuditCheckpoint, AuditEvent
from .streams import Lane, checkpoint_keys, lanes

try:
    import fcntl
except ImportError:  # not POSIX: writers rely on SQLite's busy timeout alone
    fcntl = None

logger = logging.getLogger(__name__)


@dataclass
class AuditEntry:
    action: str
    result: str
    actor_user_id: object = None
    target_type: str = ""
    target_id: object = None
    group_id: object = None
    reason: str = ""
    details: dict = field(default_factory=dict)
    # The request the event belongs to when another request's thread writes it (ingest's group commit); else the
    # current one.
    context: RequestContext | None = None


def _now_ms() -> datetime:
    now = timezone.now()
    return now.replace(microsecond=now.microsecond - now.microsecond % 1000)


def _as_id(value) -> str:
    return "" if value is None else str(value)


def _stream_head(stream: str) -> tuple[int, str]:
    """The stream's last position and hash, read inside the writing transaction: only this lane writes there."""
    head = (AuditEvent.objects.filter(stream=stream).order_by("-stream_seq").values_list("stream_seq", "hash")
            .first())
    return tuple(head) if head else (0, GENESIS_HASH)


# One open lock file per (process, path): flock belongs to the open file, so a forked worker needs its own.
_lock_files: dict[tuple[int, str], int] = {}
_thread_turn = threading.Lock()


class _TurnHeld(threading.local):
    value = False  # this thread holds the writer's turn: a writer_turn inside it (a group commit's) is that turn


_turn_held = _TurnHeld()


def _writer_lock_file(connection) -> int | None:
    if fcntl is None or connection.vendor != "sqlite" or connection.is_in_memory_db():
        return None
    path = f"{connection.settings_dict['NAME']}-writer.lock"
    key = (os.getpid(), path)
    descriptor = _lock_files.get(key)
    if descriptor is None:
        try:
            descriptor = _lock_files[key] = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError:
            return None
    return descriptor


@contextmanager
def writer_turn(using: str = DEFAULT_DB_ALIAS):
    """On SQLite, outside any transaction: waits for this writer's turn among every thread and process.
    Other services that open a big write transaction of their own (event ingest) take their turn here too. A turn
    taken inside one this thread holds is that one."""
    connection = connections[using]
    descriptor = None if connection.in_atomic_block or _turn_held.value else _writer_lock_file(connection)
    if descriptor is None:
        yield
        return
    with _thread_turn:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        _turn_held.value = True
        try:
            yield
        finally:
            _turn_held.value = False
            fcntl.flock(descriptor, fcntl.LOCK_UN)


_PLAIN_TYPES = (str, int, bool, type(None))


def _stored_details(details: dict) -> dict:
    """What verification will read back: a JSON round trip, skipped when it cannot change anything."""
    if all(type(key) is str and type(value) in _PLAIN_TYPES for key, value in details.items()):
        return dict(details)
    return json.loads(json.dumps(details, default=str))


def _rows(entries: list[AuditEntry]) -> list[dict]:
    """The entries as rows: everything but their place in the chain (sequence, previous_hash, hash)."""
    context = current_context()
    service = context.service or "internal"
    request_id = context.request_id
    created_at = _now_ms()
    return [
        {
            "created_at": created_at,
            "service": service if entry.context is None else entry.context.service or "internal",
            "request_id": request_id if entry.context is None else entry.context.request_id,
            "actor_user_id": _as_id(entry.actor_user_id),
            "action": entry.action,
            "target_type": entry.target_type,
            "target_id": _as_id(entry.target_id),
            "group_id": _as_id(entry.group_id),
            "result": entry.result,
            "reason": entry.reason[:255],
            "details": _stored_details(entry.details),
        }
        for entry in entries
    ]


def _link(rows: list[dict]) -> Lane:
    """Gives each row its place after its writer's stream head (stream, stream_seq, previous_hash, hash) and its
    global order key. Call inside the writing transaction."""
    lane = lanes.current()
    stream_seq, previous_hash = _take_head(lane)
    floor = _newest_key_under_lock()
    for row in rows:
        stream_seq += 1
        row["sequence"] = floor = lane.next_key(floor)
        row["stream"] = lane.name
        row["stream_seq"] = stream_seq
        row["previous_hash"] = previous_hash
        row.pop("hash", None)  # linked again after a retried transaction: hashed afresh
        previous_hash = event_hash(**row)
        row["hash"] = previous_hash
    _remember_head_on_commit(lane, (stream_seq, previous_hash))
    return lane


def _take_head(lane: Lane) -> tuple[int, str]:
    """The lane's stream head: the one its last committed transaction left (only this lane writes its stream), else
    read. Taken out of memory until this transaction commits: after a rollback, or a commit that failed or whose
    outcome is unknown, the next append reads the database again, so memory is never ahead of it."""
    head, lane.head = lane.head, None
    return head if head is not None else _stream_head(lane.name)


def _remember_head_on_commit(lane: Lane, head: tuple[int, str]) -> None:
    """On SQLite only: a MongoDB append keeps reading its head (an indexed find; there was no cost to win back
    there, and that profile's test flush does not announce itself as `lanes.forget_heads` needs)."""
    if is_mongodb():
        return

    def remember():
        lane.head = head

    # Registered in the writing transaction: dropped with it, or with the savepoint it was registered under
    connections[DEFAULT_DB_ALIAS].on_commit(remember)


def _newest_key_query():
    return AuditEvent.objects.order_by("-sequence").values_list("sequence", flat=True)


def _newest_key_under_lock() -> int:
    """On SQLite every transaction holds the database's write lock from BEGIN (IMMEDIATE), so writers take turns
    anyway: keys drawn above the newest one follow commit order exactly, and the live feed's cursor never passes
    an event committed later. One indexed read, compiled once per connection: it runs under that lock. MongoDB's
    writers do not take turns: 0 (see docs/mongodb.md on the feed)."""
    if is_mongodb():
        return 0
    statement = PreparedQuery.get("audit:newest-key",
                                  lambda connection: PreparedQuery(_newest_key_query()[:1], connection))
    if statement is None:
        return _newest_key_query().first() or 0
    rows = statement.rows()
    return rows[0][0] if rows else 0


def _checkpoint_if_due(lane: Lane, head: dict) -> None:
    """In the appending transaction: the stream's new head, signed, when its last checkpoint is a minute old."""
    lane.pending = True
    if lane.checkpoint_due():
        _write_checkpoint(lane.name, head["stream_seq"], head["hash"])
        lane.checkpointed_at, lane.pending = time.monotonic(), False


def _write_checkpoint(stream: str, stream_seq: int, head_hash: str) -> AuditCheckpoint | None:
    keys = checkpoint_keys()
    if not keys:
        return None  # production refuses to pass its deploy check without keys (checks.py)
    key_id, secret = next(iter(keys.items()))
    created_at = _now_ms()
    signature = checkpoint_signature(secret, stream=stream, stream_seq=stream_seq, head_hash=head_hash,
                                     created_at=created_at, key_id=key_id)
    return AuditCheckpoint.objects.create(stream=stream, stream_seq=stream_seq, head_hash=head_hash,
                                          created_at=created_at, key_id=key_id, signature=signature)


def audit_checkpoint_now(lane: Lane | None = None) -> list[AuditCheckpoint]:
    """Signs the head of this process's streams that appended since their last checkpoint (all of them when
    called at shutdown), or of `lane`. Each in its own transaction."""
    written = []
    for each in [lane] if lane is not None else lanes.of_this_process():
        if lane is None and not each.pending:
            continue
        with writer_turn():
            for attempt in atomic_attempts():
                with attempt:
                    stream_seq, head_hash = _stream_head(each.name)
                    checkpoint = _write_checkpoint(each.name, stream_seq, head_hash) if stream_seq else None
        each.checkpointed_at, each.pending = time.monotonic(), False
        if checkpoint is not None:
            written.append(checkpoint)
    return written


def _checkpoint_at_exit() -> None:
    try:
        audit_checkpoint_now()
    except Exception:  # the database may be gone by then; the tail since the last checkpoint stays unsigned
        logger.warning("audit: no checkpoint at shutdown", exc_info=True)


def _append(rows: list[dict], insert: "AuditInsert | None", prepared: list[list] | None) -> None:
    """One transaction (joined when the caller is in one) that links `rows` after the writer's stream head and
    inserts them."""
    with writer_turn():
        for attempt in atomic_attempts():  # one attempt on SQLite; MongoDB retries a transient error
            with attempt:
                lane = _link(rows)
                if insert is None:
                    AuditEvent.objects.bulk_create([AuditEvent(**row) for row in rows])
                else:
                    insert.run(rows, prepared)
                _checkpoint_if_due(lane, rows[-1])


def _append_group(group: list[tuple]) -> None:
    """The appends of concurrent threads (`_group_commit`: (rows, prepared values) each) in one transaction, in
    arrival order, with the statement compiled for this thread's connection (a connection serves its own thread
    only)."""
    insert = PreparedQuery.get("audit:insert", AuditInsert)
    if len(group) == 1:
        rows, prepared = group[0]
        _append(rows, insert, prepared)
        return
    rows = [row for each_rows, _ in group for row in each_rows]
    _append(rows, insert, None if insert is None else [values for _, prepared in group for values in prepared])


_group_commit = GroupCommit(_append_group, writer_turn)


def audit_append_many(entries: list[AuditEntry]) -> None:
    """Appends `entries` to the chain, in order, without building model instances (the hot path).
    Joins the caller's transaction when there is one; outside one, concurrent appends of the process's
    threads share a transaction (`_group_commit`), and each returns once its events are committed."""
    if not entries:
        return
    rows = _rows(entries)
    insert = PreparedQuery.get("audit:insert", AuditInsert)
    prepared = insert.prepare(rows) if insert is not None else None
    if in_transaction():
        _append(rows, insert, prepared)  # inside the caller's transaction, never another thread's
    else:
        _group_commit.submit((rows, prepared))


def audit_record_many(entries: list[AuditEntry]) -> list[AuditEvent]:
    """Appends `entries` to the chain, in order, and returns them as saved events.
    Joins the caller's transaction when there is one."""
    if not entries:
        return []
    rows = _rows(entries)
    with writer_turn():
        for attempt in atomic_attempts():
            with attempt:
                lane = _link(rows)
                events = [AuditEvent(**row) for row in rows]
                AuditEvent.objects.bulk_create(events)
                _checkpoint_if_due(lane, rows[-1])
    return events


def audit_record(**kwargs) -> AuditEvent:
    (event,) = audit_record_many([AuditEntry(**kwargs)])
    if event.action != "permission.check":
        logger.info(
            "audit",
            extra={
                "action": event.action,
                "result": event.result,
                "user_id": event.actor_user_id or None,
                "target": f"{event.target_type}:{event.target_id}" if event.target_type else None,
                "group_id": event.group_id or None,
            },
        )
    return event


def audit_change(*, action: str, actor, target_type: str, target_id, group=None, result: str = "success",
                 reason: str = "", details: dict | None = None) -> AuditEvent:
    """`audit_record` for a change a service made on behalf of `actor` (a user, or None for the system) in
    `group` (None: no group's)."""
    return audit_record(action=action, result=result, actor_user_id=actor.pk if actor else None,
                        target_type=target_type, target_id=target_id, group_id=group.pk if group else None,
                        reason=reason, details=details or {})


if getattr(settings, "ROLE", "") == "core":  # a core server's workers, not a test process sharing its database
    atexit.register(_checkpoint_at_exit)
