"""Moderation figures of a group's period, read from the moderation records themselves (indexed by group and time;
orders of magnitude fewer than events): executed records only, a member's report counted apart, automated = asked
by a protection rule, report -> action from a report to the group's next executed action on the same target or
message. And the member references every analytics answer uses."""

import statistics
from bisect import bisect_left
from collections import Counter, defaultdict
from datetime import datetime

from apps.groups.models import Group
from apps.moderation.models import ModerationAction
from apps.users.models import User

REPORT = ModerationAction.Type.REPORT
EXECUTED = ModerationAction.Status.EXECUTED


def users_by_pk(pks) -> dict:
    return {row["pk"]: row for row in User.objects.filter(pk__in=list(pks)).values(
        "pk", "username", "display_name", "telegram_user_id")}


def member_ref(pk, users: dict) -> dict:
    user = users.get(pk, {})
    return {"user_id": str(pk), "username": user.get("username", ""), "display_name": user.get("display_name", ""),
            "telegram_user_id": user.get("telegram_user_id")}


def moderation_figures(*, group: Group, since: datetime, until: datetime) -> dict:
    # One read serves both the period's counts and the report delays (an action answering a report may come after
    # the period's end): every executed record of the group from the period's start on.
    rows = list(ModerationAction.objects.filter(group=group, status=EXECUTED, created_at__gte=since)
                .values_list("type", "actor_id", "rule", "target_id", "telegram_message_id", "created_at"))
    by_type, by_rule, by_moderator = Counter(), Counter(), Counter()
    reports, actions = [], []
    for kind, actor_id, rule, target_id, message_id, created_at in rows:
        if kind != REPORT:
            actions.append((target_id, message_id, created_at))
        if created_at >= until:
            continue
        if kind == REPORT:
            reports.append((target_id, message_id, created_at))
            continue
        by_type[kind] += 1
        if rule:
            by_rule[rule] += 1
        elif actor_id is not None:
            by_moderator[actor_id] += 1
    delays = _report_delays(reports, actions)
    moderators = sorted(by_moderator.items(), key=lambda item: (-item[1], str(item[0])))
    users = users_by_pk(pk for pk, _ in moderators)
    total = sum(by_type.values())
    automated = sum(by_rule.values())
    return {"actions": total, "automated": automated, "manual": total - automated, "by_type": dict(by_type),
            "by_rule": dict(by_rule),
            "by_moderator": [{**member_ref(pk, users), "actions": count} for pk, count in moderators],
            "reports": len(reports), "reports_actioned": len(delays),
            "median_report_to_action_seconds": round(statistics.median(delays), 3) if delays else None}


def _report_delays(reports: list[tuple], actions: list[tuple]) -> list[float]:
    """Seconds from each report to the group's next executed action (`actions`: every one from the period's start
    on) on the same target or message (any time after it, also past the period); reports never acted on are left
    out."""
    if not reports:
        return []
    by_target: dict = defaultdict(list)
    by_message: dict = defaultdict(list)
    for target_id, message_id, created_at in actions:
        if target_id is not None:
            by_target[target_id].append(created_at)
        if message_id is not None:
            by_message[message_id].append(created_at)
    for times in (*by_target.values(), *by_message.values()):
        times.sort()
    delays = []
    for target_id, message_id, created_at in reports:
        candidates = []
        for times in (by_target.get(target_id) if target_id is not None else None,
                      by_message.get(message_id) if message_id is not None else None):
            if times:
                index = bisect_left(times, created_at)
                if index < len(times):
                    candidates.append(times[index])
        if candidates:
            delays.append((min(candidates) - created_at).total_seconds())
    return delays
