"""Analytics reads over every core app: per-group series from the hourly counters (events) and the executed
moderation actions, and platform-wide totals. The top layer of core: it reads the apps below it, none reads it.

A member's /report is kept as a moderation record (type report, so it is told in the log channel) but is no
moderator's action: it is counted apart, as reports, never among the moderation actions."""

from collections import defaultdict
from datetime import UTC, datetime, timedelta

from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDay, TruncHour
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.common import audit_actions as actions
from apps.common.errors import ValidationFailed
from apps.events.models import ActiveMember, ActivityBucket
from apps.groups.models import Group
from apps.moderation.models import ModerationAction
from apps.rbac.models import Role, RoleAssignment
from apps.users.models import User

BUCKETS = {"hour": timedelta(hours=1), "day": timedelta(days=1)}
MAX_POINTS = 24 * 92  # a quarter of hourly points
COUNTERS = ("messages", "joins", "leaves", "commands")
REPORT = ModerationAction.Type.REPORT  # a member's report: counted apart from the moderation actions


def _floor(moment: datetime, bucket: str) -> datetime:
    moment = moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    return moment.replace(hour=0) if bucket == "day" else moment


def group_stats(*, group: Group, since: datetime, until: datetime, bucket: str) -> dict:
    step = BUCKETS[bucket]
    first, end = _floor(since, bucket), until
    points = int((end - first) / step) + 1
    if points > MAX_POINTS:
        raise ValidationFailed(f"That range has {points} {bucket} buckets; at most {MAX_POINTS} per request")
    trunc = TruncDay if bucket == "day" else TruncHour
    series: dict[datetime, dict] = {}
    moment = first
    while moment < end:
        series[moment] = {"start": moment, **dict.fromkeys(COUNTERS, 0), "active_members": 0, "moderation": {},
                          "automated": {}, "reports": 0}
        moment += step

    hour_range = {"group": group, "start__gte": first, "start__lt": end}
    counter_rows = (ActivityBucket.objects.filter(**hour_range).annotate(slot=trunc("start")).values("slot")
                    .annotate(**{name: Sum(name) for name in COUNTERS}))
    for row in counter_rows:
        if row["slot"] in series:
            series[row["slot"]].update({name: row[name] or 0 for name in COUNTERS})
    active_rows = (ActiveMember.objects.filter(**hour_range).annotate(slot=trunc("start")).values("slot")
                   .annotate(users=Count("user", distinct=True)))
    for row in active_rows:
        if row["slot"] in series:
            series[row["slot"]]["active_members"] = row["users"]
    moderation_rows = (
        ModerationAction.objects.filter(group=group, status=ModerationAction.Status.EXECUTED,
                                        created_at__gte=first, created_at__lt=end)
        .annotate(slot=trunc("created_at")).values("slot", "type", "rule").annotate(n=Count("id"))
    )
    for row in moderation_rows:
        point = series.get(row["slot"])
        if point is None:
            continue
        if row["type"] == REPORT:
            point["reports"] += row["n"]
            continue
        point["moderation"][row["type"]] = point["moderation"].get(row["type"], 0) + row["n"]
        if row["rule"]:
            point["automated"][row["rule"]] = point["automated"].get(row["rule"], 0) + row["n"]

    totals: dict = {name: sum(point[name] for point in series.values()) for name in (*COUNTERS, "reports")}
    for key in ("moderation", "automated"):
        summed: dict = defaultdict(int)
        for point in series.values():
            for kind, count in point[key].items():
                summed[kind] += count
        totals[key] = dict(summed)
    totals["active_members"] = (ActiveMember.objects.filter(**hour_range).values("user").distinct().count())
    return {"group_id": group.pk, "bucket": bucket, "since": first, "until": end, "series": list(series.values()),
            "totals": totals}


def platform_activity(*, since: datetime) -> dict:
    sums = ActivityBucket.objects.filter(start__gte=_floor(since, "hour")).aggregate(
        **{name: Sum(name) for name in COUNTERS}
    )
    executed = ModerationAction.objects.filter(created_at__gte=since, status=ModerationAction.Status.EXECUTED)
    actions_only = ~Q(type=REPORT)
    split = executed.aggregate(total=Count("pk", filter=actions_only),
                               automated=Count("pk", filter=actions_only & ~Q(rule="")),
                               reports=Count("pk", filter=Q(type=REPORT)))
    return {
        **{f"{name}_24h": sums[name] or 0 for name in COUNTERS},
        "moderation_actions_24h": split["total"],
        "manual_actions_24h": split["total"] - split["automated"],
        "automated_actions_24h": split["automated"],
        "reports_24h": split["reports"],
    }


def system_stats() -> dict:
    """Platform-wide totals: users, groups, roles, the last day's permission checks and activity."""
    now = timezone.now()
    day_ago = now - timedelta(hours=24)
    checks = AuditEvent.objects.filter(action=actions.PERMISSION_CHECK, created_at__gte=day_ago)
    check_counts = checks.aggregate(total=Count("pk"), denied=Count("pk", filter=Q(result="denied")))
    live = Q(revoked_at__isnull=True) & (Q(expires_at__isnull=True) | Q(expires_at__gt=now))
    return {
        "users": User.objects.count(),
        "active_users": User.objects.filter(is_active=True).count(),
        "groups": Group.objects.count(),
        "active_groups": Group.objects.filter(is_active=True).count(),
        "roles": Role.objects.count(),
        "active_assignments": RoleAssignment.objects.filter(live).count(),
        "checks_24h": check_counts["total"],
        "denials_24h": check_counts["denied"],
        "audit_events": AuditEvent.objects.count(),
        "generated_at": now,
        **platform_activity(since=day_ago),
    }
