"""pytest plugin for the MongoDB profile (loaded by tests/mongo/run.py): the flush after each database test, cheaper.

django-mongodb-backend has no Django-managed transactions, so every database test ends like a TransactionTestCase:
`flush` empties every collection and emits post_migrate, which creates the 21 content types and 84 auth permissions
again one query at a time; the next database test then installs the built-in RBAC catalogue again (tests/conftest.py).
Against SecantusDB that was most of a test's time: seconds of teardown per test under load.

Here the flush brings the database back to the state the migrations left it in (recorded once, right after the test
database is set up): a collection that was empty then is emptied, one that held documents then (content types,
permissions, the catalogue the data migration installs) is left alone when its documents are still exactly those,
ids included, and otherwise emptied and refilled with them. post_migrate is then not emitted: everything it would
create is there. That is the state a SQLite test starts from too (its migrations' data, kept by the rollback).
"""

import pytest
from django.core.management.commands import flush as flush_command
from django_mongodb_backend.operations import DatabaseOperations

_original_execute_sql_flush = DatabaseOperations.execute_sql_flush
_original_emit_post_migrate = flush_command.emit_post_migrate_signal
_capped: dict[str, bool] = {}
_migrated: dict[str, dict[str, list[dict]]] = {}  # database alias -> collection -> its documents after migrate
_restored: set[str] = set()  # aliases whose last flush restored the migrated state (post_migrate has nothing to do)


def _documents(connection, collection: str) -> list[dict]:
    return list(connection.database[collection].find({}).sort("_id", 1))


def _execute_sql_flush(self, tables):
    connection = self.connection
    migrated = _migrated.get(connection.alias)
    if migrated is None:
        _restored.discard(connection.alias)
        return _original_execute_sql_flush(self, tables)
    for table in tables:
        if table.startswith("system."):
            continue
        collection = connection.database[table]
        if table not in _capped:
            _capped[table] = bool(collection.options().get("capped", False))
        if _capped[table]:
            continue
        wanted = migrated.get(table)
        if wanted is None:
            collection.delete_many({})
        elif _documents(connection, table) != wanted:
            collection.delete_many({})
            collection.insert_many([dict(document) for document in wanted])
    _restored.add(connection.alias)


def _emit_post_migrate_signal(verbosity, interactive, db, **kwargs):
    if db in _restored:
        _restored.discard(db)
        return
    _original_emit_post_migrate(verbosity, interactive, db, **kwargs)


@pytest.hookimpl(hookwrapper=True)
def pytest_fixture_setup(fixturedef, request):
    yield
    if fixturedef.argname != "django_db_setup":
        return
    from django.db import connections

    with request.getfixturevalue("django_db_blocker").unblock():
        for connection in connections.all():
            if connection.vendor != "mongodb":
                continue
            names = connection.introspection.django_table_names(only_existing=True, include_views=False)
            _migrated[connection.alias] = {name: documents for name in names
                                           if (documents := _documents(connection, name))}


def pytest_configure(config):
    DatabaseOperations.execute_sql_flush = _execute_sql_flush
    flush_command.emit_post_migrate_signal = _emit_post_migrate_signal


def pytest_unconfigure(config):
    DatabaseOperations.execute_sql_flush = _original_execute_sql_flush
    flush_command.emit_post_migrate_signal = _original_emit_post_migrate
