"""The ingest's statements compiled once per connection (SQL backends): what a batch of live traffic runs without
the ORM's per-row work. Each one's caller in services.py has a plain ORM path for the backends these do not fit
(MongoDB)."""

from datetime import UTC, datetime

from django.db.models import F, Value
from django.db.models.constants import OnConflict
from django.db.models.functions import Coalesce, Greatest
from django.db.models.sql import InsertQuery, UpdateQuery
from django.utils import timezone

from apps.common.prepared import PreparedQuery, aware_datetime_adapter, in_list_size, padded
from apps.groups.models import Membership
from apps.users.models import User

from .models import ActiveMember, GroupEvent


class EventInsert:
    """The ORM's single-row INSERT of a GroupEvent, compiled once per connection and run with executemany: a
    batch of 500 events without building 500 model instances and preparing every value through the ORM.
    Values go in as the fields' get_db_prep_save() makes them (ids and strings as they are; times converted).

    `run_unless_stored` is the same INSERT that skips a row whose event_id is stored (the ORM's
    ignore_conflicts), and says how many it stored: ingest tries it before it asks which ids are stored, since
    live traffic's batches are new (a replay is the exception), and asks only when one was not."""

    FIELDS = ("event_id", "group", "user", "type", "command", "occurred_at", "received_at")

    def __init__(self, connection):
        self.connection = connection
        fields = [GroupEvent._meta.get_field(name) for name in self.FIELDS]
        sample = [GroupEvent(event_id="", group_id=0, type="message", occurred_at=timezone.now())]
        self.sql, self.sql_unless_stored = (self._compiled(fields, sample, on_conflict)
                                            for on_conflict in (None, OnConflict.IGNORE))
        # Validation gives aware datetimes only.
        self.occurred_at = aware_datetime_adapter(fields[-2], connection)
        self.received_at = aware_datetime_adapter(fields[-1], connection)

    def _compiled(self, fields: list, sample: list[GroupEvent], on_conflict: OnConflict | None) -> str:
        query = InsertQuery(GroupEvent, on_conflict=on_conflict)
        query.insert_values(fields, sample)
        statements = query.get_compiler(connection=self.connection).as_sql()
        if len(statements) != 1:
            raise ValueError("expected one INSERT statement")
        return statements[0][0]

    def times(self, events: list[dict]) -> list:
        """Every event's occurred_at as the database takes it."""
        prepare = self.occurred_at
        return [prepare(event["occurred_at"]) for event in events]

    def run(self, rows: list[tuple]) -> None:
        """rows: (event_id, group pk, user pk or None, type, command, occurred_at as `times` gave it)."""
        self._run(self.sql, rows)

    def run_unless_stored(self, rows: list[tuple]) -> int:
        """As run, skipping rows whose event_id is stored; returns how many rows it stored."""
        return self._run(self.sql_unless_stored, rows)

    def _run(self, sql: str, rows: list[tuple]) -> int:
        received = self.received_at(timezone.now())
        with self.connection.cursor() as cursor:
            cursor.executemany(sql, [(*row, received) for row in rows])
            return cursor.rowcount


def seen_event_ids(ids: set[str]) -> set[str]:
    """Which of `ids` are stored already."""
    size = in_list_size(len(ids))
    stand_ins = tuple(f"\x00stand-in-{number}" for number in range(size))

    def build(connection):
        queryset = GroupEvent.objects.filter(event_id__in=stand_ins).values_list("event_id")
        return PreparedQuery(queryset, connection, {"ids": stand_ins})

    statement = PreparedQuery.get(("events:seen", size), build)
    if statement is None:
        return set(GroupEvent.objects.filter(event_id__in=ids).values_list("event_id", flat=True))
    return {event_id for (event_id,) in statement.rows(ids=padded(ids, size))}


# Stand-ins for integer keys in compiled statements: no row has a negative primary key or Telegram id this low.
_KEY_STAND_IN = -(2**62)


def _stand_ins(size: int) -> tuple[int, ...]:
    return tuple(_KEY_STAND_IN - number for number in range(size))


def users_by_telegram_id(telegram_ids) -> dict[int, tuple[object, str]]:
    """(core user pk, stored @username) by Telegram id, for those of `telegram_ids` that have a user."""
    if not telegram_ids:  # a batch in which no event names a sender (channel posts, anonymous admins)
        return {}
    size = in_list_size(len(telegram_ids))

    def build(connection):
        queryset = (User.objects.filter(telegram_user_id__in=_stand_ins(size))
                    .values_list("telegram_user_id", "pk", "telegram_username"))
        return PreparedQuery(queryset, connection, {"ids": _stand_ins(size)})

    statement = PreparedQuery.get(("events:users", size), build)
    rows = (statement.rows(ids=padded(telegram_ids, size)) if statement is not None else
            User.objects.filter(telegram_user_id__in=telegram_ids).values_list("telegram_user_id", "pk",
                                                                              "telegram_username"))
    return {telegram_id: (pk, username) for telegram_id, pk, username in rows}


def membership_state(group_ids: set, user_ids: set) -> dict[tuple, tuple]:
    """(group pk, user pk) -> (membership pk, status, restricted_until) of those pairs' memberships (and of
    other pairs of the same groups and users, which the caller ignores)."""
    groups_size, users_size = in_list_size(len(group_ids)), in_list_size(len(user_ids))
    fields = ("pk", "group_id", "user_id", "status", "restricted_until")

    def build(connection):
        group_stand_ins, user_stand_ins = _stand_ins(groups_size), _stand_ins(groups_size + users_size)[groups_size:]
        queryset = Membership.objects.filter(group_id__in=group_stand_ins, user_id__in=user_stand_ins)
        return PreparedQuery(queryset.values_list(*fields), connection,
                             {"groups": group_stand_ins, "users": user_stand_ins})

    statement = PreparedQuery.get(("events:membership-state", groups_size, users_size), build)
    if statement is None:
        rows = Membership.objects.filter(group_id__in=group_ids, user_id__in=user_ids).values_list(*fields)
    else:
        rows = statement.rows(groups=padded(group_ids, groups_size), users=padded(user_ids, users_size))
    return {(group_id, user_id): (pk, status, restricted_until)
            for pk, group_id, user_id, status, restricted_until in rows}


def active_already(group_id, start: datetime, user_ids: set) -> set:
    """Which of `user_ids` are recorded as active in that group during the hour from `start`."""
    size = in_list_size(len(user_ids))
    hour_stand_in = datetime(1901, 1, 1, tzinfo=UTC)

    def build(connection):
        user_stand_ins = _stand_ins(size + 1)[1:]
        queryset = ActiveMember.objects.filter(group_id=_KEY_STAND_IN, start=hour_stand_in,
                                               user_id__in=user_stand_ins).values_list("user_id")
        start_field = ActiveMember._meta.get_field("start")
        return PreparedQuery(queryset, connection, {"group": _KEY_STAND_IN, "users": user_stand_ins,
                                                    "start": start_field.get_db_prep_value(hour_stand_in, connection)})

    statement = PreparedQuery.get(("events:active", size), build)
    if statement is None:
        return set(ActiveMember.objects.filter(group_id=group_id, start=start, user_id__in=user_ids)
                   .values_list("user_id", flat=True))
    start_value = ActiveMember._meta.get_field("start").get_db_prep_value(start, statement.connection)
    return {user_id for (user_id,) in statement.rows(group=group_id, start=start_value,
                                                     users=padded(user_ids, size))}


def spoken_update_values(messages: int, last_seen: datetime) -> dict:
    """A membership's update for `messages` more messages, the last of them at `last_seen`."""
    return {"message_count": F("message_count") + messages,
            "last_seen_at": Greatest(Coalesce(F("last_seen_at"), Value(last_seen)), Value(last_seen))}


class SpokenUpdate:
    """The ORM's UPDATE of one membership by `spoken_update_values`, compiled once per connection and run with
    executemany: one statement for everyone who spoke in a batch."""

    def __init__(self, connection):
        self.connection = connection
        self.last_seen = aware_datetime_adapter(Membership._meta.get_field("last_seen_at"), connection)
        moment = datetime(1901, 1, 1, tzinfo=UTC)
        query = Membership.objects.filter(pk=_KEY_STAND_IN).query.chain(UpdateQuery)
        query.add_update_values(spoken_update_values(_KEY_STAND_IN - 1, moment))
        self.sql, params = query.get_compiler(connection=connection).as_sql()
        slot = {_KEY_STAND_IN: 0, _KEY_STAND_IN - 1: 1, self.last_seen(moment): 2}
        if len(set(params) - set(slot)) or len(params) != 4:
            raise ValueError(f"unexpected parameters in the compiled update: {params!r}")
        self.positions = [slot[param] for param in params]

    def run(self, changes: list[tuple]) -> None:
        """changes: (membership pk, messages, last seen)."""
        prepare = self.last_seen
        rows = []
        for pk, messages, last_seen in changes:
            values = (pk, messages, prepare(last_seen))
            rows.append([values[position] for position in self.positions])
        with self.connection.cursor() as cursor:
            cursor.executemany(self.sql, rows)
