"""Ingest of group events: all or nothing, idempotent by event_id, counters kept in the same transaction."""

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.hashers import make_password
from django.db.models import F

from apps.audit.services import AuditEntry, audit_record_many, writer_turn
from apps.common import audit_actions as actions
from apps.common.context import RequestContext, current_context
from apps.common.db import atomic_attempts, in_transaction
from apps.common.errors import ErrorCode, ValidationFailed
from apps.common.group_commit import GroupCommit
from apps.common.ids import parse_pk
from apps.common.prepared import PreparedQuery
from apps.groups.models import ChatIdAlias, Group, Membership
from apps.groups.services import membership_set
from apps.users.models import User

from .models import ActiveMember, ActivityBucket, GroupEvent
from .signals import events_ingested
from .statements import (
    EventInsert,
    SpokenUpdate,
    active_already,
    membership_state,
    seen_event_ids,
    spoken_update_values,
    users_by_telegram_id,
)
from .tally import from_epoch_ms, tallies_merged, tally

MAX_BATCH = 1000
_COUNTER_FIELD = {"message": "messages", "join": "joins", "leave": "leaves", "command": "commands"}


class UnknownGroupError(ValidationFailed):
    """Events of the batch name groups core does not know: details.events lists them by index ("Unknown group."),
    so the bot can register those chats and ship the batch again."""

    code = ErrorCode.UNKNOWN_GROUP


def _group_ref(event: dict) -> tuple:
    """How an event names its group: by Telegram chat id or by core id (resolved in the writer's turn)."""
    if "telegram_chat_id" in event:
        return ("chat", event["telegram_chat_id"])
    return ("pk", str(event["group_id"]))


def _resolve_groups(refs: list[tuple]) -> dict[tuple, Group]:
    """Each group reference of the batch -> its group; refuses the whole batch when an event names none."""
    chat_ids = {value for kind, value in set(refs) if kind == "chat"}
    group_ids = {value for kind, value in set(refs) if kind == "pk"}
    found: dict[tuple, Group] = {}
    if chat_ids:
        for group in Group.objects.filter(telegram_chat_id__in=chat_ids):
            found[("chat", group.telegram_chat_id)] = group
        missing = {chat_id for chat_id in chat_ids if ("chat", chat_id) not in found}
        if missing:
            for alias in ChatIdAlias.objects.filter(telegram_chat_id__in=missing).select_related("group"):
                found[("chat", alias.telegram_chat_id)] = alias.group
    if group_ids:
        pks = {parse_pk(Group, value) for value in group_ids} - {None}
        found.update((("pk", str(group.pk)), group) for group in Group.objects.filter(pk__in=pks))
    unknown = {str(index): ["Unknown group."] for index, ref in enumerate(refs) if ref not in found}
    if unknown:
        raise UnknownGroupError(f"{len(unknown)} event(s) name an unknown group; the batch was not stored",
                                details={"events": unknown})
    return found


def _resolve_users(wanted: dict[int, dict]) -> tuple[dict[int, object], list[User], list[tuple]]:
    """Core user pks by Telegram id (`wanted`: Telegram id -> the event that names the user best); users seen
    for the first time are created (and returned as such, to be audited), and a known user whose event names
    another @username gets it (returned as (pk, old name, new name), to be audited): see _keep_usernames."""
    known = users_by_telegram_id(list(wanted))
    pks = {telegram_id: pk for telegram_id, (pk, _) in known.items()}
    renamed = [(telegram_id, pk, old, new) for telegram_id, (pk, old) in known.items()
               if (new := _username(wanted[telegram_id])) and new != old]
    missing = [telegram_id for telegram_id in wanted if telegram_id not in pks]
    created = []
    if missing:
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
                telegram_username=_username(event),
                display_name=event.get("display_name") or "",
                password=unusable,
            ))
        User.objects.bulk_create(rows)
        # Some backends do not return primary keys from bulk inserts: read them back.
        by_telegram_id = {user.telegram_user_id: user for user in User.objects.filter(telegram_user_id__in=missing)}
        pks.update((telegram_id, user.pk) for telegram_id, user in by_telegram_id.items())
        created = [by_telegram_id[telegram_id] for telegram_id in missing]
    moves = _keep_usernames(renamed, [user for user in created if user.telegram_username])
    return pks, created, moves


def _username(event: dict) -> str:
    return (event.get("username") or "").lstrip("@")


def _keep_usernames(renamed: list[tuple], named: list[User]) -> list[tuple]:
    """Telegram usernames are unique at any one time and move between accounts: the name an event shows a
    sender under is theirs now, so a user renamed since core last saw them gets it, and an account core still
    knows by that name (a stale one) loses it. Otherwise core would answer "who is @name?" with nobody, or with
    two accounts, for as long as it lives. Returns (pk, old name, new name) of every change. Rare on live
    traffic: a batch without renames or newcomers with a name runs no query here."""
    moves = []
    for _telegram_id, pk, old, new in renamed:
        User.objects.filter(pk=pk).update(telegram_username=new)
        moves.append((pk, old, new))
    claims = {new.lower(): telegram_id for telegram_id, _, _, new in renamed}
    claims.update((user.telegram_username.lower(), user.telegram_user_id) for user in named)
    if not claims:
        return moves
    # Exact names for newcomers (their index serves it), any case for renamed users: a stale holder of a brand-new
    # account's name in another case keeps it, and the @name lookup then names no one rather than the wrong one.
    stale = User.objects.filter(telegram_username__in=[user.telegram_username for user in named])
    for _, _, _, new in renamed:
        stale = stale | User.objects.filter(telegram_username__iexact=new)
    for pk, telegram_id, name in stale.values_list("pk", "telegram_user_id", "telegram_username"):
        if claims.get(name.lower()) not in (None, telegram_id):
            User.objects.filter(pk=pk).update(telegram_username="")
            moves.append((pk, name, ""))
    return moves


def _bulk_create_events(rows: list[tuple]) -> None:
    GroupEvent.objects.bulk_create(
        [GroupEvent(event_id=event_id, group_id=group_id, user_id=user_id, type=type_, command=command,
                    occurred_at=occurred_at) for event_id, group_id, user_id, type_, command, occurred_at in rows],
        batch_size=500,
    )


class _Plan:
    """What a batch writes, worked out from its events alone before the writer's turn, while another worker may
    hold it: the rows, and every counter keyed by group reference and Telegram user id. The turn then only
    resolves those keys to primary keys and writes.

    The events are tallied once, by (group reference, sender, type, UTC minute): the hour buckets, who was active,
    each member's messages and last sight, and what the rollups are handed all come from the tally, whose keys a
    batch of live traffic has far fewer of than events (its events span seconds)."""

    def __init__(self, events: list[dict], refs: list[tuple], times: list, indexes: list[int]):
        self.indexes = indexes
        self.rows: list[tuple] = []  # (event_id, group ref, telegram user id, type, command, stored time)
        # (ref, telegram user id or None, type, UTC minute since the epoch) -> [events, first ms, last ms]
        self.tally = tally(((refs[index], events[index].get("telegram_user_id"), events[index]["type"]),
                            events[index]["occurred_at"]) for index in indexes)
        self.presence: list[tuple] = []  # (ref, telegram user id, membership status), joins and leaves in order
        self.senders: dict[int, dict] = {}  # telegram user id -> its latest event (names a new user)
        member, left = Membership.Status.MEMBER, Membership.Status.LEFT
        for index in indexes:
            event = events[index]
            ref, kind, sender = refs[index], event["type"], event.get("telegram_user_id")
            self.rows.append((event["event_id"], ref, sender, kind, event.get("command", ""), times[index]))
            if sender is None:
                continue
            self.senders[sender] = event
            if kind == "join":
                self.presence.append((ref, sender, member))
            elif kind == "leave":
                self.presence.append((ref, sender, left))
        self._count()

    def _count(self) -> None:
        self.counts: dict[tuple, Counter] = defaultdict(Counter)  # (ref, hour) -> counter field -> amount
        self.active: set[tuple] = set()  # (ref, hour, telegram user id) of everyone who wrote
        self.spoken: dict[tuple, list] = {}  # (ref, telegram user id) -> [messages, last seen]
        self.by_type: Counter = Counter()
        hours: dict[int, datetime] = {}
        for (ref, sender, kind, minute), (count, _first, last) in self.tally.items():
            hour = hours.get(minute // 60)
            if hour is None:
                hour = hours[minute // 60] = from_epoch_ms(minute // 60 * 3_600_000)
            self.counts[(ref, hour)][_COUNTER_FIELD[kind]] += count
            self.by_type[kind] += count
            if sender is None or kind in ("join", "leave"):
                continue
            self.active.add((ref, hour, sender))
            entry = self.spoken.get((ref, sender))
            if entry is None:
                entry = self.spoken[(ref, sender)] = [0, last]
            if kind == "message":
                entry[0] += count
            entry[1] = max(entry[1], last)
        for entry in self.spoken.values():
            entry[1] = from_epoch_ms(entry[1])

    @classmethod
    def combined(cls, plans: list["_Plan"]) -> "_Plan":
        """The plans of several batches as one, in their order (a later batch's event names a sender)."""
        if len(plans) == 1:
            return plans[0]
        merged = cls.__new__(cls)
        merged.indexes = []
        merged.rows = [row for plan in plans for row in plan.rows]
        merged.presence = [entry for plan in plans for entry in plan.presence]
        merged.senders = {}
        for plan in plans:
            merged.senders.update(plan.senders)
        merged.tally = tallies_merged(plan.tally for plan in plans)
        merged._count()
        return merged


def _first_of_each_id(events: list[dict]) -> list[int]:
    """Indexes of the events whose event_id the batch has not named before."""
    named, indexes = set(), []
    for index, event in enumerate(events):
        if event["event_id"] not in named:
            named.add(event["event_id"])
            indexes.append(index)
    return indexes


@dataclass(eq=False)
class _Batch:
    """One request's batch, planned, and what writing it came to."""

    events: list[dict]
    refs: list[tuple]
    times: list
    plan: _Plan
    context: RequestContext
    answer: dict | None = None
    error: Exception | None = None


def events_ingest(*, events: list[dict]) -> dict:
    if len(events) > MAX_BATCH:
        raise ValidationFailed(f"At most {MAX_BATCH} events per batch")
    refs = [_group_ref(event) for event in events]
    insert = PreparedQuery.get("events:insert", EventInsert)
    times = insert.times(events) if insert is not None else [event["occurred_at"] for event in events]
    batch = _Batch(events, refs, times, _Plan(events, refs, times, _first_of_each_id(events)), current_context())
    if in_transaction():  # inside the caller's transaction, never with another thread's batches
        _write([batch])
    else:
        _group_commit.submit(batch)
    if batch.error is not None:
        raise batch.error
    return batch.answer


def _write_batches(batches: list[_Batch]) -> None:
    """Each batch written and answered, or given its error: all in one transaction and one writer's turn, so a busy
    group's rollups, its bucket and each member's row are written once a turn rather than once a batch; when that
    transaction fails (one of the batches names an unknown group, say), each in its own, so each is all or
    nothing."""
    if len(batches) > 1 and _written_together(batches):
        return
    for batch in batches:
        try:
            _write([batch])
        except Exception as exc:  # raised again in the batch's own request
            batch.error = exc


# Concurrent requests of one process (gthread workers) share the writer's turn.
_group_commit = GroupCommit(_write_batches, writer_turn)


def _written_together(batches: list[_Batch]) -> bool:
    try:
        _write(batches)
    except Exception:  # each batch alone meets the same failure, or only the one at fault does
        return False
    return True


class _StoredBefore(Exception):
    """A batch assumed new named an event stored before: its transaction is rolled back and written again the
    exact way."""


def _write(batches: list[_Batch]) -> None:
    refs = [ref for batch in batches for ref in batch.refs]
    insert = PreparedQuery.get("events:insert", EventInsert)  # on this thread's connection, whoever planned them
    with writer_turn():
        try:
            # Where the insert can skip stored ids and count what it stored (SQLite's prepared path), the batches
            # are assumed new and nobody asks which ids are stored; a replay costs one rolled-back attempt.
            fresh = _write_in_turn(batches, refs, insert, assume_new=insert is not None)
        except _StoredBefore:
            fresh = _write_in_turn(batches, refs, insert, assume_new=False)
    for batch, plan in zip(batches, fresh, strict=True):
        received, accepted = len(batch.events), len(plan.indexes) if plan else 0
        batch.answer = {"received": received, "accepted": accepted, "duplicates": received - accepted}


def _write_in_turn(batches: list[_Batch], refs: list[tuple], insert: EventInsert | None, *,
                   assume_new: bool) -> list[_Plan | None]:
    for attempt in atomic_attempts():
        with attempt:
            groups = _resolve_groups(refs)
            stored = set() if assume_new else seen_event_ids(
                {event["event_id"] for batch in batches for event in batch.events})
            fresh = [_fresh_plan(batch, stored) for batch in batches]
            if any(fresh):
                _write_plan(batches, fresh, groups, insert, assume_new=assume_new)
    return fresh


def _fresh_plan(batch: _Batch, stored: set[str]) -> _Plan | None:
    """The batch's plan for the events not stored yet (None: all were), whose ids then count as stored: a later
    batch of the same turn repeating one has it as a duplicate."""
    indexes = [index for index in batch.plan.indexes if batch.events[index]["event_id"] not in stored]
    stored.update(batch.events[index]["event_id"] for index in indexes)
    if not indexes:
        return None
    return batch.plan if len(indexes) == len(batch.plan.indexes) else _Plan(batch.events, batch.refs, batch.times,
                                                                             indexes)


def _write_plan(batches: list[_Batch], fresh: list[_Plan | None], groups: dict[tuple, Group],
                insert: EventInsert | None, *, assume_new: bool) -> None:
    plan = _Plan.combined([each for each in fresh if each])
    users, new_users, renames = _resolve_users(plan.senders)
    group_pks = {ref: group.pk for ref, group in groups.items()}
    rows = [(event_id, group_pks[ref], users.get(sender), kind, command, moment)
            for event_id, ref, sender, kind, command, moment in plan.rows]
    if assume_new:
        if insert.run_unless_stored(rows) != len(rows):
            raise _StoredBefore
    elif insert is not None:
        insert.run(rows)
    else:
        _bulk_create_events(rows)
    _update_buckets(plan, group_pks, users)
    _update_memberships(plan, groups, users, {user.pk: user for user in new_users})
    if events_ingested.has_listeners(GroupEvent):
        events_ingested.send(sender=GroupEvent, activity=[
            ((groups[ref], users.get(sender), kind, minute), tallied)
            for (ref, sender, kind, minute), tallied in plan.tally.items()])
    audit_record_many(_audit_entries(batches, fresh, users, new_users, renames))


def _audit_entries(batches: list[_Batch], fresh: list[_Plan | None], users: dict[int, object],
                   new_users: list[User], renames: list[tuple]) -> list[AuditEntry]:
    """The users the events created or renamed, each under the request of the first batch naming them, then each
    batch that stored something, under its own request."""
    named_by = {}
    for batch in reversed(batches):
        named_by.update((sender, batch.context) for sender in batch.plan.senders)
    telegram_id_of = {pk: telegram_id for telegram_id, pk in users.items()}
    entries = [AuditEntry(action=actions.USER_CREATE, result="success", target_type="user", target_id=user.pk,
                          details={"username": user.username, "telegram_user_id": user.telegram_user_id,
                                   "via": "events"}, context=named_by.get(user.telegram_user_id))
               for user in new_users]
    entries += [AuditEntry(action=actions.USER_UPDATE, result="success", target_type="user", target_id=pk,
                           details={"changed": ["telegram_username"], "telegram_username": new,
                                    "previous_telegram_username": old, "via": "events"},
                           context=named_by.get(telegram_id_of.get(pk), batches[0].context))
                for pk, old, new in renames]
    entries += [AuditEntry(action=actions.EVENTS_INGEST, result="success", target_type="events",
                           details={"received": len(batch.events), "accepted": len(plan.indexes),
                                    "by_type": dict(plan.by_type)}, context=batch.context)
                for batch, plan in zip(batches, fresh, strict=True) if plan]
    return entries


def _update_buckets(batch: _Plan, group_pks: dict[tuple, object], users: dict[int, object]) -> None:
    """Adds the batch's counts to each (group, hour) bucket, records who was active in it, and adds the messages
    to each group's total. One statement per bucket and per group: a batch of live traffic touches a few."""
    counts: dict[tuple, Counter] = defaultdict(Counter)
    for (ref, hour), counter in batch.counts.items():
        counts[(group_pks[ref], hour)].update(counter)
    active: dict[tuple, set] = defaultdict(set)
    for ref, hour, sender in batch.active:
        active[(group_pks[ref], hour)].add(users[sender])
    messages_by_group: Counter = Counter()
    for (group_id, start), counter in counts.items():
        messages_by_group[group_id] += counter["messages"]
        added = ActivityBucket.objects.filter(group_id=group_id, start=start).update(
            **{field: F(field) + amount for field, amount in counter.items()})
        if not added:
            ActivityBucket.objects.create(group_id=group_id, start=start, **counter)
    for (group_id, start), user_ids in active.items():
        present = active_already(group_id, start, user_ids)
        ActiveMember.objects.bulk_create(
            [ActiveMember(group_id=group_id, start=start, user_id=user_id) for user_id in user_ids - present])
    for group_id, amount in messages_by_group.items():
        if amount:
            Group.objects.filter(pk=group_id).update(message_count=F("message_count") + amount)


def _update_memberships(batch: _Plan, groups: dict[tuple, Group], users: dict[int, object],
                        known_users: dict) -> None:
    """Message counts and last-seen times in bulk; joins and leaves that change a membership through the
    membership service (audited). One read of every membership the batch touches decides which those are: a
    join of someone already a member changes nothing, so it needs no call (which would find that out itself)."""
    touched = {(groups[ref].pk, users[sender]) for ref, sender in batch.spoken}
    touched.update((groups[ref].pk, users[sender]) for ref, sender, _ in batch.presence)
    if not touched:
        return
    state = membership_state({group_id for group_id, _ in touched}, {user_id for _, user_id in touched})

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

    for ref, sender, status in batch.presence:
        set_status(groups[ref], users[sender], status)
    spoken: dict[tuple, list] = {}  # two references to one group (a chat id and its alias) add up here
    for (ref, sender), (messages, last_seen) in batch.spoken.items():
        group = groups[ref]
        entry = spoken.setdefault((group.pk, users[sender]), [group, 0, last_seen])
        entry[1] += messages
        entry[2] = max(entry[2], last_seen)
    changes = []
    for (group_pk, user_pk), (group, messages, last_seen) in spoken.items():
        current = state.get((group_pk, user_pk))
        if current is None:  # first sight of someone already in the chat
            membership = membership_set(group=group, user=user_of(user_pk), status=Membership.Status.MEMBER)
            current = state[(group_pk, user_pk)] = (membership.pk, membership.status, membership.restricted_until)
        changes.append((current[0], messages, last_seen.replace(microsecond=0)))
    update = PreparedQuery.get("events:spoken", SpokenUpdate)
    if update is not None:
        update.run(changes)
        return
    # One UPDATE per distinct (messages, last seen to the second), not one per member: a batch of live traffic
    # has a handful of those.
    same_change: dict[tuple, list] = defaultdict(list)
    for pk, messages, last_seen in changes:
        same_change[(messages, last_seen)].append(pk)
    for (messages, last_seen), pks in same_change.items():
        Membership.objects.filter(pk__in=pks).update(**spoken_update_values(messages, last_seen))
