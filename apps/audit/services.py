"""The only writer of audit events. Call it inside the atomic block of the change it describes.

Every permission check appends one event, so appending is on the platform's hottest path. Two things keep
it cheap without changing what is written:

- The chain head read and the insert are ORM statements compiled once per database connection and
  re-executed with fresh parameters (`PreparedQuery`): the same SQL and the same field conversions the ORM
  would produce, minus rebuilding a QuerySet and recompiling it for every event. Backends that do not
  compile to SQL (the MongoDB profile) take the plain ORM path.
- On SQLite, a transaction this module opens itself first takes an exclusive lock on a file beside the
  database (`writer_turn`). Writers from several worker processes then queue in the kernel and each is
  woken the moment the previous one is done, instead of retrying BEGIN IMMEDIATE on SQLite's busy handler,
  which sleeps 1, 2, 5, 10... ms between attempts. SQLite's own lock still guarantees correctness; the file
  lock only decides who goes next. It is never taken inside a caller's transaction (that one already holds
  the database's write lock), so it cannot deadlock.
"""

import json
import logging
import os
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models.sql import InsertQuery
from django.utils import timezone

from apps.common.context import current_context
from apps.common.db import atomic_attempts, in_transaction
from apps.common.prepared import PreparedQuery

from .chain import GENESIS_HASH, event_hash
from .models import AuditEvent

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


def _now_ms() -> datetime:
    now = timezone.now()
    return now.replace(microsecond=now.microsecond - now.microsecond % 1000)


def _as_id(value) -> str:
    return "" if value is None else str(value)


def _head_query():
    return AuditEvent.objects.order_by("-sequence").values_list("sequence", "hash")


def _chain_head() -> tuple[int, str]:
    statement = PreparedQuery.get("audit:chain-head", lambda connection: PreparedQuery(_head_query()[:1], connection))
    head = _head_query().first() if statement is None else next(iter(statement.rows()), None)
    return tuple(head) if head else (0, GENESIS_HASH)


_TEXT_TYPES = frozenset({"CharField", "TextField"})
_INT_TYPES = frozenset({"IntegerField", "BigIntegerField", "PositiveIntegerField", "PositiveBigIntegerField"})


class _Insert:
    """The ORM's single-row INSERT of an AuditEvent, compiled once, run with executemany.

    Column values are what the field's get_db_prep_save() returns. Where that is the value itself (a str
    into a text column, an int into an integer column: checked once, here) the call is skipped, and a value
    shared by every row (the timestamp) is converted once. `prepare` converts all but the chain's columns
    before the write lock is taken; `run` adds those and inserts.
    """

    CHAIN_COLUMNS = ("sequence", "previous_hash", "hash")

    def __init__(self, connection):
        self.connection = connection
        self.fields = [f for f in AuditEvent._meta.local_concrete_fields if not f.primary_key]
        query = InsertQuery(AuditEvent)
        sample = AuditEvent(sequence=0, created_at=timezone.now(), details={}, previous_hash="", hash="")
        query.insert_values(self.fields, [sample])
        statements = query.get_compiler(connection=connection).as_sql()
        if len(statements) != 1:
            raise ValueError("expected one INSERT statement")
        self.sql = statements[0][0]
        self.as_is = [self._unchanged_type(f) for f in self.fields]
        self.chain = [(index, f.attname, self.as_is[index]) for index, f in enumerate(self.fields)
                      if f.attname in self.CHAIN_COLUMNS]

    def _unchanged_type(self, field) -> type | None:
        """str or int when values of that type reach this column unchanged, else None."""
        internal = field.get_internal_type()
        kind, sample = (str, "sample") if internal in _TEXT_TYPES else (int, 1234567) if internal in _INT_TYPES else (
            None, None)
        if kind is None or field.get_db_prep_save(sample, connection=self.connection) is not sample:
            return None
        return kind

    def _value(self, index: int, value):
        kind = self.as_is[index]
        if kind is not None and type(value) is kind:
            return value
        return self.fields[index].get_db_prep_save(value, connection=self.connection)

    def prepare(self, rows: list[dict]) -> list[list]:
        """Database values of every column but the chain's (left None), in column order."""
        names = [None if f.attname in self.CHAIN_COLUMNS else f.attname for f in self.fields]
        converted = [index for index, name in enumerate(names) if name is not None and self.as_is[index] is None]
        checked = [(index, self.as_is[index]) for index, name in enumerate(names)
                   if name is not None and self.as_is[index] is not None]
        field_objects, connection = self.fields, self.connection
        shared: dict[int, tuple] = {}  # column -> (raw, converted) of the previous row, for values shared by all
        prepared = []
        for row in rows:
            values = [None if name is None else row[name] for name in names]
            for index, kind in checked:
                if type(values[index]) is not kind:
                    values[index] = field_objects[index].get_db_prep_save(values[index], connection=connection)
            for index in converted:
                raw = values[index]
                previous = shared.get(index)
                if previous is not None and previous[0] is raw and type(raw) not in (dict, list):
                    values[index] = previous[1]
                else:
                    values[index] = field_objects[index].get_db_prep_save(raw, connection=connection)
                    shared[index] = (raw, values[index])
            prepared.append(values)
        return prepared

    def run(self, rows: list[dict], prepared: list[list]) -> None:
        for row, values in zip(rows, prepared, strict=True):
            for index, name, _ in self.chain:
                values[index] = self._value(index, row[name])
        with self.connection.cursor() as cursor:
            cursor.executemany(self.sql, prepared)


# One open lock file per (process, path): flock belongs to the open file, so a forked worker needs its own.
_lock_files: dict[tuple[int, str], int] = {}
_thread_turn = threading.Lock()


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
    Other services that open a big write transaction of their own (event ingest) take their turn here too."""
    connection = connections[using]
    descriptor = None if connection.in_atomic_block else _writer_lock_file(connection)
    if descriptor is None:
        yield
        return
    with _thread_turn:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        try:
            yield
        finally:
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
            "service": service,
            "request_id": request_id,
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


def _link(rows: list[dict]) -> None:
    """Gives each row its place after the chain head: sequence, previous_hash, hash. Call under the write lock."""
    sequence, previous_hash = _chain_head()
    for row in rows:
        sequence += 1
        row["sequence"] = sequence
        row["previous_hash"] = previous_hash
        row.pop("hash", None)  # linked again after a lost write race (MongoDB's retry): hashed afresh
        previous_hash = event_hash(**row)
        row["hash"] = previous_hash


def _append(rows: list[dict], insert: "_Insert | None", prepared: list[list] | None) -> None:
    """One transaction (joined when the caller is in one) that links `rows` after the chain head and inserts them."""
    with writer_turn():
        for attempt in atomic_attempts():  # one attempt on SQLite; MongoDB retries a lost write race
            with attempt:
                _link(rows)
                if insert is None:
                    AuditEvent.objects.bulk_create([AuditEvent(**row) for row in rows])
                else:
                    insert.run(rows, prepared)


class _Waiting:
    __slots__ = ("error", "lead", "prepared", "rows", "woken")

    def __init__(self, rows: list[dict], prepared: list[list] | None):
        self.rows, self.prepared = rows, prepared
        self.woken = threading.Event()
        self.lead = False
        self.error: BaseException | None = None


class _GroupCommit:
    """Appends from concurrent request threads of one process share a transaction.

    The first thread to arrive leads: it takes every append waiting at that moment, writes them in one
    transaction (in arrival order), commits, and only then wakes the others, each of which returns (or raises
    the commit's error) knowing its own events are committed. Appends arriving during that commit wait for the
    next one, led by the first of them. With one thread per process (sync workers) every group holds one
    append, and this is the plain path plus a lock taken without contention.
    """

    def __init__(self):
        self.lock = threading.Lock()
        self.waiting: list[_Waiting] = []
        self.busy = False

    def append(self, rows: list[dict], insert: "_Insert | None", prepared: list[list] | None) -> None:
        mine = _Waiting(rows, prepared)
        with self.lock:
            self.waiting.append(mine)
            leading = not self.busy
            self.busy = True
        if not leading:
            mine.woken.wait()
            if not mine.lead:
                if mine.error is not None:
                    raise mine.error
                return
        with self.lock:
            group, self.waiting = self.waiting, []
        error = None
        try:
            if len(group) == 1:
                _append(rows, insert, prepared)
            else:
                all_prepared = None if insert is None else [values for each in group for values in each.prepared]
                _append([row for each in group for row in each.rows], insert, all_prepared)
        except BaseException as exc:  # every append of the group failed with it: none of them is on the record
            error = exc
        finally:
            for each in group:
                if each is not mine:
                    each.error = error
                    each.woken.set()
            with self.lock:
                if self.waiting:
                    self.waiting[0].lead = True
                    self.waiting[0].woken.set()
                else:
                    self.busy = False
        if error is not None:
            raise error


_group_commit = _GroupCommit()


def audit_append_many(entries: list[AuditEntry]) -> None:
    """Appends `entries` to the chain, in order, without building model instances (the hot path).
    Joins the caller's transaction when there is one; outside one, concurrent appends of the process's
    threads share a transaction (`_GroupCommit`), and each returns once its events are committed."""
    if not entries:
        return
    rows = _rows(entries)
    insert = PreparedQuery.get("audit:insert", _Insert)
    prepared = insert.prepare(rows) if insert is not None else None
    if in_transaction():
        _append(rows, insert, prepared)  # inside the caller's transaction, never another thread's
    else:
        _group_commit.append(rows, insert, prepared)


def audit_record_many(entries: list[AuditEntry]) -> list[AuditEvent]:
    """Appends `entries` to the chain, in order, and returns them as saved events.
    Joins the caller's transaction when there is one."""
    if not entries:
        return []
    rows = _rows(entries)
    with writer_turn():
        for attempt in atomic_attempts():
            with attempt:
                _link(rows)
                events = [AuditEvent(**row) for row in rows]
                AuditEvent.objects.bulk_create(events)
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
