"""The one place that knows which database core runs on: SQLite (embedded default) or MongoDB (docs/mongodb.md).

Code outside this module imports `atomic` from here, never `django.db.transaction.atomic`: on MongoDB, Django's
own atomic() is a no-op, and django-mongodb-backend's atomic() runs a real multi-document transaction (which
needs a replica set). Everything else core does is written to run unchanged on both backends.
"""

from django.db import DEFAULT_DB_ALIAS, connections, transaction


def is_mongodb(using: str = DEFAULT_DB_ALIAS) -> bool:
    return connections[using].vendor == "mongodb"


def atomic(using: str = DEFAULT_DB_ALIAS):
    """A transaction around the block; nested blocks join the outer one.

    SQLite: Django's atomic() (BEGIN IMMEDIATE: writers queue on the database lock).
    MongoDB: a session transaction. Writers do not queue there: two transactions writing the same document
    (or the same unique key) conflict, and the later one fails with a DatabaseError instead of waiting.
    """
    if is_mongodb(using):
        return _MongoDBAtomic(using)
    return transaction.atomic(using)


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
        connection = connections[self.using]
        inside_django_atomic, connection.in_atomic_block = connection.in_atomic_block, False
        try:
            return self.inner.__exit__(exc_type, exc_value, traceback)
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
