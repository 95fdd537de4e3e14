"""The analytics benchmark's data set at the issue's full size (10 million events over 90 days in 1,000 groups among
100,000 members), built in minutes rather than the hours the HTTP ingest would take.

The raw events are inserted in bulk (one executemany a chunk, the columns ingest writes), and the rollups are
written by the product's own code: `rollups_apply`, the function ingest calls in each batch's transaction (and
`analytics_rebuild` replays), fed the same chunks in time order. What the bulk path leaves out is ingest's other
bookkeeping (user and membership upserts one by one, the activity buckets, the audit of each new membership): the
users and memberships are inserted in bulk, with the message counts and last-seen times the events give them, and
each group's member count per day (what ingest's snapshots record) follows its joins and leaves.

Events are drawn as bench.analytics draws its smaller set: group sizes Zipf-like, activity skewed within a group
(a Pareto draw over its member pool), 90% messages, 3% commands, 4% joins, 3% leaves; one moderation record per
200 events (reports among them) spread over the 90 days.
"""

import random
import time
from bisect import bisect_left
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from itertools import accumulate

DAYS = 90
FIRST_TELEGRAM_USER = 6_000_000
KINDS = ("message", "command", "join", "leave")
KIND_WEIGHTS = tuple(accumulate((90, 3, 4, 3)))
CHUNK = 50_000


def _insert_rows(table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
    from django.db import connection

    placeholders = ", ".join(["%s"] * len(columns))
    with connection.cursor() as cursor:
        cursor.executemany(f'INSERT INTO "{table}" ({", ".join(columns)}) VALUES ({placeholders})',  # noqa: S608 (model names)
                           rows)


def build(*, events: int, groups: int, members: int, seed: int = 19, reuse: bool = False,
          report=print) -> tuple[list, list]:
    """Builds the data set in the current database (SQLite); returns (groups, Telegram user ids by group).
    `reuse`: a database that already holds the data set these options build is used as it is."""
    from django.db import connection, transaction

    from apps.analytics.rollups import rollups_apply
    from apps.events.models import GroupEvent
    from apps.groups.models import Group, Membership
    from apps.users.models import User

    rng = random.Random(seed)
    started = time.monotonic()
    shares = [1 / (rank + 1) ** 0.7 for rank in range(groups)]
    cumulative_shares = list(accumulate(shares))
    pools = []
    for index in range(groups):
        size = max(10, int(members * shares[index] / cumulative_shares[-1] * 1.3))
        start = rng.randrange(members)
        pools.append([FIRST_TELEGRAM_USER + (start + offset) % members for offset in range(size)])
    chats = [-1008000000000 - index for index in range(groups)]
    if reuse and GroupEvent.objects.filter(event_id=f"b{events - 1}").exists():
        by_chat = Group.objects.in_bulk(chats, field_name="telegram_chat_id")
        report(f"  bulk data set: the one already in the database ({events:,} events)")
        return [by_chat[chat] for chat in chats], pools
    zones = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Asia/Tokyo"]
    created = Group.objects.bulk_create([
        Group(telegram_chat_id=chat, title=f"Bench group {index}", timezone=zones[index % 5])
        for index, chat in enumerate(chats)], batch_size=1000)
    User.objects.bulk_create([User(username=f"tg{FIRST_TELEGRAM_USER + index}",
                                   telegram_user_id=FIRST_TELEGRAM_USER + index, display_name=f"Member {index}")
                              for index in range(members)], batch_size=5000)
    user_pk = dict(User.objects.filter(telegram_user_id__gte=FIRST_TELEGRAM_USER)
                   .values_list("telegram_user_id", "pk"))
    report(f"  bulk data set: {groups:,} groups and {members:,} users inserted ({time.monotonic() - started:.0f} s)")

    end = datetime.now(UTC) - timedelta(minutes=10)
    begin = end - timedelta(days=DAYS)
    step = (end - begin) / events
    adapt = connection.ops.adapt_datetimefield_value
    columns = ("event_id", "group_id", "user_id", "type", "command", "occurred_at", "received_at")
    total_share, kind_total = cumulative_shares[-1], KIND_WEIGHTS[-1]
    spoken: dict[tuple, list] = {}  # (group index, user pk) -> [messages, last seen]
    net_joins: dict[int, Counter] = defaultdict(Counter)  # group index -> local-ish day -> joins - leaves
    raw_seconds = rollup_seconds = 0.0
    for first_number in range(0, events, CHUNK):
        chunk: list[tuple] = []
        for number in range(first_number, min(events, first_number + CHUNK)):
            moment = begin + step * number
            index = (bisect_left(cumulative_shares, rng.random() * total_share) if number % 64
                     else rng.randrange(groups))
            pool = pools[index]
            kind = KINDS[bisect_left(KIND_WEIGHTS, rng.random() * kind_total + 1e-9)]
            telegram_user = (pool[min(int(rng.paretovariate(1.2)) - 1, len(pool) - 1)] if kind == "message"
                             else pool[rng.randrange(len(pool))])
            chunk.append((index, user_pk[telegram_user], kind, moment))
        # Ingest applies a batch's events group after group; the order inside a chunk does not change the sums.
        chunk.sort(key=lambda event: (event[0], event[3]))
        started = time.monotonic()
        received = adapt(end)
        with transaction.atomic():
            _insert_rows(GroupEvent._meta.db_table, columns, [
                (f"b{first_number + offset}", created[index].pk, user, kind, "", adapt(moment), received)
                for offset, (index, user, kind, moment) in enumerate(chunk)])
            raw_seconds += time.monotonic() - started
            started = time.monotonic()
            rollups_apply(events=[(created[index], user, kind, moment) for index, user, kind, moment in chunk],
                          snapshot=False)
        rollup_seconds += time.monotonic() - started
        for index, user, kind, moment in chunk:
            if kind == "message":
                entry = spoken.setdefault((index, user), [0, moment])
                entry[0] += 1
                entry[1] = max(entry[1], moment)
            elif kind in ("join", "leave"):
                net_joins[index][moment.date()] += 1 if kind == "join" else -1
        if (first_number + CHUNK) % 1_000_000 < CHUNK:
            report(f"  bulk data set: {first_number + len(chunk):,} events (raw rows {raw_seconds:.0f} s, "
                   f"rollups {rollup_seconds:.0f} s)")

    Membership.objects.bulk_create([
        Membership(group=created[index], user_id=user, message_count=messages, last_seen_at=last_seen)
        for (index, user), (messages, last_seen) in spoken.items()], batch_size=5000, ignore_conflicts=True)
    _member_counts(created, pools, net_joins, begin.date())
    records = _moderation_records(rng, created, cumulative_shares, list(user_pk.values()), events // 200,
                                  begin, end)
    report(f"  bulk data set: {events:,} events, raw rows in {raw_seconds:.0f} s, rollups (rollups_apply, "
           f"{events / max(rollup_seconds, 1e-9):,.0f} events/s) in {rollup_seconds:.0f} s; {len(spoken):,} "
           f"memberships, {records:,} moderation records")
    return created, pools


def _member_counts(created: list, pools: list, net_joins: dict, first_day) -> None:
    """Each group's member count after each day (its pool at the start, then its joins and leaves), as ingest's
    snapshots record it on GroupDay, and the group's count today."""
    from django.db import connection

    from apps.analytics.models import GroupDay
    from apps.groups.models import Group

    updates, final = [], []
    for index, group in enumerate(created):
        count = len(pools[index])
        for offset in range(DAYS + 1):
            day = first_day + timedelta(days=offset)
            count = max(0, count + net_joins[index].get(day, 0))
            updates.append((count, group.pk, day.isoformat()))
        final.append(Group(pk=group.pk, member_count=count))
    with connection.cursor() as cursor:
        cursor.executemany(f'UPDATE "{GroupDay._meta.db_table}" SET member_count = %s '  # noqa: S608 (a model's)
                           "WHERE group_id = %s AND day = %s", updates)
    Group.objects.bulk_update(final, ["member_count"], batch_size=1000)


def _moderation_records(rng, created, cumulative_shares, user_pks, count, begin, end) -> int:
    from apps.moderation.models import ModerationAction

    moderators, targets = user_pks[:50], user_pks[:5000]
    records = []
    for _ in range(count):
        kind = rng.choice(("warn", "mute", "ban", "kick", "delete", "report"))
        rule = rng.choice(("antiflood", "blocklist", "")) if kind in ("mute", "delete") else ""
        group = created[bisect_left(cumulative_shares, rng.random() * cumulative_shares[-1])]
        records.append(ModerationAction(
            type=kind, group=group, actor_id=None if rule else rng.choice(moderators),
            target_id=rng.choice(targets), rule=rule, status="executed", source_service="bench",
            telegram_message_id=rng.randrange(1, 1000)))
    made = ModerationAction.objects.bulk_create(records, batch_size=2000)
    for record in made:
        record.created_at = begin + (end - begin) * rng.random()
    ModerationAction.objects.bulk_update(made, ["created_at"], batch_size=2000)
    return len(made)
