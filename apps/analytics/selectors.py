"""Analytics reads: every figure from the rollups (models.py) and the moderation records, never from raw events.

Periods are whole days of the group's clock (Group.timezone): `today`, `7d` and `30d` end today, `custom` runs from
`start` to `end` inclusive. Definitions (docs/analytics.md):
- active member: sent a message or a command that day; DAU is the period's mean of daily active members, WAU and
  MAU the distinct active members of the 7 and 30 days ending on the period's last day; stickiness is the mean
  daily active members of those 30 days over MAU.
- member count: the group's member count after the last ingested batch of each day, carried forward over days
  without one.
- activation: a member whose first join falls in the period and who sent a message on the join day or the 6 after;
  retention: active on some day at least 7 (30) days after joining, up to the period's end, counted only for those
  who joined at least that long before it.
- moderation: executed records only; a member's report is counted apart; automated = asked by a protection rule;
  report -> action: from a report to the next executed action in the group on the same target or message.
"""

from bisect import bisect_right
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Count, Q, Sum
from django.utils import timezone

from apps.common.errors import ValidationFailed
from apps.events.tally import from_epoch_ms
from apps.groups.models import Group, Membership
from apps.moderation.models import ModerationAction, Warning
from apps.rbac.decisions import permission_decide_many
from apps.rbac.selectors import PermissionQuery
from apps.users.models import User

from .models import GroupDay, GroupHour, GroupWeek, MemberDay, MemberTotal, PlatformDay
from .moderation_figures import EXECUTED, REPORT, member_ref, moderation_figures, users_by_pk
from .rollups import day_range, zone_of

PERIOD_DAYS = {"today": 1, "7d": 7, "30d": 30}
PERIODS = (*PERIOD_DAYS, "custom")
BUCKETS = ("hour", "day")
MAX_DAYS = 92
MAX_HOUR_DAYS = 31
TOP_MEMBERS = 10
COUNTERS = ("messages", "commands", "joins", "leaves")
VIEW_STATS = "VIEW_STATS"


@dataclass(frozen=True)
class Window:
    """Whole local days first..last of one clock, and the UTC instants they start and end."""

    zone: ZoneInfo
    first: date
    last: date
    bucket: str

    @property
    def since(self) -> datetime:
        return local_midnight(self.first, self.zone)

    @property
    def until(self) -> datetime:
        return local_midnight(self.last + timedelta(days=1), self.zone)

    @property
    def days(self) -> list[date]:
        return day_range(self.first, self.last)


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def window_resolve(*, zone: ZoneInfo, period: str, start: date | None = None, end: date | None = None,
                   bucket: str | None = None, now: datetime | None = None) -> Window:
    """The days a request's period names in `zone`; ValidationFailed (400) for a period that cannot be served."""
    if period == "custom":
        missing = {name: ["Required when period is custom."] for name, value in (("start", start), ("end", end))
                   if value is None}
        if missing:
            raise ValidationFailed("A custom period needs start and end (dates, inclusive)", details=missing)
        if end < start:
            raise ValidationFailed("end is before start", details={"end": ["Must not be before start."]})
        first, last = start, end
    else:
        given = {name: ["Only with period=custom."] for name, value in (("start", start), ("end", end))
                 if value is not None}
        if given:
            raise ValidationFailed("start and end are given with period=custom only", details=given)
        last = (now or timezone.now()).astimezone(zone).date()
        first = last - timedelta(days=PERIOD_DAYS[period] - 1)
    days = (last - first).days + 1
    if days > MAX_DAYS:
        raise ValidationFailed(f"That period has {days} days; at most {MAX_DAYS}",
                               details={"end": [f"At most {MAX_DAYS} days after start."]})
    bucket = bucket or ("hour" if days == 1 else "day")
    if bucket == "hour" and days > MAX_HOUR_DAYS:
        raise ValidationFailed(f"Hour buckets cover at most {MAX_HOUR_DAYS} days; this period has {days}",
                               details={"bucket": [f"hour: at most {MAX_HOUR_DAYS} days."]})
    return Window(zone=zone, first=first, last=last, bucket=bucket)


def _rate(part, whole):
    return round(part / whole, 4) if whole else None


def _distinct_members(group: Group, first: date, last: date) -> int:
    """Members active on some day first..last: counted on the (group, day, user) index, not read."""
    return (MemberDay.objects.filter(group=group, day__gte=first, day__lte=last).values("user_id").distinct()
            .count())


def _top_members(group: Group, window: Window) -> list[tuple]:
    """(user pk, messages) of the TOP_MEMBERS members with most messages in the window, ties by user id: summed,
    ranked and cut in the database."""
    return list(MemberDay.objects.filter(group=group, day__gte=window.first, day__lte=window.last)
                .values("user_id").annotate(total=Sum("messages")).filter(total__gt=0)
                .order_by("-total", "user_id").values_list("user_id", "total")[:TOP_MEMBERS])


def group_analytics(*, group: Group, window: Window) -> dict:
    zone, first, last = window.zone, window.first, window.last
    mau_first = last - timedelta(days=29)
    week_first = last - timedelta(days=6)
    day_rows = {row[0]: row for row in GroupDay.objects.filter(group=group, day__gte=min(first, mau_first),
                                                                day__lte=last)
                .values_list("day", *COUNTERS, "active_members", "member_count")}
    days = window.days
    period_rows = [day_rows[day] for day in days if day in day_rows]
    totals = {name: sum(row[1 + index] for row in period_rows) for index, name in enumerate(COUNTERS)}

    # Active members: a day's count is its GroupDay's; distinct members over days are counted on MemberDay.
    distinct = {(first, last): _distinct_members(group, first, last)}
    for span in ((week_first, last), (mau_first, last)):
        if span not in distinct:
            distinct[span] = _distinct_members(group, *span)
    active, wau, mau = distinct[(first, last)], distinct[(week_first, last)], distinct[(mau_first, last)]

    def daily(day):
        row = day_rows.get(day)
        return row[5] if row is not None else 0

    mau_days = day_range(mau_first, last)
    dau = sum(daily(day) for day in days) / len(days)
    dau_30 = sum(daily(day) for day in mau_days) / len(mau_days)

    # Member count: the last snapshot on or before each day.
    before = (GroupDay.objects.filter(group=group, day__lt=first, member_count__isnull=False).order_by("-day")
              .values_list("member_count", flat=True).first())
    member_counts, current = [], before
    for day in days:
        row = day_rows.get(day)
        if row is not None and row[-1] is not None:
            current = row[-1]
        member_counts.append({"day": day, "member_count": current})

    hour_rows = list(GroupHour.objects.filter(group=group, start__gte=window.since, start__lt=window.until)
                     .values_list("start", *COUNTERS))
    heatmap = [[0] * 24 for _ in range(7)]
    for row in hour_rows:
        local = row[0].astimezone(zone)
        heatmap[local.weekday()][local.hour] += row[1]
    series = (_hour_series(window, hour_rows) if window.bucket == "hour"
              else [{"start": local_midnight(day, zone), "day": day,
                     **{name: (day_rows[day][1 + index] if day in day_rows else 0)
                        for index, name in enumerate(COUNTERS)},
                     "active_members": daily(day)} for day in days])

    top = _top_members(group, window)
    users = users_by_pk(pk for pk, _ in top)
    return {
        "group_id": str(group.pk),
        "timezone": group.timezone,
        "bucket": window.bucket,
        "start": first,
        "end": last,
        "since": window.since,
        "until": window.until,
        "totals": {**totals, "net_growth": totals["joins"] - totals["leaves"], "active_members": active,
                   "messages_per_active_member": round(totals["messages"] / active, 4) if active else None,
                   "member_count_start": before if before is not None else None,
                   "member_count_end": member_counts[-1]["member_count"] if member_counts else None},
        "activity": {"dau": round(dau, 4), "wau": wau, "mau": mau, "dau_30": round(dau_30, 4),
                     "stickiness": _rate(dau_30, mau)},
        "series": series,
        "member_count": member_counts,
        "heatmap": heatmap,
        "top_members": [{**member_ref(pk, users), "messages": count, "share": _rate(count, totals["messages"])}
                        for pk, count in top],
        "cohorts": _cohorts(group, window),
        "moderation": moderation_figures(group=group, since=window.since, until=window.until),
    }


def _hour_series(window: Window, hour_rows: list) -> list[dict]:
    starts = []
    moment, end = window.since, window.until
    while moment < end:
        starts.append(moment)
        moment += timedelta(hours=1)
    points = [{"start": start, "day": start.astimezone(window.zone).date(), **dict.fromkeys(COUNTERS, 0),
               "active_members": None} for start in starts]
    for row in hour_rows:
        index = bisect_right(starts, row[0]) - 1
        if index >= 0:
            for offset, name in enumerate(COUNTERS):
                points[index][name] += row[1 + offset]
    return points


def _cohorts(group: Group, window: Window) -> list[dict]:
    """From each member's join day and cohort days (MemberTotal, kept by ingest), counted in the database per join
    day: activated when the first message in the activation window (stored only when within it) falls by the
    period's end; retained after 7 (30) days when the first activity at least that long after the join does; the
    eligible are every joiner of a join day at least that long before the end."""
    last = window.last
    cohorts: dict[date, Counter] = defaultdict(Counter)
    for join_day, joined, activated, retained_7d, retained_30d in (
            MemberTotal.objects.filter(group=group, joined_on__gte=window.first, joined_on__lte=last)
            .values("joined_on").order_by()
            .annotate(joined=Count("pk"), activated=Count("pk", filter=Q(activated_on__lte=last)),
                      retained_7d=Count("pk", filter=Q(returned_7d_on__lte=last)),
                      retained_30d=Count("pk", filter=Q(returned_30d_on__lte=last)))
            .values_list("joined_on", "joined", "activated", "retained_7d", "retained_30d")):
        cohort = cohorts[join_day - timedelta(days=join_day.weekday())]
        cohort["joined"] += joined
        cohort["activated"] += activated
        # A returned_Nd_on is at least N days after its join: none is by the end unless the join day is eligible.
        for after, retained in ((7, retained_7d), (30, retained_30d)):
            if join_day + timedelta(days=after) <= last:
                cohort[f"eligible_{after}d"] += joined
                cohort[f"retained_{after}d"] += retained
    return [{"week_start": week, "joined": c["joined"], "activated": c["activated"],
             "activation_rate": _rate(c["activated"], c["joined"]),
             "eligible_7d": c["eligible_7d"], "retained_7d": c["retained_7d"],
             "retention_7d": _rate(c["retained_7d"], c["eligible_7d"]),
             "eligible_30d": c["eligible_30d"], "retained_30d": c["retained_30d"],
             "retention_30d": _rate(c["retained_30d"], c["eligible_30d"])}
            for week, c in sorted(cohorts.items())]


def groups_in_common(*, user: User, group: Group, acting_user_id=None) -> list[dict]:
    """The member's other groups: where core keeps a membership (any status: present, left, banned) or the events
    saw them. With their lifetime messages and last event there (the rollups'; the membership's last-seen time
    when no event was rolled up). With `acting_user_id`, only the groups where that user holds VIEW_STATS, decided
    in one batch by the permission engine; without (a service's own read), all."""
    found: dict = {}
    for group_id, status, message_count, last_seen_at in (
            Membership.objects.filter(user=user).exclude(group_id=group.pk)
            .values_list("group_id", "status", "message_count", "last_seen_at")):
        found[group_id] = {"status": status, "messages": message_count, "last_seen": last_seen_at}
    for group_id, messages, last_seen_ms in (MemberTotal.objects.filter(user=user).exclude(group_id=group.pk)
                                             .values_list("group_id", "messages", "last_seen_ms")):
        entry = found.setdefault(group_id, {"status": None})
        entry["messages"], entry["last_seen"] = messages, from_epoch_ms(last_seen_ms)
    if found and acting_user_id is not None:
        ids = list(found)
        decisions = permission_decide_many([PermissionQuery(permission=VIEW_STATS, user_id=acting_user_id,
                                                            group_id=group_id) for group_id in ids])
        found = {group_id: found[group_id] for group_id, decision in zip(ids, decisions, strict=True)
                 if decision.allowed}
    titles = dict(Group.objects.filter(pk__in=list(found)).values_list("pk", "title"))
    rows = [{"group_id": str(group_id), "title": titles.get(group_id, ""), **entry}
            for group_id, entry in found.items() if group_id in titles]
    return sorted(rows, key=lambda row: (row["last_seen"] is None, -(row["last_seen"].timestamp()
                                                                      if row["last_seen"] else 0), row["group_id"]))


def member_analytics(*, group: Group, user: User, window: Window, acting_user_id=None) -> dict:
    total = (MemberTotal.objects.filter(group=group, user=user)
             .values("first_seen_ms", "last_seen_ms", "messages", "commands", "joins", "leaves", "joined_ms").first())
    days = dict((day, (messages, commands)) for day, messages, commands in
                MemberDay.objects.filter(group=group, user=user, day__gte=window.first, day__lte=window.last)
                .values_list("day", "messages", "commands"))
    warnings = Warning.objects.filter(group=group, user=user).aggregate(
        total=Count("pk"), active=Count("pk", filter=Q(removed_at__isnull=True)))
    received = Counter(dict(ModerationAction.objects.filter(group=group, target=user, status=EXECUTED)
                            .values_list("type").annotate(n=Count("pk")).values_list("type", "n")))
    reports = received.pop(REPORT, 0)
    series = [{"day": day, "messages": days.get(day, (0, 0))[0], "commands": days.get(day, (0, 0))[1]}
              for day in window.days]
    return {
        "group_id": str(group.pk), "timezone": group.timezone, **member_ref(user.pk, users_by_pk([user.pk])),
        "start": window.first, "end": window.last,
        "first_seen": from_epoch_ms(total["first_seen_ms"]) if total else None,
        "last_seen": from_epoch_ms(total["last_seen_ms"]) if total else None,
        "joined_at": from_epoch_ms(total["joined_ms"]) if total else None,
        "lifetime": {name: total[name] if total else 0 for name in COUNTERS},
        "period": {"messages": sum(point["messages"] for point in series),
                   "commands": sum(point["commands"] for point in series),
                   "active_days": sum(1 for point in series if point["messages"] or point["commands"])},
        "series": series,
        "warnings": {"total": warnings["total"], "active": warnings["active"]},
        "actions_received": dict(received), "reports_received": reports,
        "groups_in_common": groups_in_common(user=user, group=group, acting_user_id=acting_user_id),
    }


def _group_sums(first: date, last: date, fields: tuple[str, ...]) -> list[dict]:
    """Every group's counters over first..last, summed in the database on the covering indexes: the GroupWeek rows
    of the weeks wholly inside, and the GroupDay rows of the days outside them (at most six at each end)."""
    weeks_first = first + timedelta(days=(7 - first.weekday()) % 7)  # the first Monday on or after `first`
    weeks_last = last - timedelta(days=(last.weekday() + 1) % 7)  # the last Sunday on or before `last`
    parts = []
    if weeks_first <= weeks_last:
        parts.append(GroupWeek.objects.filter(week__gte=weeks_first, week__lte=weeks_last - timedelta(days=6)))
        edges = Q(day__gte=first, day__lt=weeks_first) | Q(day__gt=weeks_last, day__lte=last)
    else:
        edges = Q(day__gte=first, day__lte=last)
    parts.append(GroupDay.objects.filter(edges))
    sums: dict = {}
    for rows in parts:
        for group_id, *values in (rows.values("group_id").annotate(**{f"total_{name}": Sum(name) for name in fields})
                                  .order_by().values_list("group_id", *(f"total_{name}" for name in fields))):
            found = sums.get(group_id)
            sums[group_id] = values if found is None else [a + (b or 0) for a, b in zip(found, values, strict=True)]
    return [{"group_id": group_id, **dict(zip(fields, values, strict=True))} for group_id, values in sums.items()]


def platform_overview(*, window: Window, limit: int) -> dict:
    """Totals from PlatformDay (one row a day, whatever the number of groups); the rankings from every group's
    GroupWeek rows of the weeks inside the period and GroupDay rows of its edge days, summed in the database."""
    fields = (*COUNTERS, "active_members")
    platform = list(PlatformDay.objects.filter(day__gte=window.first, day__lte=window.last).values_list(*fields))
    totals = {name: sum(row[index] for row in platform) for index, name in enumerate(COUNTERS)}
    member_days = sum(row[-1] for row in platform)
    rows = _group_sums(window.first, window.last, fields)
    actions = ModerationAction.objects.filter(status=EXECUTED, created_at__gte=window.since,
                                              created_at__lt=window.until).aggregate(
        actions=Count("pk", filter=~Q(type=REPORT)),
        automated=Count("pk", filter=~Q(type=REPORT) & ~Q(rule="")),
        reports=Count("pk", filter=Q(type=REPORT)))
    groups = Group.objects.aggregate(groups=Count("pk"), active=Count("pk", filter=Q(is_active=True)),
                                     members=Sum("member_count", filter=Q(is_active=True)))
    for row in rows:
        row["net_growth"] = (row["joins"] or 0) - (row["leaves"] or 0)
    by_activity = sorted((row for row in rows if row["messages"]),
                         key=lambda row: (-row["messages"], str(row["group_id"])))[:limit]
    by_growth = sorted(rows, key=lambda row: (-row["net_growth"], str(row["group_id"])))[:limit]
    titles = dict(Group.objects.filter(pk__in=[row["group_id"] for row in (*by_activity, *by_growth)])
                  .values_list("pk", "title"))

    def ranked(row):
        return {"group_id": str(row["group_id"]), "title": titles.get(row["group_id"], ""),
                **{name: row[name] or 0 for name in COUNTERS}, "net_growth": row["net_growth"],
                "daily_active_members": round((row["active_members"] or 0) / len(window.days), 4)}

    return {
        "start": window.first, "end": window.last, "since": window.since, "until": window.until,
        "totals": {**totals, "net_growth": totals["joins"] - totals["leaves"],
                   "daily_active_members": round(member_days / len(window.days), 4),
                   "groups": groups["groups"], "active_groups": groups["active"],
                   "groups_with_activity": sum(1 for row in rows if row["messages"] or row["commands"]),
                   "members": groups["members"] or 0,
                   "moderation_actions": actions["actions"], "automated_actions": actions["automated"],
                   "manual_actions": actions["actions"] - actions["automated"], "reports": actions["reports"]},
        "by_activity": [ranked(row) for row in by_activity],
        "by_growth": [ranked(row) for row in by_growth],
    }


UTC_ZONE = ZoneInfo("UTC")


def group_zone(group: Group) -> ZoneInfo:
    return zone_of(group)
