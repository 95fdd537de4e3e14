"""The one place that knows which database core runs on: SQLite (embedded default) or MongoDB (docs/mongodb.md).

Code outside this module takes its transactions from here, never from `django.db.transaction`: on MongoDB,
Django's own atomic() is a no-op, and django-mongodb-backend's atomic() runs a real multi-document transaction
(which needs a replica set). Everything else core does is written to run unchanged on both backends.

Two ways in:
- `with atomic():` a transaction; nested blocks join the outer one.
- `for attempt in atomic_attempts(): with attempt: ...` the same, retried when MongoDB reports a write conflict
  with a concurrent transaction. Use it for the outermost block of every write that can race another one
  (every audited write does: they all append to the one audit chain). On SQLite there is one attempt: writers
  queue on the database lock instead of conflicting.
"""

import contextlib
import random
import time

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, transaction

MAX_ATTEMPTS = 10


def is_mongodb(using: str = DEFAULT_DB_ALIAS) -> bool:
    return connections[using].vendor == "mongodb"


def in_transaction(using: str = DEFAULT_DB_ALIAS) -> bool:
    """Whether the caller is inside a transaction from `atomic()` (each backend keeps its own flag)."""
    connection = connections[using]
    return connection.in_atomic_block_mongo if is_mongodb(using) else connection.in_atomic_block


def atomic(using: str = DEFAULT_DB_ALIAS):
    """A transaction around the block; nested blocks join the outer one.

    SQLite: Django's atomic() (BEGIN IMMEDIATE: writers queue on the database lock).
    MongoDB: a session transaction. Writers do not queue there: two transactions writing the same document
    (or the same unique key) conflict, and the later one fails with a DatabaseError instead of waiting.
    """
    if is_mongodb(using):
        return _MongoDBAtomic(using)
    return transaction.atomic(using)


def atomic_attempts(using: str = DEFAULT_DB_ALIAS, *, max_attempts: int = MAX_ATTEMPTS):
    """Context managers to run one block in until it commits: see the module's docstring.

    The block must be safe to run again from the start (read, decide, write inside it). Only MongoDB's
    transient transaction errors are retried, with a short jittered pause; any other error, and the last
    attempt's, propagates. Inside an enclosing MongoDB transaction there is nothing to retry here: the
    conflict aborts that transaction, and its own loop runs it again.
    """
    if not is_mongodb(using) or in_transaction(using):
        yield atomic(using)
        return
    for number in range(1, max_attempts + 1):
        attempt = _Attempt(using, last=number == max_attempts)
        yield attempt
        if not attempt.conflicted:
            return
        time.sleep(random.uniform(0, 0.005 * 2**min(number, 6)))


def is_transient_conflict(exc: BaseException | None) -> bool:
    """A MongoDB error that says: the transaction lost a race with another one; run it again."""
    from pymongo.errors import PyMongoError

    for error in (exc, getattr(exc, "__cause__", None)):
        if isinstance(error, PyMongoError) and error.has_error_label("TransientTransactionError"):
            return True
    return False


class _Attempt:
    def __init__(self, using: str, *, last: bool):
        self.using = using
        self.last = last
        self.conflicted = False
        self.transaction = _MongoDBAtomic(using)

    def __enter__(self):
        return self.transaction.__enter__()

    def __exit__(self, exc_type, exc_value, traceback):
        try:
            suppressed = self.transaction.__exit__(exc_type, exc_value, traceback)
        except Exception as commit_error:  # the commit itself can conflict
            if is_transient_conflict(commit_error) and not self.last:
                self.conflicted = True
                return True
            raise
        if exc_value is not None and is_transient_conflict(exc_value) and not self.last:
            self.conflicted = True
            return True
        return suppressed


class _MongoDBAtomic:
    """django_mongodb_backend.transaction.atomic, usable inside Django's own atomic() as well.

    Django enters its atomic() around some of its views (the admin's add/change/delete views). On MongoDB that
    block does nothing, but it marks the connection as inside one, and the backend's commit then refuses to run
    the on-commit hooks (TransactionManagementError). The flag is hidden while this transaction ends.
    """

    def __init__(self, using: str):
        from django_mongodb_backend.transaction import atomic as mongodb_atomic

        self.using = using
        self.inner = mongodb_atomic(using)

    def __enter__(self):
        return self.inner.__enter__()

    def __exit__(self, exc_type, exc_value, traceback):
        from pymongo.errors import PyMongoError

        connection = connections[self.using]
        inside_django_atomic, connection.in_atomic_block = connection.in_atomic_block, False
        try:
            return self.inner.__exit__(exc_type, exc_value, traceback)
        except PyMongoError as exc:
            # The backend lets a failed commit's driver error through unwrapped and keeps the session open,
            # so the next atomic() would silently join a dead transaction: close it, report a DatabaseError.
            if connection.session is not None:
                with contextlib.suppress(PyMongoError):
                    connection.session.abort_transaction()
                connection.session.end_session()
                connection.session = None
                connection.run_on_commit = []
            raise DatabaseError(str(exc)) from exc
        finally:
            connection.in_atomic_block = inside_django_atomic


def ping(using: str = DEFAULT_DB_ALIAS) -> None:
    """A round trip to the database; raises when it is unreachable."""
    connection = connections[using]
    connection.ensure_connection()
    if is_mongodb(using):
        connection.connection.admin.command("ping")
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
