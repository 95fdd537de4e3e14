"""The MongoDB profile's flush (tests/mongo/fast_flush.py) leaves every collection as the migrations left it.

The first test writes in every way a test can (the ORM, a transaction, another client, a command the flush's
listener cannot attribute to one collection); the next one, run after the real teardown, reads every collection.
"""

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission as AuthPermission
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import connection
from pymongo import MongoClient

from apps.common.db import atomic
from apps.rbac.models import Role
from tests.factories import make_group, make_user
from tests.mongo import fast_flush

pytestmark = pytest.mark.skipif(
    not settings.DATABASES["default"]["ENGINE"].startswith("django_mongodb_backend"),
    reason="the MongoDB profile's flush (make test-mongo)",
)


@pytest.fixture
def migrated(db):
    if connection.alias not in fast_flush._migrated:
        pytest.skip("tests/mongo/fast_flush.py is not loaded (python -m tests.mongo.run loads it)")
    return fast_flush._migrated[connection.alias]


def differences(migrated) -> dict[str, tuple[int, int]]:
    """Every collection whose documents (ids included) are not those the migrations left: name -> (found, wanted)."""
    different = {}
    for name in connection.database.list_collection_names():
        if name.startswith("system."):
            continue
        found = list(connection.database[name].find({}).sort("_id", 1))
        wanted = migrated.get(name, [])
        if found != wanted:
            different[name] = (len(found), len(wanted))
    return different


def write_everywhere(suffix: str) -> None:
    make_group(actor=make_user())  # empty collections, through the services (a transaction each)
    with atomic():
        admin = Role.objects.get(name="admin")
        admin.description = f"changed {suffix}"
        admin.save()  # a migrated document changed
    AuthPermission.objects.filter(codename="view_role").delete()  # a migrated document removed
    ContentType.objects.create(app_label="flush", model=f"probe{suffix}")  # a migrated collection added to
    client = MongoClient(**connection.get_connection_params())  # another client of this process
    try:
        client[connection.database.name]["users_user"].insert_one({"username": f"raw{suffix}"})
    finally:
        client.close()


def test_the_snapshot_is_the_migrated_catalogue(migrated):
    assert len(migrated["rbac_role"]) >= 8 and all(role["is_builtin"] for role in migrated["rbac_role"])
    assert migrated["auth_permission"] and migrated["django_content_type"]
    assert migrated["django_migrations"] and "users_user" not in migrated and "audit_auditevent" not in migrated
    assert differences(migrated) == {}


def test_a_test_that_writes_everywhere(migrated):
    write_everywhere("a")
    assert set(differences(migrated)) >= {"groups_group", "users_user", "rbac_role", "auth_permission",
                                          "django_content_type"}


def test_the_next_test_starts_from_the_migrated_state(migrated):
    assert differences(migrated) == {}


def test_the_flush_restores_what_it_saw_written(migrated):
    write_everywhere("b")
    call_command("flush", database=connection.alias, interactive=False, verbosity=0)
    assert differences(migrated) == {}


def test_a_write_the_listener_cannot_attribute_flushes_every_collection(migrated):
    users = connection.database["users_user"]
    users.insert_one({"username": "seed"})
    call_command("flush", database=connection.alias, interactive=False, verbosity=0)
    assert differences(migrated) == {}
    connection.database["rbac_role"].aggregate(
        [{"$match": {"name": "admin"}}, {"$project": {"username": "via-merge"}}, {"$merge": {"into": "users_user"}}])
    assert differences(migrated) == {"users_user": (1, 0)}
    call_command("flush", database=connection.alias, interactive=False, verbosity=0)
    assert differences(migrated) == {}
