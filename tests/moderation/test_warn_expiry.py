"""Warn expiry: warnings older than the group's warn_expiry_seconds no longer count, toward the limit nor in the
member's list; they stay on record."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.moderation.models import Warning
from tests.factories import make_group, make_member, make_user

ACTIONS = "/api/moderation/actions"


@pytest.fixture
def scene(db):
    group, moderator, target = make_group(), make_user(), make_user()
    make_member(moderator, group)
    make_member(target, group)
    return group, moderator, target


def warn(api, group, moderator, target, type="warn"):
    body = {"type": type, "group_id": str(group.pk), "actor_user_id": str(moderator.pk),
            "target_user_id": str(target.pk), "reason": "test"}
    response = api.post(ACTIONS, body)
    assert response.status_code == 201, response.json()
    return response.json()["data"]["warnings"]


def age(target, seconds):
    """Makes every warning of the target `seconds` older."""
    for warning in Warning.objects.filter(user=target):
        Warning.objects.filter(pk=warning.pk).update(created_at=warning.created_at - timedelta(seconds=seconds))


def listed(api, group, target, **query):
    suffix = "?include_removed=true" if query.get("include_removed") else ""
    return api.get(f"/api/groups/{group.pk}/members/{target.pk}/warnings{suffix}").json()["data"]


def test_without_expiry_old_warnings_still_count(api, scene):
    group, moderator, target = scene
    warn(api, group, moderator, target)
    age(target, 400 * 86400)
    assert warn(api, group, moderator, target)["active_warnings"] == 2
    data = listed(api, group, target)
    assert (data["active_warnings"], data["warn_expiry_seconds"], len(data["items"])) == (2, None, 2)


def test_expired_warnings_count_neither_toward_the_limit_nor_in_the_list(api, scene):
    group, moderator, target = scene
    assert api.patch(f"/api/groups/{group.pk}", {"warn_limit": 2, "warn_expiry_seconds": 3600}).status_code == 200
    warn(api, group, moderator, target)
    age(target, 3601)
    second = warn(api, group, moderator, target)
    assert (second["active_warnings"], second["limit_reached"]) == (1, False)
    data = listed(api, group, target)
    assert (data["active_warnings"], data["warn_expiry_seconds"], len(data["items"])) == (1, 3600, 1)
    # The expired one stays on record (never removed), shown with include_removed; it still does not count.
    everything = listed(api, group, target, include_removed=True)
    assert (everything["active_warnings"], len(everything["items"])) == (1, 2)
    assert Warning.objects.filter(user=target, removed_at__isnull=True).count() == 2
    third = warn(api, group, moderator, target)
    assert (third["active_warnings"], third["limit_reached"]) == (2, True)


def test_unwarn_never_removes_an_expired_warning(api, scene):
    group, moderator, target = scene
    api.patch(f"/api/groups/{group.pk}", {"warn_expiry_seconds": 60})
    warn(api, group, moderator, target)
    age(target, 120)
    assert warn(api, group, moderator, target, "unwarn")["active_warnings"] == 0
    assert Warning.objects.filter(user=target, removed_at__isnull=True).count() == 1


def test_turning_expiry_off_counts_old_warnings_again(api, scene):
    group, moderator, target = scene
    api.patch(f"/api/groups/{group.pk}", {"warn_expiry_seconds": 60})
    warn(api, group, moderator, target)
    age(target, 120)
    assert listed(api, group, target)["active_warnings"] == 0
    api.patch(f"/api/groups/{group.pk}", {"warn_expiry_seconds": None})
    assert listed(api, group, target)["active_warnings"] == 1


def test_a_warning_exactly_inside_the_window_counts(api, scene):
    group, moderator, target = scene
    api.patch(f"/api/groups/{group.pk}", {"warn_expiry_seconds": 3600})
    warn(api, group, moderator, target)
    age(target, 3500)
    assert listed(api, group, target)["active_warnings"] == 1
    assert timezone.now() - Warning.objects.get(user=target).created_at < timedelta(seconds=3600)
