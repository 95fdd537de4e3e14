"""The analytics figures computed directly from raw events and moderation records, as docs/analytics.md defines
them: what the rollups must give."""

import statistics
from collections import Counter, defaultdict
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

COUNTERS = {"message": "messages", "command": "commands", "join": "joins", "leave": "leaves"}


def midnight(day, zone):
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def days_between(first, last):
    return [first + timedelta(days=offset) for offset in range((last - first).days + 1)]


def ms(moment):
    moment = moment.astimezone(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


class GroupTruth:
    """One group's raw events: (user key or None, type, occurred_at), in ingest order."""

    def __init__(self, zone: str):
        self.zone = ZoneInfo(zone)
        self.events: list[tuple] = []
        self.snapshots: dict = {}  # local day -> member count after the day's last batch

    def local(self, moment):
        return moment.astimezone(self.zone)

    def figures(self, first, last, bucket, user_pk):
        zone = self.zone
        since, until = midnight(first, zone), midnight(last + timedelta(days=1), zone)
        totals = Counter({name: 0 for name in COUNTERS.values()})
        daily_active = defaultdict(set)
        by_day = defaultdict(Counter)
        by_hour = defaultdict(Counter)
        heatmap = [[0] * 24 for _ in range(7)]
        messages_by_user = Counter()
        for user, kind, moment in self.events:
            local = self.local(moment)
            day = local.date()
            if kind in ("message", "command") and user is not None:
                daily_active[day].add(user)
            if not first <= day <= last:
                continue
            totals[COUNTERS[kind]] += 1
            by_day[day][COUNTERS[kind]] += 1
            hour_start = local.replace(minute=0, second=0, microsecond=0).astimezone(UTC)
            by_hour[hour_start][COUNTERS[kind]] += 1
            if kind == "message":
                heatmap[local.weekday()][local.hour] += 1
                if user is not None:
                    messages_by_user[user] += 1
        days = days_between(first, last)
        active = set().union(*(daily_active[day] for day in days))
        mau_days = days_between(last - timedelta(days=29), last)
        mau = len(set().union(*(daily_active[day] for day in mau_days)))
        dau_30 = sum(len(daily_active[day]) for day in mau_days) / 30
        if bucket == "day":
            series = [{"start": midnight(day, zone), **{name: by_day[day][name] for name in COUNTERS.values()},
                       "active_members": len(daily_active[day])} for day in days]
        else:
            series, moment = [], since
            while moment < until:
                series.append({"start": moment, **{name: by_hour[moment][name] for name in COUNTERS.values()},
                               "active_members": None})
                moment += timedelta(hours=1)
        counts, current = [], None
        earlier = [day for day in self.snapshots if day < first]
        current = self.snapshots[max(earlier)] if earlier else None
        start_count = current
        for day in days:
            current = self.snapshots.get(day, current)
            counts.append({"day": day, "member_count": current})
        top = sorted(messages_by_user.items(), key=lambda item: (-item[1], user_pk(item[0])))[:10]
        return {
            "totals": {**totals, "net_growth": totals["joins"] - totals["leaves"], "active_members": len(active),
                       "messages_per_active_member": round(totals["messages"] / len(active), 4) if active else None,
                       "member_count_start": start_count, "member_count_end": counts[-1]["member_count"]},
            "activity": {"dau": round(sum(len(daily_active[day]) for day in days) / len(days), 4),
                         "wau": len(set().union(*(daily_active[day] for day in days_between(last - timedelta(6),
                                                                                            last)))),
                         "mau": mau, "dau_30": round(dau_30, 4),
                         "stickiness": round(dau_30 / mau, 4) if mau else None},
            "series": series,
            "member_count": counts,
            "heatmap": heatmap,
            "top_members": [(str(user_pk(user)), count, round(count / totals["messages"], 4)) for user, count in top],
            "cohorts": self.cohorts(first, last),
        }

    def cohorts(self, first, last):
        joined, active_days = {}, defaultdict(dict)
        for user, kind, moment in self.events:
            if user is None:
                continue
            day = self.local(moment).date()
            if kind == "join" and (user not in joined or moment < joined[user][0]):
                joined[user] = (moment, day)
            if kind in ("message", "command") and first <= day <= last:
                active_days[user].setdefault(day, 0)
                active_days[user][day] += kind == "message"
        cohorts = defaultdict(Counter)
        for user, (_, join_day) in joined.items():
            if not first <= join_day <= last:
                continue
            cohort = cohorts[join_day - timedelta(days=join_day.weekday())]
            cohort["joined"] += 1
            days = active_days[user]
            if any(messages and join_day <= day <= join_day + timedelta(days=6) for day, messages in days.items()):
                cohort["activated"] += 1
            for after in (7, 30):
                if join_day + timedelta(days=after) <= last:
                    cohort[f"eligible_{after}d"] += 1
                    cohort[f"retained_{after}d"] += any(day >= join_day + timedelta(days=after) for day in days)
        return {week: dict(counter) for week, counter in cohorts.items()}

    def member(self, user, first, last):
        seen = [moment for who, _, moment in self.events if who == user]
        joins = [moment for who, kind, moment in self.events if who == user and kind == "join"]
        lifetime = Counter({name: 0 for name in COUNTERS.values()})
        series = Counter()
        for who, kind, moment in self.events:
            if who != user:
                continue
            lifetime[COUNTERS[kind]] += 1
            day = self.local(moment).date()
            if kind == "message" and first <= day <= last:
                series[day] += 1
        return {"first_seen": ms(min(seen)) if seen else None, "last_seen": ms(max(seen)) if seen else None,
                "joined_at": ms(min(joins)) if joins else None, "lifetime": dict(lifetime),
                "series": [series[day] for day in days_between(first, last)]}


def moderation_expected(actions, since, until):
    """actions: dicts of type, actor, rule, target, message, created_at, status (the records of one group)."""
    executed = [action for action in actions if action["status"] == "executed"]
    in_period = [action for action in executed if since <= action["created_at"] < until]
    by_type, by_rule, by_moderator = Counter(), Counter(), Counter()
    reports = []
    for action in in_period:
        if action["type"] == "report":
            reports.append(action)
            continue
        by_type[action["type"]] += 1
        if action["rule"]:
            by_rule[action["rule"]] += 1
        elif action["actor"] is not None:
            by_moderator[action["actor"]] += 1
    delays = []
    for report in reports:
        following = [action["created_at"] for action in executed if action["type"] != "report"
                     and action["created_at"] >= report["created_at"]
                     and ((report["target"] is not None and action["target"] == report["target"])
                          or (report["message"] is not None and action["message"] == report["message"]))]
        if following:
            delays.append((min(following) - report["created_at"]).total_seconds())
    total = sum(by_type.values())
    return {"actions": total, "automated": sum(by_rule.values()), "manual": total - sum(by_rule.values()),
            "by_type": dict(by_type), "by_rule": dict(by_rule), "by_moderator": dict(by_moderator),
            "reports": len(reports), "reports_actioned": len(delays),
            "median": statistics.median(delays) if delays else None}
