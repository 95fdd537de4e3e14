"""config/settings/env.py reads the environment as the settings need, where django-environ 0.14 would not (the
measurement is in docs/benchmarks.md, "Library swaps"): a value is never taken for a reference to another variable
(a secret may start with $), a boolean spelt neither true nor false stops the start, list items are trimmed, and a
blank number (compose's `X=` for unset) is the default."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.settings.env import env_bool, env_int, env_list, env_str


def test_a_value_starting_with_a_dollar_is_read_as_written(monkeypatch):
    monkeypatch.setenv("TEST_ENV_SECRET", "$ecret-made-by-get_random_secret_key")
    monkeypatch.setenv("ecret-made-by-get_random_secret_key", "another variable's value")
    assert env_str("TEST_ENV_SECRET") == "$ecret-made-by-get_random_secret_key"


@pytest.mark.parametrize(("raw", "value"), [("true", True), ("Yes", True), ("1", True), ("on", True),
                                            ("false", False), ("no", False), ("0", False), ("", False)])
def test_booleans_take_the_usual_spellings(monkeypatch, raw, value):
    monkeypatch.setenv("TEST_ENV_FLAG", raw)
    assert env_bool("TEST_ENV_FLAG", default=not value) is value


def test_a_misspelt_boolean_stops_the_start_instead_of_reading_false(monkeypatch):
    monkeypatch.setenv("TEST_ENV_FLAG", "ture")
    with pytest.raises(ImproperlyConfigured, match="TEST_ENV_FLAG must be a boolean"):
        env_bool("TEST_ENV_FLAG", default=False)
    monkeypatch.delenv("TEST_ENV_FLAG")
    assert env_bool("TEST_ENV_FLAG", default=True) is True


def test_list_items_are_trimmed_and_blank_ones_dropped(monkeypatch):
    monkeypatch.setenv("TEST_ENV_HOSTS", "a.example, b.example ,, ")
    assert env_list("TEST_ENV_HOSTS") == ["a.example", "b.example"]


def test_a_blank_number_is_the_default_and_a_wrong_one_stops_the_start(monkeypatch):
    monkeypatch.setenv("TEST_ENV_WORKERS", "")
    assert env_int("TEST_ENV_WORKERS", 2) == 2
    monkeypatch.setenv("TEST_ENV_WORKERS", "two")
    with pytest.raises(ImproperlyConfigured, match="TEST_ENV_WORKERS must be an integer"):
        env_int("TEST_ENV_WORKERS", 2)


@pytest.mark.django_db
def test_sqlite_connections_read_through_memory_mapping_with_the_configured_sizes(monkeypatch):
    """Each SQLite connection core opens applies the settings' pragmas (WAL, mmap, its page cache); the sizes come
    from SQLITE_MMAP_BYTES and SQLITE_CACHE_KIB."""
    from django.db import connection

    from config.settings.core import _sqlite_database

    if connection.vendor != "sqlite":
        pytest.skip("SQLite profile only")
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA mmap_size")
        mapped = cursor.fetchone()[0]
        cursor.execute("PRAGMA cache_size")
        cache = cursor.fetchone()[0]
    assert (mapped, cache) == (1 << 30, -16_384)
    monkeypatch.setenv("SQLITE_MMAP_BYTES", "0")
    monkeypatch.setenv("SQLITE_CACHE_KIB", "2000")
    command = _sqlite_database("sqlite:///unused.sqlite3")["OPTIONS"]["init_command"]
    assert "PRAGMA mmap_size=0;" in command and "PRAGMA cache_size=-2000;" in command
