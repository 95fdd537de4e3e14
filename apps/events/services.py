"""Ingest of group events: all or nothing, idempotent by event_id, counters kept in the same transaction."""

from collections import Counter, defaultdict
from datetime import datetime

from django.contrib.auth.hashers import make_password
from django.db.models import F, Value
from django.db.models.functions import Coalesce, Greatest
from django.db.models.sql import InsertQuery
from django.utils import timezone

from apps.audit import actions
from apps.audit.services import AuditEntry, audit_record_many, writer_turn
from apps.common.db import atomic_attempts
from apps.common.errors import ValidationFailed
from apps.common.ids import parse_pk
from apps.common.prepared import PreparedQuery
from apps.groups.models import ChatIdAlias, Group, Membership
from apps.groups.services import membership_set
from apps.users.models import User

from .models import ActiveMember, ActivityBucket, GroupEvent

MAX_BATCH = 1000
_COUNTER_FIELD = {"message": "messages", "join": "joins", "leave": "leaves", "command": "commands"}


def _hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def _resolve_groups(events: list[dict]) -> list[Group]:
    chat_ids = {e["telegram_chat_id"] for e in events if "telegram_chat_id" in e}
    group_ids = {str(e["group_id"]) for e in events if "group_id" in e}
    by_chat, by_pk = {}, {}
    if chat_ids:
        for group in Group.objects.filter(telegram_chat_id__in=chat_ids):
            by_chat[group.telegram_chat_id] = group
        missing = chat_ids - set(by_chat)
        if missing:
            for alias in ChatIdAlias.objects.filter(telegram_chat_id__in=missing).select_related("group"):
                by_chat[alias.telegram_chat_id] = alias.group
    if group_ids:
        pks = {parse_pk(Group, value) for value in group_ids} - {None}
        by_pk = {str(group.pk): group for group in Group.objects.filter(pk__in=pks)}
    groups, unknown = [], {}
    for index, event in enumerate(events):
        group = by_chat.get(event["telegram_chat_id"]) if "telegram_chat_id" in event else by_pk.get(
            str(event["group_id"]))
        if group is None:
            unknown[str(index)] = ["Unknown group."]
        groups.append(group)
    if unknown:
        raise ValidationFailed(f"{len(unknown)} event(s) name an unknown group; the batch was not stored",
                               details={"events": unknown})
    return groups


def _resolve_users(events: list[dict]) -> tuple[dict[int, object], list[User]]:
    """Core user pks by Telegram id; users seen for the first time are created (and returned as such, to be
    audited)."""
    wanted = {e["telegram_user_id"]: e for e in events if e.get("telegram_user_id") is not None}
    pks = dict(User.objects.filter(telegram_user_id__in=wanted).values_list("telegram_user_id", "pk"))
    missing = [telegram_id for telegram_id in wanted if telegram_id not in pks]
    if not missing:
        return pks, []
    taken = set(User.objects.filter(username__in=[f"tg{t}".replace("-", "_") for t in missing])
                .values_list("username", flat=True))
    unusable = make_password(None)
    rows = []
    for telegram_id in missing:
        event = wanted[telegram_id]
        username = f"tg{telegram_id}".replace("-", "_")
        rows.append(User(
            username=username if username not in taken else f"{username}_{telegram_id % 997}x",
            telegram_user_id=telegram_id,
            telegram_username=(event.get("username") or "").lstrip("@"),
            display_name=event.get("display_name") or "",
            password=unusable,
        ))
    User.objects.bulk_create(rows)
    # Some backends do not return primary keys from bulk inserts: read them back.
    created = {user.telegram_user_id: user for user in User.objects.filter(telegram_user_id__in=missing)}
    pks.update((telegram_id, user.pk) for telegram_id, user in created.items())
    return pks, [created[telegram_id] for telegram_id in missing]


class _EventInsert:
    """The ORM's single-row INSERT of a GroupEvent, compiled once per connection and run with executemany: a
    batch of 500 events without building 500 model instances and preparing every value through the ORM.
    Values go in as the fields' get_db_prep_save() makes them (ids and strings as they are; times converted)."""

    FIELDS = ("event_id", "group", "user", "type", "command", "occurred_at", "received_at")

    def __init__(self, connection):
        self.connection = connection
        fields = [GroupEvent._meta.get_field(name) for name in self.FIELDS]
        now = timezone.now()
        query = InsertQuery(GroupEvent)
        query.insert_values(fields, [GroupEvent(event_id="", group_id=0, type="message", occurred_at=now)])
        statements = query.get_compiler(connection=connection).as_sql()
        if len(statements) != 1:
            raise ValueError("expected one INSERT statement")
        self.sql = statements[0][0]
        self.occurred_at, self.received_at = fields[-2], fields[-1]

    def times(self, events: list[dict]) -> list:
        """Every event's occurred_at as the database takes it."""
        connection, prepare = self.connection, self.occurred_at.get_db_prep_save
        return [prepare(event["occurred_at"], connection=connection) for event in events]

    def run(self, rows: list[tuple]) -> None:
        """rows: (event_id, group pk, user pk or None, type, command, occurred_at as `times` gave it)."""
        received = self.received_at.get_db_prep_save(timezone.now(), connection=self.connection)
        with self.connection.cursor() as cursor:
            cursor.executemany(self.sql, [(*row, received) for row in rows])


def _bulk_create_events(rows: list[tuple]) -> None:
    GroupEvent.objects.bulk_create(
        [GroupEvent(event_id=event_id, group_id=group_id, user_id=user_id, type=type_, command=command,
                    occurred_at=occurred_at) for event_id, group_id, user_id, type_, command, occurred_at in rows],
        batch_size=500,
    )


def _seen_event_ids(ids: set[str]) -> set[str]:
    """Which of `ids` are stored already. On SQL backends one compiled statement per batch size is reused."""
    stand_ins = tuple(f"\x00stand-in-{number}" for number in range(len(ids)))

    def build(connection):
        queryset = GroupEvent.objects.filter(event_id__in=stand_ins).values_list("event_id")
        return PreparedQuery(queryset, connection, {"ids": stand_ins})

    statement = PreparedQuery.get(("events:seen", len(ids)), build)
    if statement is None:
        return set(GroupEvent.objects.filter(event_id__in=ids).values_list("event_id", flat=True))
    return {event_id for (event_id,) in statement.rows(ids=list(ids))}


def events_ingest(*, events: list[dict]) -> dict:
    if len(events) > MAX_BATCH:
        raise ValidationFailed(f"At most {MAX_BATCH} events per batch")
    # What needs no database is done before this writer's turn, while another worker may be writing.
    hours = [_hour(event["occurred_at"]) for event in events]
    insert = PreparedQuery.get("events:insert", _EventInsert)
    times = insert.times(events) if insert is not None else None
    with writer_turn():
        for attempt in atomic_attempts():
            with attempt:
                groups = _resolve_groups(events)
                seen = _seen_event_ids({event["event_id"] for event in events})
                fresh = []  # indexes of the events stored now
                for index, event in enumerate(events):
                    if event["event_id"] in seen:
                        continue
                    seen.add(event["event_id"])
                    fresh.append(index)
                if not fresh:
                    return {"received": len(events), "accepted": 0, "duplicates": len(events)}
                users, new_users = _resolve_users([events[index] for index in fresh])
                rows = [
                    (events[index]["event_id"], groups[index].pk, users.get(events[index].get("telegram_user_id")),
                     events[index]["type"], events[index].get("command", ""),
                     events[index]["occurred_at"] if times is None else times[index])
                    for index in fresh
                ]
                if insert is not None:
                    insert.run(rows)
                else:
                    _bulk_create_events(rows)
                _update_buckets([(events[index], groups[index], hours[index]) for index in fresh], users)
                _update_memberships([(events[index], groups[index]) for index in fresh], users,
                                    {user.pk: user for user in new_users})
                audit_record_many(
                    [AuditEntry(action=actions.USER_CREATE, result="success", target_type="user",
                                target_id=user.pk, details={"username": user.username,
                                                            "telegram_user_id": user.telegram_user_id,
                                                            "via": "events"}) for user in new_users]
                    + [AuditEntry(action=actions.EVENTS_INGEST, result="success", target_type="events",
                                  details={"received": len(events), "accepted": len(fresh),
                                           "by_type": dict(Counter(events[index]["type"] for index in fresh))})]
                )
    return {"received": len(events), "accepted": len(fresh), "duplicates": len(events) - len(fresh)}


def _update_buckets(fresh: list[tuple[dict, Group, datetime]], users: dict[int, object]) -> None:
    counts: dict[tuple, Counter] = defaultdict(Counter)
    active: set[tuple] = set()
    for event, group, hour in fresh:
        key = (group.pk, hour)
        counts[key][_COUNTER_FIELD[event["type"]]] += 1
        user_pk = users.get(event.get("telegram_user_id"))
        if event["type"] in ("message", "command") and user_pk is not None:
            active.add((*key, user_pk))

    group_ids = {group_id for group_id, _ in counts}
    starts = {start for _, start in counts}
    existing = {
        (bucket.group_id, bucket.start): bucket
        for bucket in ActivityBucket.objects.filter(group_id__in=group_ids, start__in=starts)
    }
    to_create, to_update = [], []
    for (group_id, start), counter in counts.items():
        bucket = existing.get((group_id, start))
        if bucket is None:
            to_create.append(ActivityBucket(group_id=group_id, start=start, **counter))
            continue
        for field, amount in counter.items():
            setattr(bucket, field, getattr(bucket, field) + amount)
        to_update.append(bucket)
    ActivityBucket.objects.bulk_create(to_create)
    if to_update:
        ActivityBucket.objects.bulk_update(to_update, ["messages", "joins", "leaves", "commands"])

    if active:
        present = set(
            ActiveMember.objects.filter(group_id__in=group_ids, start__in=starts,
                                        user_id__in={user_id for *_, user_id in active})
            .values_list("group_id", "start", "user_id")
        )
        ActiveMember.objects.bulk_create(
            [ActiveMember(group_id=g, start=s, user_id=u) for g, s, u in active - present]
        )
    messages_by_group = Counter()
    for (group_id, _), counter in counts.items():
        messages_by_group[group_id] += counter["messages"]
    for group_id, amount in messages_by_group.items():
        if amount:
            Group.objects.filter(pk=group_id).update(message_count=F("message_count") + amount)


def _update_memberships(fresh: list[tuple[dict, Group]], users: dict[int, object], known_users: dict) -> None:
    """Message counts and last-seen times in bulk; joins and leaves that change a membership through the
    membership service (audited). One read of every membership the batch touches decides which those are: a
    join of someone already a member changes nothing, so it needs no call (which would find that out itself)."""
    touched = {(group.pk, users[event["telegram_user_id"]]) for event, group in fresh
               if event.get("telegram_user_id") is not None}
    if not touched:
        return
    state = {
        (group_id, user_id): (pk, status, restricted_until)
        for pk, group_id, user_id, status, restricted_until in Membership.objects.filter(
            group_id__in={group_id for group_id, _ in touched}, user_id__in={user_id for _, user_id in touched},
        ).values_list("pk", "group_id", "user_id", "status", "restricted_until")
    }

    def user_of(pk):
        if pk not in known_users:
            known_users[pk] = User.objects.get(pk=pk)
        return known_users[pk]

    def set_status(group: Group, user_pk, status: str) -> None:
        current = state.get((group.pk, user_pk))
        # What membership_set would leave untouched: the same status, and no restriction to lift.
        if current is not None and current[1] == status and not current[2]:
            return
        membership = membership_set(group=group, user=user_of(user_pk), status=status)
        state[(group.pk, user_pk)] = (membership.pk, membership.status, membership.restricted_until)

    spoken: dict[tuple, list] = defaultdict(lambda: [0, None])
    for event, group in fresh:
        user_pk = users.get(event.get("telegram_user_id"))
        if user_pk is None:
            continue
        if event["type"] == "join":
            set_status(group, user_pk, Membership.Status.MEMBER)
        elif event["type"] == "leave":
            set_status(group, user_pk, Membership.Status.LEFT)
        else:
            entry = spoken[(group, user_pk)]
            entry[0] += 1 if event["type"] == "message" else 0
            entry[1] = max(entry[1] or event["occurred_at"], event["occurred_at"])
    # One UPDATE per distinct (messages, last seen to the second), not one per member: a batch of live traffic
    # has a handful of those, where per-row updates (or bulk_update's CASE per row) cost most of the ingest.
    same_change: dict[tuple, list] = defaultdict(list)
    for (group, user_pk), (messages, last_seen) in spoken.items():
        current = state.get((group.pk, user_pk))
        if current is None:  # first sight of someone already in the chat
            membership = membership_set(group=group, user=user_of(user_pk), status=Membership.Status.MEMBER)
            current = state[(group.pk, user_pk)] = (membership.pk, membership.status, membership.restricted_until)
        same_change[(messages, last_seen.replace(microsecond=0))].append(current[0])
    for (messages, last_seen), pks in same_change.items():
        Membership.objects.filter(pk__in=pks).update(
            message_count=F("message_count") + messages,
            last_seen_at=Greatest(Coalesce(F("last_seen_at"), Value(last_seen)), Value(last_seen)),
        )
