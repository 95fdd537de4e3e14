"""The rollups' upsert compiled once per connection (SQLite): the ORM's own INSERT ... ON CONFLICT DO UPDATE for one
row, run with executemany over a batch's merged rows, without building a model instance and preparing every value
through the ORM per row (which cost more than the rest of ingest). The MongoDB profile gets None and takes the
plain ORM path in rollups.py; a test runs both paths on the same events (tests/analytics)."""

from datetime import UTC, date, datetime, timedelta

from django.db import models
from django.db.models.constants import OnConflict
from django.db.models.sql import InsertQuery

from apps.common.prepared import PreparedQuery, aware_datetime_adapter, in_list_size, padded

from .models import ACTIVATION_DAYS


def _adapter(field, connection):
    if isinstance(field, models.DateTimeField):
        adapt = aware_datetime_adapter(field, connection)
        return lambda value: None if value is None else adapt(value)
    if isinstance(field, models.DateField):
        return lambda value: None if value is None else connection.ops.adapt_datefield_value(value)
    return None


def _merged(column: str, mode, quote) -> str:
    """The SQL of a stored row's column after merging the inserted row's (EXCLUDED) into it; every right-hand side
    reads the row as stored before the update."""
    name, new = quote(column), f"EXCLUDED.{quote(column)}"
    if mode == "add":
        return f"{name} + {new}"
    if mode in ("min", "max"):
        return f"{mode.upper()}({name}, {new})"
    if mode == "set":
        return new
    if mode == "keep":  # the stored value (the column is only inserted: a new row's value)
        return name
    if mode == "given":  # the inserted value where there is one
        return f"COALESCE({new}, {name})"
    kind, by = mode  # ("earliest", field): this row's value where its `by` is earlier (or the stored one is null)
    assert kind == "earliest"
    by, new_by = quote(by), f"EXCLUDED.{quote(by)}"
    return f"CASE WHEN {new_by} IS NOT NULL AND ({by} IS NULL OR {new_by} < {by}) THEN {new} ELSE {name} END"


class Upsert:
    """INSERT of (key fields, value fields) that, for a row with the same key, updates the value fields: to the
    inserted values, or (`modes`, field -> mode) to the stored and inserted values merged in SQL."""

    def __init__(self, model, key_fields: tuple[str, ...], value_fields: tuple[str, ...], connection,
                 modes: tuple[tuple[str, object], ...] = ()):
        self.connection = connection
        meta = model._meta
        fields = [meta.get_field(name) for name in (*key_fields, *value_fields)]
        query = InsertQuery(model, on_conflict=OnConflict.UPDATE,
                            update_fields=[meta.get_field(name) for name in value_fields],
                            unique_fields=[meta.get_field(name) for name in key_fields])
        query.insert_values(fields, [model()])
        statements = query.get_compiler(connection=connection).as_sql()
        if len(statements) != 1 or "ON CONFLICT" not in statements[0][0]:
            raise ValueError("expected one INSERT ... ON CONFLICT statement")
        self.sql = statements[0][0]
        if modes:
            head, separator, _ = self.sql.partition(" DO UPDATE SET ")
            if not separator:
                raise ValueError("expected DO UPDATE SET")
            quote = connection.ops.quote_name
            self.sql = head + separator + ", ".join(
                f"{quote(meta.get_field(name).column)} = {_merged(meta.get_field(name).column, mode, quote)}"
                if not isinstance(mode, tuple) else
                f"{quote(meta.get_field(name).column)} = "
                f"{_merged(meta.get_field(name).column, (mode[0], meta.get_field(mode[1]).column), quote)}"
                for name, mode in modes)
        self.adapters = [(index, adapt) for index, field in enumerate(fields)
                         if (adapt := _adapter(field, connection)) is not None]
        self.defaults = {field.name: field.get_default() for field in fields[len(key_fields):]}
        self.key_count = len(key_fields)
        self.value_fields = value_fields

    def run(self, rows: dict[tuple, dict]) -> None:
        """rows: key -> values (a value not given takes the field's default). A column that needs converting (dates,
        times) is converted once per distinct value: a batch's rows share a few days and hours."""
        defaults, names = self.defaults, self.value_fields
        params = [[*key, *[values.get(name, defaults[name]) for name in names]] for key, values in rows.items()]
        for index, adapt in self.adapters:
            converted = {}
            for row in params:
                value = row[index]
                found = converted.get(value)
                if found is None:
                    found = converted[value] = adapt(value)
                row[index] = found
        with self.connection.cursor() as cursor:
            cursor.executemany(self.sql, params)


def upsert_statement(model, key_fields: tuple[str, ...], value_fields: tuple[str, ...],
                     modes: tuple[tuple[str, object], ...] = ()) -> Upsert | None:
    """The compiled upsert (SQLite), None elsewhere. `modes` (one per value field, in order): merge in SQL."""
    return PreparedQuery.get(("analytics:upsert", model._meta.label, key_fields, value_fields, modes),
                             lambda connection: Upsert(model, key_fields, value_fields, connection, modes))


COHORT_DAY_FIELDS = ("activated_on", "returned_7d_on", "returned_30d_on")


# The cohort days of one member (MemberTotal) from their MemberDay rows, by correlated subqueries that seek the
# (group, user, day) index; SQLite's date() moves the join day by 7 and 30 days (dates are stored as YYYY-MM-DD).
# The one value put into the text is the activation window's constant.
_COHORT_DAYS_SQL = f"""
UPDATE analytics_membertotal SET
    activated_on = (SELECT MIN(d.day) FROM analytics_memberday d
                     WHERE d.group_id = analytics_membertotal.group_id AND d.user_id = analytics_membertotal.user_id
                       AND d.day >= analytics_membertotal.joined_on AND d.messages > 0
                       AND d.day <= date(analytics_membertotal.joined_on, '+{ACTIVATION_DAYS - 1} days')),
    returned_7d_on = (SELECT MIN(d.day) FROM analytics_memberday d
                       WHERE d.group_id = analytics_membertotal.group_id AND d.user_id = analytics_membertotal.user_id
                         AND d.day >= date(analytics_membertotal.joined_on, '+7 days')),
    returned_30d_on = (SELECT MIN(d.day) FROM analytics_memberday d
                        WHERE d.group_id = analytics_membertotal.group_id AND d.user_id = analytics_membertotal.user_id
                          AND d.day >= date(analytics_membertotal.joined_on, '+30 days'))
 WHERE group_id = %s AND user_id = %s AND joined_on IS NOT NULL
"""  # noqa: S608


class CohortDays:
    """The cohort-days update, run with executemany over a batch's (group, user) members."""

    def __init__(self, connection):
        self.connection = connection

    def run(self, members) -> None:
        with self.connection.cursor() as cursor:
            cursor.executemany(_COHORT_DAYS_SQL, list(members))


def cohort_days_statement() -> CohortDays | None:
    """The compiled cohort-days update (SQLite), None elsewhere (rollups.py reads and updates through the ORM)."""
    return PreparedQuery.get("analytics:cohort-days", CohortDays)


# Stand-ins for the compiled reads' IN lists: values no stored row has.
_KEY_STAND_IN = -(2**62)
_DAY_STAND_IN = date(1901, 1, 1)
_MOMENT_STAND_IN = datetime(1901, 1, 1, tzinfo=UTC)


def _key_adapter(field, connection):
    """The function from a key value to the parameter the compiled statement takes for it."""
    adapt = _adapter(field, connection)
    return adapt if adapt is not None else (lambda value: value)


def _stand_in(field, number: int):
    if isinstance(field, models.DateTimeField):
        return _MOMENT_STAND_IN + timedelta(hours=number)
    if isinstance(field, models.DateField):
        return _DAY_STAND_IN + timedelta(days=number)
    return _KEY_STAND_IN - number


def stored_rows(model, key_fields: tuple[str, ...], columns: tuple[str, ...], keys: list[list]) -> list[tuple] | None:
    """`columns` of the rows whose key fields take values among `keys` (one list per key field), by a statement
    compiled once per connection and IN-list sizes (SQLite); None elsewhere (the caller asks the ORM)."""
    sizes = tuple(in_list_size(len(values)) for values in keys)
    fields = [model._meta.get_field(name) for name in key_fields]

    def build(connection):
        lookups, slots, number = {}, {}, 0
        for name, field, size in zip(key_fields, fields, sizes, strict=True):
            stand_ins = tuple(_stand_in(field, number + offset) for offset in range(size))
            number += size
            lookups[f"{name}__in"] = stand_ins
            adapt = _key_adapter(field, connection)
            slots[name] = tuple(adapt(value) for value in stand_ins)
        return PreparedQuery(model.objects.filter(**lookups).values_list(*columns), connection, slots)

    statement = PreparedQuery.get(("analytics:rows", model._meta.label, key_fields, columns, sizes), build)
    if statement is None:
        return None
    values = {}
    for name, field, size, given in zip(key_fields, fields, sizes, keys, strict=True):
        adapt = _key_adapter(field, statement.connection)
        values[name] = padded([adapt(value) for value in given], size)
    return statement.rows(**values)
