"""Ingest of group events: all or nothing, idempotent by event_id, counters kept in the same transaction."""

from collections import Counter, defaultdict
from datetime import datetime

from django.contrib.auth.hashers import make_password
from django.db.models import F, Value
from django.db.models.functions import Coalesce, Greatest

from apps.audit import actions
from apps.audit.services import AuditEntry, audit_record_many
from apps.common.db import atomic_attempts
from apps.common.errors import ValidationFailed
from apps.common.ids import parse_pk
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


def _resolve_users(events: list[dict]) -> tuple[dict[int, User], list[User]]:
    """Users by Telegram id; those seen for the first time are created (and returned as such, to be audited)."""
    wanted = {e["telegram_user_id"]: e for e in events if e.get("telegram_user_id") is not None}
    users = {user.telegram_user_id: user for user in User.objects.filter(telegram_user_id__in=wanted)}
    missing = [telegram_id for telegram_id in wanted if telegram_id not in users]
    created = []
    if missing:
        taken = set(User.objects.filter(username__in=[f"tg{t}".replace("-", "_") for t in missing])
                    .values_list("username", flat=True))
        unusable = make_password(None)
        for telegram_id in missing:
            event = wanted[telegram_id]
            username = f"tg{telegram_id}".replace("-", "_")
            created.append(User(
                username=username if username not in taken else f"{username}_{telegram_id % 997}x",
                telegram_user_id=telegram_id,
                telegram_username=(event.get("username") or "").lstrip("@"),
                display_name=event.get("display_name") or "",
                password=unusable,
            ))
        User.objects.bulk_create(created)
        # Some backends do not return primary keys from bulk inserts: read them back.
        for user in User.objects.filter(telegram_user_id__in=missing):
            users[user.telegram_user_id] = user
    return users, [users[telegram_id] for telegram_id in missing]


def events_ingest(*, events: list[dict]) -> dict:
    if len(events) > MAX_BATCH:
        raise ValidationFailed(f"At most {MAX_BATCH} events per batch")
    for attempt in atomic_attempts():
        with attempt:
            groups = _resolve_groups(events)
            ids = [event["event_id"] for event in events]
            seen = set(GroupEvent.objects.filter(event_id__in=set(ids)).values_list("event_id", flat=True))
            fresh = []
            for event, group in zip(events, groups, strict=True):
                if event["event_id"] in seen:
                    continue
                seen.add(event["event_id"])
                fresh.append((event, group))
            if not fresh:
                return {"received": len(events), "accepted": 0, "duplicates": len(events)}
            users, new_users = _resolve_users([event for event, _ in fresh])

            GroupEvent.objects.bulk_create(
                [
                    GroupEvent(event_id=event["event_id"], group=group, user=users.get(event.get("telegram_user_id")),
                               type=event["type"], command=event.get("command", ""), occurred_at=event["occurred_at"])
                    for event, group in fresh
                ],
                batch_size=500,
            )
            _update_buckets(fresh, users)
            _update_memberships(fresh, users)
            audit_record_many(
                [AuditEntry(action=actions.USER_CREATE, result="success", target_type="user", target_id=user.pk,
                            details={"username": user.username, "telegram_user_id": user.telegram_user_id,
                                     "via": "events"}) for user in new_users]
                + [AuditEntry(action=actions.EVENTS_INGEST, result="success", target_type="events",
                              details={"received": len(events), "accepted": len(fresh),
                                       "by_type": dict(Counter(event["type"] for event, _ in fresh))})]
            )
    return {"received": len(events), "accepted": len(fresh), "duplicates": len(events) - len(fresh)}


def _update_buckets(fresh: list[tuple[dict, Group]], users: dict[int, User]) -> None:
    counts: dict[tuple, Counter] = defaultdict(Counter)
    active: set[tuple] = set()
    for event, group in fresh:
        key = (group.pk, _hour(event["occurred_at"]))
        counts[key][_COUNTER_FIELD[event["type"]]] += 1
        user = users.get(event.get("telegram_user_id"))
        if event["type"] in ("message", "command") and user is not None:
            active.add((*key, user.pk))

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


def _update_memberships(fresh: list[tuple[dict, Group]], users: dict[int, User]) -> None:
    """Message counts and last-seen times in bulk; joins and leaves through the membership service (audited)."""
    spoken: dict[tuple, list] = defaultdict(lambda: [0, None])
    for event, group in fresh:
        user = users.get(event.get("telegram_user_id"))
        if user is None:
            continue
        if event["type"] == "join":
            membership_set(group=group, user=user, status=Membership.Status.MEMBER)
        elif event["type"] == "leave":
            membership_set(group=group, user=user, status=Membership.Status.LEFT)
        else:
            entry = spoken[(group, user)]
            entry[0] += 1 if event["type"] == "message" else 0
            entry[1] = max(entry[1] or event["occurred_at"], event["occurred_at"])
    if not spoken:
        return
    candidates = Membership.objects.filter(group_id__in={group.pk for group, _ in spoken},
                                           user_id__in={user.pk for _, user in spoken})
    known = {(group_id, user_id): pk for pk, group_id, user_id in candidates.values_list("pk", "group_id", "user_id")}
    # One UPDATE per distinct (messages, last seen to the second), not one per member: a batch of live traffic
    # has a handful of those, where per-row updates (or bulk_update's CASE per row) cost most of the ingest.
    same_change: dict[tuple, list] = defaultdict(list)
    for (group, user), (messages, last_seen) in spoken.items():
        pk = known.get((group.pk, user.pk))
        if pk is None:  # first sight of someone already in the chat
            pk = membership_set(group=group, user=user, status=Membership.Status.MEMBER).pk
        same_change[(messages, last_seen.replace(microsecond=0))].append(pk)
    for (messages, last_seen), pks in same_change.items():
        Membership.objects.filter(pk__in=pks).update(
            message_count=F("message_count") + messages,
            last_seen_at=Greatest(Coalesce(F("last_seen_at"), Value(last_seen)), Value(last_seen)),
        )
