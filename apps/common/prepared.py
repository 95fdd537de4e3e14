"""ORM statements compiled once per connection and executed again with fresh parameters.

For the few statements on the hottest path (the permission check and its audit append): the SQL the ORM itself
generated, re-run without rebuilding and recompiling a QuerySet for every call. Core runs on SQLite or MongoDB: the
MongoDB profile (no SQL) gets None from `PreparedQuery.get` and takes the plain ORM path.
"""

import os
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta, timezone
from weakref import WeakKeyDictionary

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

# Statement names (a key's first part: "rbac:subject", "groups:page") whose callers take their ORM path instead,
# or "all": how the benchmark measures what each statement buys (bench/prepared_seam.py) and how the tests run
# each operation both ways (tests/common/test_prepared.py). Empty in production.
_switched_off: set[str] = {name.strip() for name in os.environ.get("PREPARED_SQL_OFF", "").split(",") if name.strip()}


def statement_name(key) -> str:
    return key[0] if isinstance(key, tuple) else key


def is_switched_off(key) -> bool:
    return bool(_switched_off) and ("all" in _switched_off or statement_name(key) in _switched_off)


@contextmanager
def switched_off(*names: str):
    """Within the block, the named statements (or "all") answer None from `PreparedQuery.get`: the ORM path."""
    added = set(names) - _switched_off
    _switched_off.update(added)
    try:
        yield
    finally:
        _switched_off.difference_update(added)


def in_list_size(count: int) -> int:
    """The IN-list length a statement for `count` values is compiled with: the next power of two, so that a
    handful of statements per connection serve lists of any length (`padded` fills the rest)."""
    return 1 << max(count - 1, 0).bit_length()


def padded(values, size: int) -> list:
    """`values` as a list of `size`, the last value repeated: a repeat in an IN list matches nothing new."""
    values = list(values)
    return values + values[-1:] * (size - len(values))


_DATETIME_SAMPLES = (
    datetime(2026, 11, 26, 13, 5, 9, 123456, tzinfo=UTC),
    datetime(2026, 1, 1, 0, 0, 0, tzinfo=timezone(timedelta(hours=5, minutes=30))),
    datetime(1999, 12, 31, 23, 59, 59, 1, tzinfo=timezone(timedelta(hours=-8))),
)


def aware_datetime_adapter(field, connection):
    """A function from an aware datetime to the value `field.get_db_prep_save` gives for it on `connection`.

    On SQLite that value is the datetime in the connection's time zone as text; the ORM's way to it costs a few
    microseconds of checks per value, which a batch of 500 timestamps feels. The direct conversion is used only
    when it gives exactly what the field gives on a few samples; otherwise, and on other backends, the field's."""

    def by_field(value):
        return field.get_db_prep_save(value, connection=connection)

    if connection.vendor != "sqlite":
        return by_field
    zone = connection.timezone

    def direct(value):
        return str(value.astimezone(zone).replace(tzinfo=None))

    if all(direct(sample) == by_field(sample) for sample in _DATETIME_SAMPLES):
        return direct
    return by_field


def _aware_datetime_converter(connection, converter):
    """`converter`, or where it is SQLite's for datetime columns, one that gives the same values for what that driver
    returns (a naive datetime, made aware in the connection's zone) without its checks; anything else takes the
    backend's own."""
    if connection.vendor != "sqlite" or converter != connection.ops.convert_datetimefield_value or \
            not settings.USE_TZ:
        return converter
    zone = connection.timezone

    def convert(value, expression, connection):
        if type(value) is datetime and value.tzinfo is None:
            return value.replace(tzinfo=zone)
        return converter(value, expression, connection)

    return convert


# A paged statement is compiled from the queryset sliced [PAGE_OFFSET:PAGE_OFFSET + PAGE_LIMIT]; the ORM writes
# the bounds into the SQL text, where they become the last two parameters.
PAGE_OFFSET, PAGE_LIMIT = 7_301_000_001, 7_301_000_002


def page_slice(queryset):
    """`queryset` with the stand-in bounds a paged PreparedQuery is built from."""
    return queryset[PAGE_OFFSET : PAGE_OFFSET + PAGE_LIMIT]


class PreparedQuery:
    """An ORM statement compiled once for one connection, executed again with fresh parameters.

    `slots` names parameters by the stand-in values the queryset was built with: one value, or a tuple of
    them for an IN list (then `rows` takes a list of the same length). Stand-ins must be values no real
    parameter of the statement takes. With `paged`, the queryset is `page_slice(...)` of one and `rows` takes
    `page=(offset, limit)`. Rows go through the compiler's own converters (looked up once per statement; on
    SQLite, the datetime one's checks left out where the driver's value needs none), so they read exactly as the ORM
    returns them (tests/common/test_prepared.py compares the two).
    """

    _by_connection: "WeakKeyDictionary[object, dict]" = WeakKeyDictionary()

    def __init__(self, queryset, connection, slots: dict | None = None, *, paged: bool = False):
        self.connection = connection
        self.compiler = queryset.query.get_compiler(connection=connection)
        self.sql, params = self.compiler.as_sql()
        # What results_iter() would look up again on every call: the same for every execution of this statement.
        columns = [select[0] for select in self.compiler.select[: self.compiler.col_count]]
        if self.compiler.has_composite_fields(columns):
            raise ValueError("composite fields are not supported")
        self.converters = {position: ([_aware_datetime_converter(connection, each) for each in functions], expression)
                           for position, (functions, expression) in self.compiler.get_converters(columns).items()}
        self.params = list(params)
        self.paged = paged
        if paged:
            bounds = connection.ops.limit_offset_sql(PAGE_OFFSET, PAGE_OFFSET + PAGE_LIMIT)
            if not self.sql.endswith(" " + bounds) or self.sql.count(bounds) != 1:
                raise ValueError(f"no stand-in bounds at the end of the compiled statement: {self.sql[-80:]}")
            self.sql = self.sql[: -len(bounds)] + "LIMIT %s OFFSET %s"
        self.slots: dict[str, tuple[bool, list[list[int]]]] = {}
        for name, stand_in in (slots or {}).items():
            many = isinstance(stand_in, tuple | list)
            positions = []
            for each in stand_in if many else (stand_in,):
                found = [index for index, value in enumerate(self.params) if value == each]
                if not found:
                    raise ValueError(f"stand-in {each!r} for {name!r} is not in the compiled statement")
                positions.append(found)
            self.slots[name] = (many, positions)

    @classmethod
    def get(cls, key, build, using: str = DEFAULT_DB_ALIAS) -> "PreparedQuery | None":
        """The statement `build(connection)` made for this connection, or None off SQLite (or switched off)."""
        connection = connections[using]
        if connection.vendor != "sqlite" or is_switched_off(key):
            return None
        statements = cls._by_connection.setdefault(connection, {})
        statement = statements.get(key)
        if statement is None:
            statement = statements[key] = build(connection)
        return statement

    def rows(self, *, page: tuple[int, int] | None = None, **values) -> list[tuple]:
        params = self.params
        if self.paged:
            offset, limit = page
            params = [*params, limit, offset]
        if values:
            params = list(params)
            for name, value in values.items():
                many, positions = self.slots[name]
                if many:
                    if len(value) != len(positions):
                        raise ValueError(f"{name!r} takes {len(positions)} values, got {len(value)}")
                    for each, places in zip(value, positions, strict=True):
                        for position in places:
                            params[position] = each
                else:
                    for position in positions[0]:
                        params[position] = value
        with self.connection.cursor() as cursor:
            cursor.execute(self.sql, params)
            fetched = cursor.fetchall()
        if not self.converters:
            return fetched
        return list(map(tuple, self.compiler.apply_converters(fetched, self.converters)))
