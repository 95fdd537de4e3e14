"""The import's INSERT compiled once per connection (SQL backends): 100,000 bans without building 100,000 model
instances and preparing every value through the ORM (Django also cuts SQLite's bulk_create into statements of 99
rows). Its caller in imports.py keeps the plain ORM path for the backends it does not fit (MongoDB), and a test holds
both paths to the same rows."""

from django.utils import timezone

from apps.common.prepared import PreparedQuery, aware_datetime_adapter

from .models import Ban

FIELDS = ("ban_list", "telegram_user_id", "reason", "active", "source", "banned_by", "banned_at", "updated_at",
          "version")


class BanInsert:
    """The ORM's single-row INSERT of a Ban, run with executemany. Values go in as the fields' get_db_prep_save()
    makes them: keys, ids, text and flags as they are, times through the field's conversion."""

    def __init__(self, connection):
        from django.db.models.sql import InsertQuery

        self.connection = connection
        fields = [Ban._meta.get_field(name) for name in FIELDS]
        now = timezone.now()
        query = InsertQuery(Ban)
        query.insert_values(fields, [Ban(ban_list_id=0, telegram_user_id=0, banned_at=now, updated_at=now,
                                         version=1)])
        statements = query.get_compiler(connection=connection).as_sql()
        if len(statements) != 1:
            raise ValueError("expected one INSERT statement")
        self.sql = statements[0][0]
        self.time = aware_datetime_adapter(Ban._meta.get_field("banned_at"), connection)

    def run(self, ban_list_id, rows: list[tuple], *, source: str, banned_by_id, version: int, now) -> None:
        time, updated_at = self.time, self.time(now)
        values = [(ban_list_id, telegram_user_id, reason, True, source, banned_by_id, time(banned_at), updated_at,
                   version) for telegram_user_id, reason, banned_at in rows]
        with self.connection.cursor() as cursor:
            cursor.executemany(self.sql, values)


def bans_insert(*, ban_list_id, rows: list[tuple], source: str, banned_by_id, version: int, now,
                batch: int) -> None:
    """Inserts active bans (telegram_user_id, reason, banned_at) on the list: one compiled statement on SQL stores,
    bulk_create else."""
    insert = PreparedQuery.get("banlists:insert", BanInsert)
    for start in range(0, len(rows), batch):
        chunk = rows[start:start + batch]
        if insert is not None:
            insert.run(ban_list_id, chunk, source=source, banned_by_id=banned_by_id, version=version, now=now)
            continue
        Ban.objects.bulk_create([
            Ban(ban_list_id=ban_list_id, telegram_user_id=telegram_user_id, reason=reason, active=True,
                source=source, banned_by_id=banned_by_id, banned_at=banned_at, updated_at=now, version=version)
            for telegram_user_id, reason, banned_at in chunk], batch_size=batch)
