"""Session-wide test database setup, ahead of tests/conftest.py: pytest-django's fixtures are overridden here so
that every test directory sees the override."""

import contextlib
import os
import shutil
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def django_db_keepdb(request, django_db_keepdb, django_db_createdb, django_db_use_migrations,
                     django_db_modify_db_settings):
    """On SQLite, each pytest process's test database starts as a copy of the one core's e2e processes copy
    (tests/e2e/processes.py: migrated once a run for the current migrations) instead of migrating its own (some 3 s
    of CPU for each worker). Django then opens it as a kept database: `migrate` still runs on it, finds nothing to
    apply, and sends post_migrate as usual; the copy is removed at the end of the session, as Django would remove the
    database it made."""
    from django.db import connections

    if django_db_keepdb or django_db_createdb or not django_db_use_migrations or len(connections.settings) != 1:
        return django_db_keepdb
    connection = connections["default"]
    if connection.vendor != "sqlite":  # the MongoDB profile: no file to copy, migrate as usual
        return django_db_keepdb
    name = connection.creation._get_test_db_name()
    if connection.creation.is_in_memory_db(name):
        return django_db_keepdb
    from tests.e2e.processes import migrated_template

    name = Path(name)
    template = migrated_template({"APP_ENV": "development", "DJANGO_SETTINGS_MODULE": "config.settings.core"})
    shutil.copyfile(template, name)

    def remove():
        connection.close()
        for path in (name, *(Path(f"{name}-{suffix}") for suffix in ("wal", "shm", "writer.lock"))):
            with contextlib.suppress(FileNotFoundError):
                os.remove(path)

    request.addfinalizer(remove)
    return True
