"""The rollups stay exact: random events in three time zones (one 5:30 off UTC, one with DST), ingested through
POST /api/events/batch day by day with replays, and every figure of the analytics API compared with the same figure
computed directly from the raw events and moderation records (tests/analytics/expected.py)."""

import random
from datetime import UTC, date, datetime, timedelta
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.db.models import Q
from django.utils import timezone

from apps.analytics.models import GroupDay, GroupHour, GroupWeek, MemberDay, MemberTotal, PlatformDay
from apps.analytics.rollups import analytics_rebuild
from apps.moderation.models import ModerationAction, Warning
from apps.users.models import User
from tests.factories import make_group, make_user

from .expected import COUNTERS, GroupTruth, moderation_expected, ms

ZONES = ("UTC", "Asia/Kolkata", "America/New_York")
DAYS = 45
USERS = 24


def _parse(value):
    return None if value is None else datetime.fromisoformat(value)


def _small() -> bool:
    """The MongoDB profile's test server serves one request at a time: fewer events there (same days, zones,
    members and event kinds; every figure still compared)."""
    return connection.vendor == "mongodb"


def _busy_hours(rng, day: datetime, zone: ZoneInfo) -> set[int]:
    """The UTC hours of `day` a chat is busy in: one to three at random (two on MongoDB), plus, on a day its zone
    changes offset (DST), the hours around the change (a repeated or skipped local hour)."""
    hours = set(rng.sample(range(24), rng.randint(1, 2 if _small() else 3)))
    offsets = [(day + timedelta(hours=hour)).astimezone(zone).utcoffset() for hour in range(25)]
    for hour in range(1, 25):
        if offsets[hour] != offsets[hour - 1]:
            hours.update(value for value in (hour - 2, hour - 1, hour) if 0 <= value < 24)
    return hours


def _generate(seed: int, chats: list[int]):
    """Batches (one per UTC day, one per three on MongoDB; events in time order) of random events; the last an hour
    ago at most. A chat is busy on a few random hours of most days (ingest's own hourly counters cost a statement per
    group-hour, which is what the test's time goes to, not the rollups), with random minutes, members and kinds."""
    rng = random.Random(seed)
    per_hour = 4 if _small() else 10
    days_per_batch = 3 if _small() else 1  # each batch costs the test server a few dozen round trips
    now = timezone.now().replace(microsecond=0) - timedelta(hours=1)
    first = (now - timedelta(days=DAYS)).replace(hour=0, minute=0, second=0)
    batches, pending, number = [], [], 0
    day = first
    while day < now:
        events = []
        for chat, zone in zip(chats, ZONES, strict=True):
            if rng.random() < (0.3 if _small() else 0.2):  # a quiet day
                continue
            for hour in _busy_hours(rng, day, ZoneInfo(zone)):
                for _ in range(rng.randint(1, per_hour)):
                    moment = day + timedelta(hours=hour, seconds=rng.randrange(3600),
                                             microseconds=rng.randrange(1_000_000))
                    if moment >= now:
                        continue
                    number += 1
                    kind = rng.choices(["message", "command", "join", "leave"], [70, 8, 12, 10])[0]
                    event = {"event_id": f"s{seed}-{number}", "type": kind, "telegram_chat_id": chat,
                             "occurred_at": moment.isoformat()}
                    if rng.random() > 0.03:
                        event["telegram_user_id"] = 7_000_000 + seed * 1000 + rng.randrange(USERS)
                    if kind == "command":
                        event["command"] = "help"
                    events.append(event)
        pending.append(events)
        day += timedelta(days=1)
        if len(pending) == days_per_batch or day >= now:
            events = sorted((event for part in pending for event in part), key=lambda event: event["occurred_at"])
            pending = []
            if events:
                batches.append(events)
    return batches, rng


def _ingest(api, batches, groups_by_chat, truths, rng):
    present = {chat: {} for chat in groups_by_chat}
    for events in batches:
        response = api.post("/api/events/batch", {"events": events})
        assert response.status_code == 200, response.content
        assert response.json()["data"]["accepted"] == len(events)
        latest = {}
        for event in events:
            chat, user = event["telegram_chat_id"], event.get("telegram_user_id")
            moment = datetime.fromisoformat(event["occurred_at"])
            truths[chat].events.append((user, event["type"], moment))
            latest[chat] = moment
            if user is None:
                continue
            status = present[chat].get(user)
            if event["type"] == "join":
                present[chat][user] = "member"
            elif event["type"] == "leave":
                present[chat][user] = "left"
            elif status is None:
                present[chat][user] = "member"
        for chat, moment in latest.items():
            count = sum(status == "member" for status in present[chat].values())
            truths[chat].snapshots[truths[chat].local(moment).date()] = count
    for events in rng.sample(batches, 5):  # replays: nothing changes
        response = api.post("/api/events/batch", {"events": events})
        assert response.json()["data"] == {"received": len(events), "accepted": 0, "duplicates": len(events)}


def _moderation(group, members, rng):
    """40 random moderation records over the test's days, written in two bulk statements (the records' own
    creation time set as generated: whole milliseconds, what both profiles store exactly)."""
    moderators = [make_user() for _ in range(3)]
    now = timezone.now()
    records, actions, warned = [], [], []
    for index in range(40):
        kind = rng.choice(["ban", "kick", "mute", "warn", "delete", "report", "report"])
        automated = kind not in ("report", "warn") and rng.random() < 0.4
        actor = None if automated else (rng.choice(members) if kind == "report" else rng.choice(moderators))
        target = rng.choice(members) if kind != "delete" and rng.random() < 0.85 else None
        message = rng.randrange(1, 6) if kind in ("report", "delete") and rng.random() < 0.6 else None
        status = "executed" if rng.random() < 0.85 else "failed"
        created = ms(now - timedelta(seconds=rng.randrange(DAYS * 86400), microseconds=rng.randrange(1_000_000)))
        actions.append(ModerationAction(type=kind, group=group, actor=actor, target=target,
                                        telegram_message_id=message, source_service="bot", status=status,
                                        rule=rng.choice(["antiflood", "captcha"]) if automated else "",
                                        reason=f"generated {index}", created_at=created))
        if kind == "warn" and target is not None:
            warned.append((index, target, actor, now if rng.random() < 0.3 else None))
        records.append({"type": kind, "actor": actor.pk if actor else None, "rule": actions[-1].rule,
                        "target": target.pk if target else None, "message": message, "created_at": created,
                        "status": status})
    with mock.patch.object(ModerationAction._meta.get_field("created_at"), "auto_now_add", False):
        ModerationAction.objects.bulk_create(actions)
    pks = dict(ModerationAction.objects.filter(group=group).values_list("reason", "pk"))
    Warning.objects.bulk_create([Warning(group=group, user=target, action_id=pks[f"generated {index}"],
                                         issued_by=actor, removed_at=removed)
                                 for index, target, actor, removed in warned])
    stored = dict(ModerationAction.objects.filter(group=group).values_list("reason", "created_at"))
    assert [stored[f"generated {index}"] for index in range(40)] == [record["created_at"] for record in records]
    return records


def _check_group(api, group, truth, records, query, first, last, bucket, user_pk):
    data = api.get(f"/api/groups/{group.pk}/analytics?{query}").json()["data"]
    expected = truth.figures(first, last, bucket, user_pk)
    assert (data["start"], data["end"], data["bucket"]) == (first.isoformat(), last.isoformat(), bucket)
    assert data["totals"] == expected["totals"], query
    assert data["activity"] == expected["activity"], query
    got_series = [{**{name: point[name] for name in (*COUNTERS.values(), "active_members")},
                   "start": _parse(point["start"])} for point in data["series"]]
    assert got_series == expected["series"], query
    assert [(date.fromisoformat(point["day"]), point["member_count"]) for point in data["member_count"]] == [
        (point["day"], point["member_count"]) for point in expected["member_count"]]
    assert data["heatmap"] == expected["heatmap"]
    assert [(member["user_id"], member["messages"], member["share"]) for member in data["top_members"]] == (
        expected["top_members"])
    cohorts = {date.fromisoformat(cohort["week_start"]): {key: cohort[key] for key in (
        "joined", "activated", "eligible_7d", "retained_7d", "eligible_30d", "retained_30d") if cohort[key]}
        for cohort in data["cohorts"]}
    assert cohorts == {week: {key: value for key, value in counts.items() if value}
                       for week, counts in expected["cohorts"].items()}
    moderation = moderation_expected(records, _parse(data["since"]), _parse(data["until"]))
    got = data["moderation"]
    assert {key: got[key] for key in ("actions", "automated", "manual", "by_type", "by_rule", "reports",
                                      "reports_actioned")} == {
        key: moderation[key] for key in ("actions", "automated", "manual", "by_type", "by_rule", "reports",
                                         "reports_actioned")}
    assert {entry["user_id"]: entry["actions"] for entry in got["by_moderator"]} == {
        str(pk): count for pk, count in moderation["by_moderator"].items()}
    if moderation["median"] is None:
        assert got["median_report_to_action_seconds"] is None
    else:
        assert got["median_report_to_action_seconds"] == pytest.approx(moderation["median"], abs=0.002)
    return data


@pytest.mark.parametrize("seed", [1, 2])
def test_every_figure_matches_a_direct_computation_from_the_raw_events(api, seed):
    chats = [-1002000000000 - seed * 10 - index for index in range(len(ZONES))]
    groups = {chat: make_group(telegram_chat_id=chat) for chat in chats}
    for chat, zone in zip(chats, ZONES, strict=True):
        response = api.patch(f"/api/groups/{groups[chat].pk}", {"timezone": zone})
        assert response.status_code == 200 and response.json()["data"]["timezone"] == zone
    truths = {chat: GroupTruth(zone) for chat, zone in zip(chats, ZONES, strict=True)}
    batches, rng = _generate(seed, chats)
    _ingest(api, batches, groups, truths, rng)
    pks = dict(User.objects.filter(telegram_user_id__gte=7_000_000).values_list("telegram_user_id", "pk"))
    members = list(User.objects.filter(pk__in=pks.values()))

    def user_pk(telegram_id):
        return pks[telegram_id]

    for chat, group in groups.items():
        group.refresh_from_db()
        truth = truths[chat]
        records = _moderation(group, members, rng)
        today = timezone.now().astimezone(truth.zone).date()
        first_day = min(truth.local(moment).date() for _, _, moment in truth.events)
        windows = [
            ("period=7d", today - timedelta(days=6), today, "day"),
            ("period=30d", today - timedelta(days=29), today, "day"),
            ("period=today", today, today, "hour"),
            (f"period=custom&start={first_day + timedelta(3)}&end={first_day + timedelta(40)}",
             first_day + timedelta(3), first_day + timedelta(40), "day"),
            (f"period=custom&start={first_day}&end={first_day + timedelta(2)}&bucket=hour",
             first_day, first_day + timedelta(2), "hour"),
            (f"period=custom&start={first_day - timedelta(5)}&end={first_day + timedelta(86)}",
             first_day - timedelta(5), first_day + timedelta(86), "day"),
        ]
        for query, first, last, bucket in windows:
            _check_group(api, group, truth, records, query, first, last, bucket, user_pk)
        assert data_member_count(group) == group.member_count

        # A member's figures.
        for telegram_id in rng.sample(sorted({user for user, _, _ in truth.events if user}), 4):
            first, last = today - timedelta(days=29), today
            data = api.get(f"/api/groups/{group.pk}/analytics/members/{pks[telegram_id]}?period=30d").json()["data"]
            expected = truth.member(telegram_id, first, last)
            assert (_parse(data["first_seen"]), _parse(data["last_seen"]), _parse(data["joined_at"])) == (
                expected["first_seen"], expected["last_seen"], expected["joined_at"])
            assert data["lifetime"] == expected["lifetime"]
            assert [point["messages"] for point in data["series"]] == expected["series"]
            user = pks[telegram_id]
            received = {}
            for record in records:
                if record["target"] == user and record["status"] == "executed" and record["type"] != "report":
                    received[record["type"]] = received.get(record["type"], 0) + 1
            assert data["actions_received"] == received
            warnings = Warning.objects.filter(group=group, user_id=user)
            assert data["warnings"] == {"total": warnings.count(),
                                        "active": warnings.filter(removed_at__isnull=True).count()}

    # The platform: each group's own days summed, over periods with and without whole weeks inside (the rankings
    # add GroupWeek rows and edge days).
    today = timezone.now().astimezone(UTC).date()
    for query, first in (("period=30d", today - timedelta(days=29)), ("period=7d", today - timedelta(days=6)),
                         ("period=today", today),
                         (f"period=custom&start={today - timedelta(days=40)}&end={today - timedelta(days=3)}",
                          today - timedelta(days=40))):
        last = today - timedelta(days=3) if query.startswith("period=custom") else today
        data = api.get(f"/api/analytics/overview?{query}").json()["data"]
        sums = {name: 0 for name in COUNTERS.values()}
        per_group = {}
        member_days = 0  # each group's active members per day of its own calendar, added up
        for chat, truth in truths.items():
            counts = {name: 0 for name in COUNTERS.values()}
            for _, kind, moment in truth.events:
                if first <= truth.local(moment).date() <= last:
                    counts[COUNTERS[kind]] += 1
            per_group[str(groups[chat].pk)] = counts
            for name, value in counts.items():
                sums[name] += value
            active = {(truth.local(moment).date(), user) for user, kind, moment in truth.events
                      if kind in ("message", "command") and user is not None}
            member_days += sum(1 for day, _ in active if first <= day <= last)
        assert {name: data["totals"][name] for name in sums} == sums, query
        assert data["totals"]["daily_active_members"] == round(member_days / ((last - first).days + 1), 4), query
        ranked = {entry["group_id"]: entry for entry in data["by_growth"]}
        for group_id, counts in per_group.items():  # a group without a day row in the period is not ranked
            assert {name: ranked[group_id][name] if group_id in ranked else 0 for name in counts} == counts, query
        assert [entry["messages"] for entry in data["by_activity"]] == sorted(
            (entry["messages"] for entry in data["by_activity"]), reverse=True)
    assert _platform_rows() == _platform_sums()
    assert _week_rows() == _week_sums()

    # A rebuild from the raw events gives the same rows.
    for group in groups.values():
        before = _rows(group)
        analytics_rebuild(group=group)
        assert _rows(group) == before
    assert _platform_rows() == _platform_sums()
    assert _week_rows() == _week_sums()


def _week_rows():
    return {(group_id, week): tuple(values) for group_id, week, *values in GroupWeek.objects.values_list(
        "group_id", "week", "messages", "commands", "joins", "leaves", "active_members")}


def _week_sums():
    """GroupWeek as its definition gives it: the group's GroupDay rows of the week (Monday to Sunday) added up."""
    sums = {}
    for group_id, day, *values in GroupDay.objects.values_list("group_id", "day", "messages", "commands", "joins",
                                                               "leaves", "active_members"):
        key = (group_id, day - timedelta(days=day.weekday()))
        sums[key] = tuple(a + b for a, b in zip(sums.get(key, (0,) * 5), values, strict=True))
    return sums


def _platform_rows():
    return {day: tuple(values) for day, *values in PlatformDay.objects.filter(
        Q(messages__gt=0) | Q(commands__gt=0) | Q(joins__gt=0) | Q(leaves__gt=0) | Q(active_members__gt=0))
        .values_list("day", "messages", "commands", "joins", "leaves", "active_members")}


def _platform_sums():
    """PlatformDay as its definition gives it: every group's GroupDay of the date added up."""
    sums = {}
    for day, *values in GroupDay.objects.values_list("day", "messages", "commands", "joins", "leaves",
                                                     "active_members"):
        sums[day] = tuple(a + b for a, b in zip(sums.get(day, (0,) * 5), values, strict=True))
    return {day: values for day, values in sums.items() if any(values)}


def data_member_count(group):
    return GroupDay.objects.filter(group=group, member_count__isnull=False).order_by("-day").values_list(
        "member_count", flat=True).first()


def _rows(group):
    return (
        sorted(GroupHour.objects.filter(group=group).values_list("start", "messages", "commands", "joins", "leaves")),
        sorted(GroupDay.objects.filter(group=group).values_list("day", "messages", "commands", "joins", "leaves",
                                                                "active_members", "member_count")),
        sorted(MemberDay.objects.filter(group=group).values_list("day", "user_id", "messages", "commands")),
        sorted(MemberTotal.objects.filter(group=group).values_list(
            "user_id", "first_seen_ms", "last_seen_ms", "messages", "commands", "joins", "leaves", "joined_ms",
            "joined_on", "activated_on", "returned_7d_on", "returned_30d_on")),
    )
