"""pytest plugin for the MongoDB profile (loaded by tests/mongo/run.py): only the tests that use the database.

A test with no database fixture and no `django_db` mark cannot reach the database (pytest-django refuses it), so
nothing it checks varies with the storage profile: `make test` runs it already, on the same code. Running it again
here cost minutes of the two CPUs CI shares between both suites (property tests, subprocesses, schema builds).
MONGO_ALL_TESTS=1 keeps them (to see the whole suite pass on this profile's settings).

PROFILE_TESTS are kept although they use no database: what they check is built from this profile's settings
(models with ObjectId keys, its own contrib app configs), not only from the code.
"""

import os

DATABASE_FIXTURES = frozenset({"db", "transactional_db", "live_server", "django_db_reset_sequences",
                               "django_db_serialized_rollback"})

PROFILE_TESTS = frozenset({
    "tests/common/test_openapi.py::test_spectacular_validates_without_warnings",
})


def kept(item) -> bool:
    return item.nodeid in PROFILE_TESTS or bool(DATABASE_FIXTURES & set(getattr(item, "fixturenames", ()))) or \
        item.get_closest_marker("django_db") is not None


def pytest_collection_modifyitems(session, config, items):
    if os.environ.get("MONGO_ALL_TESTS") == "1":
        return
    kept_items = [item for item in items if kept(item)]
    left_out = [item for item in items if not kept(item)]
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = kept_items
