"""The analytics API: bad input is a clear 4xx, member figures need VIEW_STATS in the group, a replayed or
half-replayed batch counts once, and a time zone change re-keys the rollups."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.analytics.models import GroupDay, GroupHour, MemberDay, MemberTotal
from tests.factories import grant, make_group, make_member, make_user


def _events(chat, start, count, *, prefix="e", user=8_000_001):
    """Two hours old: yesterday for some of every day in any zone, so the figures are read over 7d, not today."""
    moment = timezone.now() - timedelta(hours=2)
    return [{"event_id": f"{prefix}-{number}", "type": "message", "telegram_chat_id": chat,
             "telegram_user_id": user + number % 3, "occurred_at": (moment + timedelta(seconds=number)).isoformat()}
            for number in range(start, start + count)]


@pytest.mark.parametrize("query, field", [
    ("period=week", "period"),
    ("period=custom", "start"),
    ("period=custom&start=2026-01-10", "end"),
    ("period=custom&start=2026-01-10&end=2026-01-01", "end"),
    ("period=custom&start=2026-01-01&end=2026-06-01", "end"),
    ("period=custom&start=2026-01-01&end=2026-03-01&bucket=hour", "bucket"),
    ("period=7d&start=2026-01-01", "start"),
    ("period=custom&start=yesterday&end=2026-01-01", "start"),
    ("bucket=minute", "bucket"),
])
def test_bad_periods_are_400_naming_the_field(api, query, field):
    group = make_group()
    response = api.get(f"/api/groups/{group.pk}/analytics?{query}")
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["success"] is False and body["error"] == "validation_error"
    assert field in body["details"], body


def test_unknown_group_or_user_is_404_and_overview_checks_its_limit(api):
    group = make_group()
    assert api.get("/api/groups/999999/analytics").status_code == 404
    assert api.get(f"/api/groups/{group.pk}/analytics/members/999999").status_code == 404
    assert api.get("/api/groups/not-an-id/analytics").status_code in (400, 404)
    assert api.get("/api/analytics/overview?limit=0").status_code == 400
    assert api.get("/api/analytics/overview?period=custom&start=2026-02-01&end=2026-01-01").status_code == 400
    assert api.get("/api/analytics/overview?period=7d").status_code == 200


def test_a_bad_time_zone_is_refused_and_a_good_one_rekeys_the_rollups(api):
    group = make_group()
    for bad in ("Mars/Olympus", "", "../../etc/passwd", 5):
        response = api.patch(f"/api/groups/{group.pk}", {"timezone": bad})
        assert response.status_code == 400, (bad, response.content)
    assert api.post("/api/events/batch", {"events": _events(group.telegram_chat_id, 0, 30)}).status_code == 200
    utc_starts = set(GroupHour.objects.filter(group=group).values_list("start", flat=True))
    assert all(start.minute == 0 for start in utc_starts)
    response = api.patch(f"/api/groups/{group.pk}", {"timezone": "Asia/Kathmandu"})  # UTC+5:45
    assert response.status_code == 200 and response.json()["data"]["timezone"] == "Asia/Kathmandu"
    starts = set(GroupHour.objects.filter(group=group).values_list("start", flat=True))
    assert starts and all(start.minute == 15 for start in starts)
    assert sum(GroupHour.objects.filter(group=group).values_list("messages", flat=True)) == 30
    data = api.get(f"/api/groups/{group.pk}/analytics?period=7d").json()["data"]
    assert data["timezone"] == "Asia/Kathmandu" and data["totals"]["messages"] == 30


def _snapshot(group):
    return (sorted(GroupHour.objects.filter(group=group).values_list("start", "messages")),
            sorted(GroupDay.objects.filter(group=group).values_list("day", "messages", "active_members")),
            sorted(MemberDay.objects.filter(group=group).values_list("user_id", "day", "messages")),
            sorted(MemberTotal.objects.filter(group=group).values_list("user_id", "messages", "first_seen_ms",
                                                                       "last_seen_ms")))


def test_replayed_and_half_replayed_batches_count_once(api):
    group = make_group()
    chat = group.telegram_chat_id
    first = _events(chat, 0, 40)
    assert api.post("/api/events/batch", {"events": first}).json()["data"]["accepted"] == 40
    once = _snapshot(group)
    assert api.post("/api/events/batch", {"events": first}).json()["data"]["accepted"] == 0
    assert _snapshot(group) == once
    # Half old, half new, and one new event twice in the batch: only the new ones count, once each.
    mixed = first[20:] + _events(chat, 40, 20) + _events(chat, 59, 1)
    assert api.post("/api/events/batch", {"events": mixed}).json()["data"]["accepted"] == 20
    data = api.get(f"/api/groups/{group.pk}/analytics?period=7d").json()["data"]
    assert data["totals"]["messages"] == 60 and data["totals"]["active_members"] == 3
    assert sum(member["messages"] for member in data["top_members"]) == 60


def test_member_figures_need_view_stats_in_the_group(api):
    group = make_group()
    assert api.post("/api/events/batch", {"events": _events(group.telegram_chat_id, 0, 9)}).status_code == 200
    from apps.users.models import User

    member = User.objects.get(telegram_user_id=8_000_001)
    viewer, outsider = make_user(), make_user()
    make_member(viewer, group)
    make_member(outsider, group)
    grant(viewer, "moderator", group)
    path = f"/api/groups/{group.pk}/analytics/members/{member.pk}?period=7d"
    denied = api.get(path, HTTP_X_ACTING_USER_ID=str(outsider.pk))
    assert denied.status_code == 403 and denied.json()["error"] == "permission_denied"
    allowed = api.get(path, HTTP_X_ACTING_USER_ID=str(viewer.pk))
    assert allowed.status_code == 200, allowed.content
    assert allowed.json()["data"]["period"]["messages"] == 3
    assert api.get("/api/analytics/overview", HTTP_X_ACTING_USER_ID=str(viewer.pk)).status_code == 403


def test_groups_in_common_list_the_members_other_groups_for_who_may_see_them(api):
    from apps.users.models import User

    here, shared, hidden = make_group(), make_group(), make_group()
    never = make_group()  # the member is not in it: never listed
    for group, count in ((here, 4), (shared, 2), (hidden, 5)):
        events = _events(group.telegram_chat_id, 0, count * 3, prefix=f"c{group.pk}")
        assert api.post("/api/events/batch", {"events": events}).status_code == 200
    member = User.objects.get(telegram_user_id=8_000_001)
    past = make_group()
    make_member(member, past)
    make_member(member, past, status="left")  # a past membership, no event rolled up there
    path = f"/api/groups/{here.pk}/analytics/members/{member.pk}?period=7d"

    seen = {row["group_id"]: row for row in api.get(path).json()["data"]["groups_in_common"]}
    assert set(seen) == {str(shared.pk), str(hidden.pk), str(past.pk)}  # a service's own read: all, not `here`
    assert str(never.pk) not in seen
    assert seen[str(shared.pk)]["title"] == shared.title and seen[str(shared.pk)]["messages"] == 2
    assert seen[str(hidden.pk)]["messages"] == 5 and seen[str(hidden.pk)]["status"] == "member"
    assert seen[str(shared.pk)]["last_seen"] is not None
    assert seen[str(past.pk)] == {"group_id": str(past.pk), "title": past.title, "status": "left", "messages": 0,
                                  "last_seen": None}

    # An acting user sees the groups where they hold VIEW_STATS (moderator: yes; helper role without it: no).
    viewer = make_user()
    for group, role in ((here, "moderator"), (shared, "moderator"), (hidden, "helper")):
        make_member(viewer, group)
        grant(viewer, role, group)
    answer = api.get(path, HTTP_X_ACTING_USER_ID=str(viewer.pk))
    assert answer.status_code == 200, answer.content
    assert [row["group_id"] for row in answer.json()["data"]["groups_in_common"]] == [str(shared.pk)]
    # A global grant counts in every group, without membership.
    admin = make_user()
    grant(admin, "admin")
    listed = api.get(path, HTTP_X_ACTING_USER_ID=str(admin.pk)).json()["data"]["groups_in_common"]
    assert {row["group_id"] for row in listed} == set(seen)


def test_activation_counts_a_first_message_within_six_days_of_the_join_only(api):
    """The cohort row keeps activated_on only inside the activation window, and the cohort figures agree: a joiner
    who first speaks on the sixth day after joining is activated, one who first speaks on the seventh is not (and
    is the one retained after 7 days)."""
    group = make_group()  # UTC
    chat, today = group.telegram_chat_id, timezone.now().replace(hour=12, minute=0, second=0, microsecond=0)
    join_day = today - timedelta(days=20)

    def event(name, kind, user, days_after):
        return {"event_id": name, "type": kind, "telegram_chat_id": chat, "telegram_user_id": user,
                "occurred_at": (join_day + timedelta(days=days_after)).isoformat()}

    events = [event("j1", "join", 8_100_001, 0), event("j2", "join", 8_100_002, 0),
              event("m1", "message", 8_100_001, 6), event("m2", "message", 8_100_002, 7)]
    assert api.post("/api/events/batch", {"events": events}).json()["data"]["accepted"] == 4
    stored = dict(MemberTotal.objects.filter(group=group).values_list("user__telegram_user_id", "activated_on"))
    assert stored == {8_100_001: (join_day + timedelta(days=6)).date(), 8_100_002: None}
    data = api.get(f"/api/groups/{group.pk}/analytics?period=30d").json()["data"]
    [cohort] = data["cohorts"]
    assert (cohort["joined"], cohort["activated"], cohort["eligible_7d"], cohort["retained_7d"]) == (2, 1, 2, 1)


def test_the_migration_clears_activations_recorded_past_the_window(db):
    """Rows written before the window was kept in the column: a first message past it is cleared."""
    import importlib

    from django.apps import apps as installed_apps

    migration = importlib.import_module("apps.analytics.migrations.0004_activation_window")
    group, late, timely = make_group(), make_user(), make_user()
    join_day = timezone.now().date() - timedelta(days=20)
    for user, first_message in ((late, join_day + timedelta(days=9)), (timely, join_day + timedelta(days=6))):
        MemberTotal.objects.create(group=group, user=user, first_seen_ms=0, last_seen_ms=0, joined_on=join_day,
                                   activated_on=first_message)
    migration.clear_late_activations(installed_apps, None)
    assert dict(MemberTotal.objects.values_list("user_id", "activated_on")) == {
        late.pk: None, timely.pk: join_day + timedelta(days=6)}
