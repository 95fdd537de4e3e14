"""Core's stats count automated actions (a protection rule asked for them) beside manual ones: executed only, in the
platform's last day and in a group's series and totals."""

from datetime import timedelta

from django.utils import timezone

from apps.moderation.models import ModerationAction
from tests.factories import make_group, make_user


def _action(group, type, *, rule="", status=ModerationAction.Status.EXECUTED, actor=None, target=None):
    return ModerationAction.objects.create(type=type, group=group, rule=rule, status=status, actor=actor,
                                           target=target, source_service="bot")


def test_group_and_system_stats_split_automated_from_manual(api):
    group, other = make_group(), make_group()
    admin, member = make_user(), make_user()
    _action(group, "kick", actor=admin, target=member)
    _action(group, "mute", rule="antiflood", target=member)
    _action(group, "mute", rule="antiflood", target=member)
    _action(group, "kick", rule="captcha", target=member)
    _action(group, "ban", rule="antiraid", target=member, status=ModerationAction.Status.FAILED)  # not executed
    _action(other, "mute", rule="antiraid", target=member)

    stats = api.get(f"/api/stats/groups/{group.pk}?bucket=hour").json()["data"]
    assert stats["totals"]["moderation"] == {"kick": 2, "mute": 2}
    assert stats["totals"]["automated"] == {"antiflood": 2, "captcha": 1}
    (point,) = [point for point in stats["series"] if point["moderation"]]
    assert (point["moderation"], point["automated"]) == ({"kick": 2, "mute": 2}, {"antiflood": 2, "captcha": 1})
    assert all(point["automated"] == {} for point in stats["series"] if not point["moderation"])

    system = api.get("/api/rbac/system/stats").json()["data"]
    assert (system["moderation_actions_24h"], system["manual_actions_24h"], system["automated_actions_24h"]) == (
        5, 1, 4)


def test_automated_actions_older_than_a_day_are_not_counted(api):
    group = make_group()
    old = _action(group, "mute", rule="antiflood")
    ModerationAction.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(hours=25))
    _action(group, "warn", actor=make_user())
    system = api.get("/api/rbac/system/stats").json()["data"]
    assert (system["manual_actions_24h"], system["automated_actions_24h"]) == (1, 0)


def test_members_reports_are_counted_apart_from_moderation_actions(api):
    group, member, reporter = make_group(), make_user(), make_user()
    _action(group, "report", actor=reporter, target=member)
    _action(group, "report", actor=reporter, target=member)
    _action(group, "warn", actor=make_user(), target=member)
    _action(group, "mute", rule="antiflood", target=member)

    stats = api.get(f"/api/stats/groups/{group.pk}?bucket=hour").json()["data"]
    assert stats["totals"]["moderation"] == {"warn": 1, "mute": 1}
    assert (stats["totals"]["automated"], stats["totals"]["reports"]) == ({"antiflood": 1}, 2)
    (point,) = [point for point in stats["series"] if point["moderation"]]
    assert (point["moderation"], point["reports"]) == ({"warn": 1, "mute": 1}, 2)
    assert sum(point["reports"] for point in stats["series"]) == 2

    system = api.get("/api/rbac/system/stats").json()["data"]
    assert (system["moderation_actions_24h"], system["manual_actions_24h"], system["automated_actions_24h"],
            system["reports_24h"]) == (2, 1, 1, 2)
