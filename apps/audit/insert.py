"""The audit event INSERT, compiled once per connection (the append's hot path: see services.py)."""

from django.db.models.sql import InsertQuery
from django.utils import timezone

from .models import AuditEvent

_TEXT_TYPES = frozenset({"CharField", "TextField"})
_INT_TYPES = frozenset({"IntegerField", "BigIntegerField", "PositiveIntegerField", "PositiveBigIntegerField"})


class AuditInsert:
    """The ORM's single-row INSERT of an AuditEvent, compiled once, run with executemany.

    Column values are what the field's get_db_prep_save() returns. Where that is the value itself (a str
    into a text column, an int into an integer column: checked once, here) the call is skipped, and a value
    shared by every row (the timestamp) is converted once. `prepare` converts all but the chain's columns
    before the write lock is taken; `run` adds those and inserts.
    """

    CHAIN_COLUMNS = ("sequence", "stream", "stream_seq", "previous_hash", "hash")

    def __init__(self, connection):
        self.connection = connection
        self.fields = [f for f in AuditEvent._meta.local_concrete_fields if not f.primary_key]
        query = InsertQuery(AuditEvent)
        sample = AuditEvent(sequence=0, stream="", stream_seq=0, created_at=timezone.now(), details={},
                            previous_hash="", hash="")
        query.insert_values(self.fields, [sample])
        statements = query.get_compiler(connection=connection).as_sql()
        if len(statements) != 1:
            raise ValueError("expected one INSERT statement")
        self.sql = statements[0][0]
        self.as_is = [self._unchanged_type(f) for f in self.fields]
        self.chain = [(index, f.attname, self.as_is[index]) for index, f in enumerate(self.fields)
                      if f.attname in self.CHAIN_COLUMNS]

    def _unchanged_type(self, field) -> type | None:
        """str or int when values of that type reach this column unchanged, else None."""
        internal = field.get_internal_type()
        kind, sample = (str, "sample") if internal in _TEXT_TYPES else (int, 1234567) if internal in _INT_TYPES else (
            None, None)
        if kind is None or field.get_db_prep_save(sample, connection=self.connection) is not sample:
            return None
        return kind

    def _value(self, index: int, value):
        kind = self.as_is[index]
        if kind is not None and type(value) is kind:
            return value
        return self.fields[index].get_db_prep_save(value, connection=self.connection)

    def prepare(self, rows: list[dict]) -> list[list]:
        """Database values of every column but the chain's (left None), in column order."""
        names = [None if f.attname in self.CHAIN_COLUMNS else f.attname for f in self.fields]
        converted = [index for index, name in enumerate(names) if name is not None and self.as_is[index] is None]
        checked = [(index, self.as_is[index]) for index, name in enumerate(names)
                   if name is not None and self.as_is[index] is not None]
        field_objects, connection = self.fields, self.connection
        shared: dict[int, tuple] = {}  # column -> (raw, converted) of the previous row, for values shared by all
        prepared = []
        for row in rows:
            values = [None if name is None else row[name] for name in names]
            for index, kind in checked:
                if type(values[index]) is not kind:
                    values[index] = field_objects[index].get_db_prep_save(values[index], connection=connection)
            for index in converted:
                raw = values[index]
                previous = shared.get(index)
                if previous is not None and previous[0] is raw and type(raw) not in (dict, list):
                    values[index] = previous[1]
                else:
                    values[index] = field_objects[index].get_db_prep_save(raw, connection=connection)
                    shared[index] = (raw, values[index])
            prepared.append(values)
        return prepared

    def run(self, rows: list[dict], prepared: list[list]) -> None:
        for row, values in zip(rows, prepared, strict=True):
            for index, name, _ in self.chain:
                values[index] = self._value(index, row[name])
        with self.connection.cursor() as cursor:
            cursor.executemany(self.sql, prepared)
