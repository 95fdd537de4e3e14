"""pytest plugin for the MongoDB profile (loaded by tests/mongo/run.py): the flush after each database test, cheaper.

django-mongodb-backend has no Django-managed transactions, so every database test ends like a TransactionTestCase:
`flush` empties every collection and emits post_migrate, which creates the 21 content types and 84 auth permissions
again one query at a time; the next database test then installs the built-in RBAC catalogue again (tests/conftest.py).
Against SecantusDB that was most of a test's time: seconds of teardown per test under load.

Here the flush brings the database back to the state the migrations left it in (recorded once, right after the test
database is set up): a collection that was empty then is emptied, one that held documents then (content types,
permissions, the catalogue the data migration installs, django_migrations) is left alone when its documents are
still exactly those, ids included, and otherwise emptied and refilled with them. post_migrate is then not emitted:
everything it would create is there. That is the state a SQLite test starts from too (its migrations' data, kept by
the rollback), so tests/conftest.py does not look for the built-in catalogue when this plugin is loaded.

Only the collections written since the last flush are looked at: most tests write to a few of the ~50, and emptying
every one and reading the migrated ones back was ~70 ms of each test's teardown. A command listener (registered for
every PyMongo client of this process, live server threads included) notes the collection of every write command
sent to a database. Any command it does not know to be a read or a write to one named collection (an aggregation
with `$out`/`$merge`, `dropDatabase`, `renameCollection`, ...) makes the next flush look at every collection, as
does a client without the listener. A process other than this one writing to the test database would go unseen: no
test does (a subprocess inherits the URL of `core`, not of `test_core`). tests/mongo/test_fast_flush.py checks it.
"""

import threading

import pytest
from django.core.management.commands import flush as flush_command
from pymongo import monitoring

_original_handle = flush_command.Command.handle
_capped: dict[tuple[str, str], bool] = {}
_migrated: dict[str, dict[str, list[dict]]] = {}  # database alias -> collection -> its documents after migrate

_READS = frozenset({
    "find", "getMore", "killCursors", "count", "distinct", "listCollections", "listIndexes", "listDatabases",
    "dbStats", "collStats", "explain", "hello", "isMaster", "ismaster", "ping", "buildInfo", "buildinfo",
    "saslStart", "saslContinue", "authenticate", "startSession", "endSessions", "refreshSessions",
    "commitTransaction", "abortTransaction", "getParameter", "serverStatus", "connectionStatus",
})
_COLLECTION_WRITES = frozenset({
    "insert", "update", "delete", "findAndModify", "findandmodify", "create", "drop", "createIndexes",
    "dropIndexes", "collMod",
})


class _WriteTracker(monitoring.CommandListener):
    """The collections written since the last flush, per database name."""

    def __init__(self):
        self.written: dict[str, set[str]] = {}
        self.unknown = 0  # commands that may have written anywhere: every database's next take() is None
        self.unknown_taken: dict[str, int] = {}
        self.lock = threading.Lock()
        self.local = threading.local()  # .restoring: the flush's own writes are not noted

    def _note(self, database: str, collection: str) -> None:
        with self.lock:
            self.written.setdefault(database, set()).add(collection)

    def started(self, event):
        name = event.command_name
        if name in _READS or getattr(self.local, "restoring", False):
            return
        command = event.command
        if name == "aggregate" and not any(isinstance(stage, dict) and ("$out" in stage or "$merge" in stage)
                                           for stage in command.get("pipeline", ())):
            return
        target = command.get(name)
        if name == "create" and "viewOn" in command:
            return  # a view holds no documents (and cannot be emptied)
        if name in _COLLECTION_WRITES and isinstance(target, str):
            self._note(event.database_name, target)
        elif name == "bulkWrite" and command.get("nsInfo"):
            for namespace in command["nsInfo"]:
                database, _, collection = namespace["ns"].partition(".")
                self._note(database, collection)
        else:
            self.forget()

    def forget(self) -> None:
        with self.lock:
            self.unknown += 1

    def succeeded(self, event):
        pass

    def failed(self, event):
        pass

    def take(self, database: str) -> set[str] | None:
        """The collections of `database` written since its last take (None: any of them may have been)."""
        with self.lock:
            written = self.written.pop(database, set())
            if self.unknown_taken.get(database) != self.unknown:
                self.unknown_taken[database] = self.unknown
                return None
            return written


_tracker = _WriteTracker()


def _documents(connection, collection: str) -> list[dict]:
    return list(connection.database[collection].find({}).sort("_id", 1))


def _is_capped(database, collection: str) -> bool:
    key = (database.name, collection)
    if key not in _capped:
        _capped[key] = bool(database[collection].options().get("capped", False))
    return _capped[key]


def restore_migrated_state(connection) -> None:
    """Brings the collections written since the last call back to their documents right after migrate."""
    migrated = _migrated[connection.alias]
    database = connection.database
    written = _tracker.take(database.name)
    if written is None or _tracker not in connection.connection.options.event_listeners:
        written = set(database.list_collection_names(filter={"type": "collection"}))
    _tracker.local.restoring = True
    try:
        for table in sorted(written):
            if table.startswith("system.") or _is_capped(database, table):
                continue
            wanted = migrated.get(table)
            if wanted is None:
                database[table].delete_many({})
            elif _documents(connection, table) != wanted:
                database[table].delete_many({})
                database[table].insert_many([dict(document) for document in wanted])
    except BaseException:
        _tracker.forget()  # what was taken and not restored: the next flush looks at everything
        raise
    finally:
        _tracker.local.restoring = False


def _handle(self, **options):
    from django.db import connections

    connection = connections[options["database"]]
    if connection.alias not in _migrated:
        return _original_handle(self, **options)
    # Not emitted after: every content type and permission post_migrate would create is among what was restored.
    restore_migrated_state(connection)


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
            names = [name for name in connection.database.list_collection_names(filter={"type": "collection"})
                     if not name.startswith("system.")]
            _migrated[connection.alias] = {name: documents for name in names
                                           if (documents := _documents(connection, name))}
            _tracker.take(connection.database.name)


def pytest_configure(config):
    monitoring.register(_tracker)
    flush_command.Command.handle = _handle


def pytest_unconfigure(config):
    flush_command.Command.handle = _original_handle
