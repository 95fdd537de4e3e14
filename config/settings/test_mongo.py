"""Test profile on MongoDB: the test profile, with DATABASE_URL taken from MONGODB_TEST_URL.

`make test-mongo` (tests/mongo/run.py) starts a throwaway SecantusDB server and sets MONGODB_TEST_URL; a real
mongod replica set works too: MONGODB_TEST_URL=mongodb://host:27017/core?replicaSet=rs0 pytest --ds=...
The tests run against the database `test_<name>`, which they drop and recreate.
"""

import os

from django.core.exceptions import ImproperlyConfigured

_url = os.environ.get("MONGODB_TEST_URL", "")
if not _url.startswith(("mongodb://", "mongodb+srv://")):
    raise ImproperlyConfigured("config.settings.test_mongo needs MONGODB_TEST_URL=mongodb://...; run `make test-mongo`")
os.environ["DATABASE_URL"] = _url

from .test import *  # noqa: E402, F403
