"""The rollups' writes: applied by ingest inside the events' transaction (receivers.py), and rebuilt from the raw
events when a group's clock changes or for events stored before this app (analytics_rebuild).

Exact under replays: ingest hands over only the events it stored (event ids it had not seen), so a replayed batch
adds nothing; and since every write happens in the ingest's transaction, a batch that rolls back (or a MongoDB
attempt retried after a write conflict) leaves no counts behind. Each table is merged in two statements whatever
the batch: one read of the rows the batch touches, then one write of the merged rows, an upsert
(INSERT ... ON CONFLICT DO UPDATE) where the backend has one (SQLite), else the old rows deleted and the merged
ones inserted (MongoDB), both inside the transaction."""

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db.models import F

from apps.common.db import atomic
from apps.events.models import GroupEvent
from apps.events.tally import EPOCH, tally
from apps.groups.models import Group

from .models import ACTIVATION_DAYS, GroupDay, GroupHour, GroupWeek, MemberDay, MemberTotal, PlatformDay
from .statements import COHORT_DAY_FIELDS, cohort_days_statement, stored_rows, upsert_statement

_FIELD = {"message": "messages", "command": "commands", "join": "joins", "leave": "leaves"}
_COUNTERS = ("messages", "commands", "joins", "leaves")
REBUILD_CHUNK = 5000


def zone_of(group: Group) -> ZoneInfo:
    return ZoneInfo(group.timezone or "UTC")


class _Clock:
    """A group's local hour (as the UTC instant it starts) and local date of a moment, memoised by UTC minute (the
    moment's epoch milliseconds // 60,000): every zone's offset is whole minutes, so all moments of one UTC minute
    share both."""

    def __init__(self, zone: ZoneInfo):
        self.zone = zone
        self.seen: dict[int, tuple[datetime, date]] = {}

    def __call__(self, minute: int) -> tuple[datetime, date]:
        found = self.seen.get(minute)
        if found is None:
            local = (EPOCH + timedelta(minutes=minute)).astimezone(self.zone)
            found = self.seen[minute] = (local.replace(minute=0).astimezone(UTC), local.date())
        return found


def _merge(model, key_fields: tuple[str, ...], rows: dict[tuple, dict], combine: Callable[[dict, dict], dict],
           value_fields: tuple[str, ...], modes: tuple[tuple[str, object], ...] = ()) -> set[tuple] | None:
    """Merges `rows` (key -> values) into `model`'s rows of the same keys: `combine(stored values, values)` gives
    a stored key's new values. Returns the keys that had no row yet; None when `modes` (the same merge, field by
    field, in SQL: statements.py) did it in one statement without reading the rows (SQLite)."""
    if not rows:
        return None if modes and upsert_statement(model, key_fields, value_fields, modes) else set()
    if modes:
        upsert = upsert_statement(model, key_fields, value_fields, modes)
        if upsert is not None:
            upsert.run(rows)
            return None
    keys = [list({key[index] for key in rows}) for index in range(len(key_fields))]
    columns = ("pk", *key_fields, *value_fields)
    found = stored_rows(model, key_fields, columns, keys)
    if found is None:
        found = model.objects.filter(**{f"{name}__in": values for name, values in zip(key_fields, keys, strict=True)}
                                     ).values_list(*columns)
    width = len(key_fields)
    existing = {}
    for stored in found:
        key = stored[1:width + 1]
        if key in rows:
            existing[key] = (stored[0], dict(zip(value_fields, stored[width + 1:], strict=True)))
    merged = {key: values if key not in existing else combine(existing[key][1], values)
              for key, values in rows.items()}
    upsert = upsert_statement(model, key_fields, value_fields)
    if upsert is not None:
        upsert.run(merged)
    else:
        if existing:
            model.objects.filter(pk__in=[pk for pk, _ in existing.values()]).delete()
        model.objects.bulk_create([model(**dict(zip(key_fields, key, strict=True)), **values)
                                   for key, values in merged.items()], batch_size=500)
    return set(rows) - set(existing)


def _added(names: tuple[str, ...]) -> Callable[[dict, dict], dict]:
    def combine(stored: dict, values: dict) -> dict:
        return {name: stored[name] + values.get(name, 0) for name in names}
    return combine


def _earliest(*values):
    present = [value for value in values if value is not None]
    return min(present) if present else None


def rollups_apply(*, events: Iterable[tuple], snapshot: bool = True) -> None:
    """Adds events to the rollups. `events`: (group, user pk or None, type, occurred_at) each, stored already, each
    once. `snapshot`: record each group's member count on the day of its latest event in the batch (ingest does;
    a rebuild, replaying history, does not)."""
    tallied = tally(((group, user_id, kind), moment) for group, user_id, kind, moment in events)
    rollups_add(activity=tallied.items(), snapshot=snapshot)


def rollups_add(*, activity: Iterable[tuple], snapshot: bool = True) -> None:
    """Adds tallied events to the rollups: `activity` as ingest hands it over (apps/events/signals.py),
    ((group, user pk or None, type, UTC minute since the epoch), [events, first ms, last ms]) each. A group's local
    hour and day are the same for every moment of one UTC minute (zone offsets are whole minutes)."""
    clocks: dict[object, _Clock] = {}
    hours: dict[tuple, Counter] = defaultdict(Counter)
    days: dict[tuple, Counter] = defaultdict(Counter)
    member_days: dict[tuple, dict] = {}
    totals: dict[tuple, dict] = {}
    latest: dict[object, tuple[int, date]] = {}
    by_object: dict[int, tuple] = {}  # id(group) -> (pk, clock): ingest hands the same Group object per event
    for (group, user_id, kind, minute), (count, first_ms, last_ms) in activity:
        found = by_object.get(id(group))
        if found is None:
            clock = clocks.get(group.pk)
            if clock is None:
                clock = clocks[group.pk] = _Clock(zone_of(group))
            found = by_object[id(group)] = (group.pk, clock)
        group_id, clock = found
        hour, day = clock(minute)
        field = _FIELD[kind]
        hours[(group_id, hour)][field] += count
        days[(group_id, day)][field] += count
        if snapshot and (group_id not in latest or last_ms > latest[group_id][0]):
            latest[group_id] = (last_ms, day)
        if user_id is None:
            continue
        total = totals.get((group_id, user_id))
        if total is None:
            total = totals[(group_id, user_id)] = {
                "first_seen_ms": first_ms, "last_seen_ms": last_ms, "messages": 0, "commands": 0, "joins": 0,
                "leaves": 0, "joined_ms": None, "joined_on": None}
        else:
            total["first_seen_ms"] = min(total["first_seen_ms"], first_ms)
            total["last_seen_ms"] = max(total["last_seen_ms"], last_ms)
        total[field] += count
        if kind == "join":
            if total["joined_ms"] is None or first_ms < total["joined_ms"]:
                total["joined_ms"], total["joined_on"] = first_ms, day
            continue
        if kind == "leave":
            continue
        entry = member_days.get((group_id, day, user_id))
        if entry is None:
            member_days[(group_id, day, user_id)] = {"messages": 0, "commands": 0}
            entry = member_days[(group_id, day, user_id)]
        entry[field] += count

    _merge(GroupHour, ("group_id", "start"), {key: dict(counter) for key, counter in hours.items()},
           _added(_COUNTERS), _COUNTERS, _ADDED_COUNTERS)
    day_rows = {key: dict(counter) for key, counter in days.items()}
    if latest:
        counts = dict(Group.objects.filter(pk__in=list(latest)).values_list("pk", "member_count"))
        for group_id, (_moment, day) in latest.items():
            day_rows.setdefault((group_id, day), {})["member_count"] = counts[group_id]
    platform: dict[date, Counter] = defaultdict(Counter)
    weeks: dict[tuple, Counter] = defaultdict(Counter)
    for (group_id, day), counter in days.items():
        platform[day].update(counter)
        weeks[(group_id, day - timedelta(days=day.weekday()))].update(counter)
    member_day_keys = ("group_id", "day", "user_id")
    if upsert_statement(MemberDay, member_day_keys, _MEMBER_DAY_FIELDS, _MEMBER_DAY_MODES) is not None:
        # SQLite: the day and week rows first, then the member-days, whose insert (a member's first activity that
        # day, not a later one: that is the upsert's update) adds one active member to its GroupDay, PlatformDay
        # and GroupWeek in a trigger (migrations 0002, 0003): no count, no read.
        _merge(GroupDay, ("group_id", "day"), day_rows, _group_day_combined, _GROUP_DAY_FIELDS, _GROUP_DAY_MODES)
        _merge(PlatformDay, ("day",), {(day,): dict(counter) for day, counter in platform.items()},
               _platform_day_combined, _PLATFORM_DAY_FIELDS, _PLATFORM_DAY_MODES)
        _merge(GroupWeek, ("group_id", "week"), {key: dict(counter) for key, counter in weeks.items()},
               _platform_day_combined, _PLATFORM_DAY_FIELDS, _PLATFORM_DAY_MODES)
        _merge(MemberDay, member_day_keys, member_days, _added(_MEMBER_DAY_FIELDS), _MEMBER_DAY_FIELDS,
               _MEMBER_DAY_MODES)
    else:  # the rows read and rewritten: a member-day key not stored yet is one more active member
        for group_id, day, _user_id in _merge(MemberDay, member_day_keys, member_days,
                                              _added(_MEMBER_DAY_FIELDS), _MEMBER_DAY_FIELDS):
            day_rows[(group_id, day)]["active_members"] = day_rows[(group_id, day)].get("active_members", 0) + 1
            platform[day]["active_members"] += 1
            weeks[(group_id, day - timedelta(days=day.weekday()))]["active_members"] += 1
        _merge(GroupDay, ("group_id", "day"), day_rows, _group_day_combined, _GROUP_DAY_FIELDS)
        _merge(PlatformDay, ("day",), {(day,): dict(counter) for day, counter in platform.items()},
               _platform_day_combined, _PLATFORM_DAY_FIELDS)
        _merge(GroupWeek, ("group_id", "week"), {key: dict(counter) for key, counter in weeks.items()},
               _platform_day_combined, _PLATFORM_DAY_FIELDS)
    _merge(MemberTotal, ("group_id", "user_id"), totals, _total_combined, _TOTAL_FIELDS, _TOTAL_MODES)
    # Every member of the batch: their days or join may have moved, and the MongoDB path rewrote their row.
    cohort_days_refresh(set(totals))


_MEMBER_DAY_FIELDS = ("messages", "commands")
_MEMBER_DAY_MODES = (("messages", "add"), ("commands", "add"))
_GROUP_DAY_FIELDS = (*_COUNTERS, "active_members", "member_count")
_GROUP_DAY_MODES = (*tuple((name, "add") for name in _COUNTERS), ("active_members", "keep"),
                    ("member_count", "given"))
_PLATFORM_DAY_FIELDS = (*_COUNTERS, "active_members")
_PLATFORM_DAY_MODES = (*tuple((name, "add") for name in _COUNTERS), ("active_members", "keep"))


def _platform_day_combined(stored: dict, values: dict) -> dict:
    return {name: stored[name] + values.get(name, 0) for name in _PLATFORM_DAY_FIELDS}


def cohort_days_refresh(members: set[tuple]) -> None:
    """Recomputes the cohort days (activated_on, returned_7d_on, returned_30d_on) of the (group, user) members
    that have a first join, from their MemberDay rows: after a batch that touched their days or their join (an
    earlier join moves every threshold). One statement on SQLite (correlated subqueries on the member's days'
    index); elsewhere one read of the members' days and an update per changed member."""
    if not members:
        return
    statement = cohort_days_statement()
    if statement is not None:
        statement.run(members)
        return
    group_ids = {group_id for group_id, _ in members}
    user_ids = {user_id for _, user_id in members}
    joined = {(group_id, user_id): (pk, joined_on, marks) for pk, group_id, user_id, joined_on, *marks in
              MemberTotal.objects.filter(group_id__in=group_ids, user_id__in=user_ids, joined_on__isnull=False)
              .values_list("pk", "group_id", "user_id", "joined_on", *COHORT_DAY_FIELDS)
              if (group_id, user_id) in members}
    if not joined:
        return
    active: dict[tuple, list] = defaultdict(list)
    for group_id, user_id, day, messages in (
            MemberDay.objects.filter(group_id__in={key[0] for key in joined}, user_id__in={key[1] for key in joined},
                                     day__gte=min(value[1] for value in joined.values()))
            .values_list("group_id", "user_id", "day", "messages")):
        if (group_id, user_id) in joined:
            active[(group_id, user_id)].append((day, messages))
    for key, (pk, joined_on, marks) in joined.items():
        days = active.get(key, [])
        activation_end = joined_on + timedelta(days=ACTIVATION_DAYS - 1)
        found = [min((day for day, messages in days if joined_on <= day <= activation_end and messages), default=None),
                 *(min((day for day, _ in days if day >= joined_on + timedelta(days=after)), default=None)
                   for after in (7, 30))]
        if found != list(marks):
            MemberTotal.objects.filter(pk=pk).update(**dict(zip(COHORT_DAY_FIELDS, found, strict=True)))


_ADDED_COUNTERS = tuple((name, "add") for name in _COUNTERS)
_TOTAL_FIELDS = ("first_seen_ms", "last_seen_ms", "messages", "commands", "joins", "leaves", "joined_ms", "joined_on")
_TOTAL_MODES = (("first_seen_ms", "min"), ("last_seen_ms", "max"), *_ADDED_COUNTERS,
                ("joined_ms", ("earliest", "joined_ms")), ("joined_on", ("earliest", "joined_ms")))


def _total_combined(stored: dict, values: dict) -> dict:
    merged = {"first_seen_ms": min(stored["first_seen_ms"], values["first_seen_ms"]),
              "last_seen_ms": max(stored["last_seen_ms"], values["last_seen_ms"]),
              **{name: stored[name] + values[name] for name in _COUNTERS},
              "joined_ms": stored["joined_ms"], "joined_on": stored["joined_on"]}
    if values["joined_ms"] is not None and (stored["joined_ms"] is None or values["joined_ms"] < stored["joined_ms"]):
        merged["joined_ms"], merged["joined_on"] = values["joined_ms"], values["joined_on"]
    return merged


def _group_day_combined(stored: dict, values: dict) -> dict:  # not on SQLite: the mode in SQL there
    merged = {name: stored[name] + values.get(name, 0) for name in (*_COUNTERS, "active_members")}
    merged["member_count"] = values.get("member_count", stored["member_count"])
    return merged


def analytics_rebuild(*, group: Group) -> int:
    """Recomputes a group's rollups from its stored events in its current clock (after a time zone change, or for
    events stored before rollups existed). Member count snapshots are kept, by date. Returns the events read."""
    with atomic():
        snapshots = dict(GroupDay.objects.filter(group=group, member_count__isnull=False)
                         .values_list("day", "member_count"))
        for day, *values in GroupDay.objects.filter(group=group).values_list("day", *_PLATFORM_DAY_FIELDS):
            PlatformDay.objects.filter(day=day).update(
                **{name: F(name) - value for name, value in zip(_PLATFORM_DAY_FIELDS, values, strict=True) if value})
        for model in (GroupHour, GroupDay, GroupWeek, MemberDay, MemberTotal):
            model.objects.filter(group=group).delete()
        count, chunk = 0, []
        rows = (GroupEvent.objects.filter(group=group).order_by("occurred_at")
                .values_list("user_id", "type", "occurred_at"))
        for user_id, kind, moment in rows.iterator(chunk_size=REBUILD_CHUNK):
            chunk.append((group, user_id, kind, moment))
            if len(chunk) == REBUILD_CHUNK:
                rollups_apply(events=chunk, snapshot=False)
                count, chunk = count + len(chunk), []
        if chunk:
            rollups_apply(events=chunk, snapshot=False)
            count += len(chunk)
        _merge(GroupDay, ("group_id", "day"),
               {(group.pk, day): {"member_count": value} for day, value in snapshots.items()},
               lambda stored, values: {**{name: stored[name] for name in (*_COUNTERS, "active_members")},
                                    "member_count": values["member_count"]},
               (*_COUNTERS, "active_members", "member_count"),
               (*_ADDED_COUNTERS, ("active_members", "add"), ("member_count", "set")))
    return count


def day_range(first: date, last: date) -> list[date]:
    return [first + timedelta(days=offset) for offset in range((last - first).days + 1)]
