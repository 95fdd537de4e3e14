"""What a list's bans owe its groups, and the bot's side of it: claimed under a lease (a bot that dies holding a row
loses nothing), completed done or failed with Telegram's error (its moderation record the same way), completing
twice changes nothing. The groups reached are the list's subscribers and those of every list following it."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.banlists.bans import ban_list_ban, ban_list_unban
from apps.banlists.models import Propagation
from apps.banlists.propagation import groups_reached, propagate_to_new_subscriber, propagations_cancel
from apps.banlists.selectors import group_ban_lists
from apps.groups.models import Group, Membership
from apps.groups.services import membership_set
from apps.logchannel.models import LogEntry
from apps.moderation.models import ModerationAction
from tests.banlists.ban_world import error_of, follow, make_list, subscribe, subscribed_groups
from tests.factories import grant, make_group, make_member, make_user

pytestmark = pytest.mark.django_db
CLAIM = "/api/banlists/propagations/claim"


def complete_url(row) -> str:
    return f"/api/banlists/propagations/{row['id'] if isinstance(row, dict) else row.pk}/complete"


def claim(api, **body):
    response = api.post(CLAIM, body)
    assert response.status_code == 200, response.json()
    return response.json()["data"]["results"]


def test_a_claim_leases_the_oldest_pending_rows_with_what_the_bot_needs(api):
    ban_list = make_list(name="Spam watch")
    groups = subscribed_groups(ban_list, 3)
    ban_list_ban(ban_list=ban_list, telegram_user_id=501, reason="spam")
    ban_list_ban(ban_list=ban_list, telegram_user_id=502)
    first = claim(api, limit=4, lease_seconds=30)
    assert [(row["telegram_user_id"], row["action"]) for row in first] == [(501, "ban")] * 3 + [(502, "ban")]
    row = first[0]
    assert (row["ban_list_id"], row["ban_list_name"], row["reason"]) == (str(ban_list.pk), "Spam watch", "spam")
    assert row["telegram_chat_id"] in {group.telegram_chat_id for group in groups}
    record = ModerationAction.objects.get(pk=row["moderation_action_id"])
    assert str(record.group_id) == row["group_id"]
    # Leased: the next claim gets the rest only.
    assert [item["telegram_user_id"] for item in claim(api, limit=50)] == [502, 502]
    assert claim(api) == []
    leased = Propagation.objects.get(pk=row["id"])
    assert leased.claims == 1 and leased.claimed_until > timezone.now() + timedelta(seconds=20)


def test_a_lease_that_runs_out_makes_the_row_claimable_again(api):
    ban_list = make_list()
    subscribed_groups(ban_list, 1)
    ban_list_ban(ban_list=ban_list, telegram_user_id=7)
    (row,) = claim(api, lease_seconds=10)
    assert claim(api) == []
    Propagation.objects.filter(pk=row["id"]).update(claimed_until=timezone.now() - timedelta(seconds=1))
    (again,) = claim(api)  # a bot that died holding it lost nothing
    assert again["id"] == row["id"] and Propagation.objects.get(pk=row["id"]).claims == 2


def test_complete_done_executes_the_record_and_bans_the_membership_and_twice_is_harmless(api):
    ban_list = make_list()
    (group,) = subscribed_groups(ban_list, 1)
    target = make_user()
    make_member(target, group)
    ban_list_ban(ban_list=ban_list, telegram_user_id=target.telegram_user_id)
    (row,) = claim(api)
    response = api.post(complete_url(row), {})
    assert response.status_code == 200, response.json()
    data = response.json()["data"]
    assert (data["status"], data["error"], data["moderation_status"]) == ("done", "", "executed")
    assert Membership.objects.get(group=group, user=target).status == "banned"
    completions = AuditEvent.objects.filter(action="moderation.complete").count()
    again = api.post(complete_url(row), {"error": "Bad Request: too late"}).json()["data"]
    assert (again["status"], again["error"], again["moderation_status"]) == ("done", "", "executed")
    assert AuditEvent.objects.filter(action="moderation.complete").count() == completions
    assert claim(api) == []


def test_complete_with_telegrams_error_fails_the_record_with_it_in_the_groups_log(api):
    ban_list = make_list(name="Spam watch")
    (group,) = subscribed_groups(ban_list, 1)
    Group.objects.filter(pk=group.pk).update(log_chat_id=-1009999000055)
    ban_list_ban(ban_list=ban_list, telegram_user_id=808, reason="spam")
    (row,) = claim(api)
    error = "Bad Request: not enough rights to restrict/unrestrict chat member"
    data = api.post(complete_url(row), {"error": error}).json()["data"]
    assert (data["status"], data["error"], data["moderation_status"]) == ("failed", error, "failed")
    record = ModerationAction.objects.get(pk=row["moderation_action_id"])
    assert (record.status, record.error) == ("failed", error)
    post = LogEntry.objects.get(action=record)
    assert "#BANNED" in post.text and "<b>By:</b> <code>system:banlist</code>" in post.text
    assert "Ban list Spam watch: spam" in post.text and "failed: Bad Request: not enough rights" in post.text


def test_a_notice_completes_without_a_record(api):
    ban_list = make_list()
    (group,) = subscribed_groups(ban_list, 1)
    approved = make_user()
    make_member(approved, group)
    grant(approved, "approved", group)
    ban_list_ban(ban_list=ban_list, telegram_user_id=approved.telegram_user_id)
    (row,) = claim(api)
    assert (row["action"], row["moderation_action_id"]) == ("notify", None)
    data = api.post(complete_url(row), {"error": None}).json()["data"]
    assert (data["status"], data["moderation_action_id"], data["moderation_status"]) == ("done", None, None)


def test_the_groups_reached_follow_lists_following_the_list_transitively(api):
    source = make_list(name="Source")
    direct = make_group()
    subscribe(source, direct)
    chain = [source]
    for depth in range(1, 7):
        follower = make_list(name=f"Follower {depth}")
        follow(follower, chain[-1])
        subscribe(follower, make_group(title=f"Depth {depth}"))
        chain.append(follower)
    reached = {group.title for group in groups_reached(ban_list=source)}
    # The list's own group and those of lists up to 5 follows away, as a group's effective lists are read.
    assert reached == {direct.title, *(f"Depth {depth}" for depth in range(1, 6))}
    for group in Group.objects.filter(title__startswith="Depth"):
        sees = str(source.pk) in {entry["id"] for entry in group_ban_lists(group=group)}
        assert sees == (group.title in reached)
    assert ban_list_ban(ban_list=source, telegram_user_id=3)["propagation"]["groups"] == 6
    # An inactive group (the bot left it) is not owed anything.
    Group.objects.filter(pk=direct.pk).update(is_active=False)
    assert len(groups_reached(ban_list=source)) == 5


def test_a_new_subscriber_owes_the_lists_bans_to_its_known_members_once(api):
    ban_list = make_list()
    ban_list_ban(ban_list=ban_list, telegram_user_id=11, reason="spam")
    group = make_group()
    banned_member, exempt_member, innocent = make_user(telegram_user_id=11), make_user(), make_user()
    ban_list_ban(ban_list=ban_list, telegram_user_id=exempt_member.telegram_user_id)
    gone = make_user()
    ban_list_ban(ban_list=ban_list, telegram_user_id=gone.telegram_user_id)
    for user in (banned_member, exempt_member, innocent):
        make_member(user, group)
    membership_set(group=group, user=gone, status=Membership.Status.LEFT)
    membership_set(group=group, user=exempt_member, is_admin=True)
    assert Propagation.objects.count() == 0  # no groups yet
    subscribe(ban_list, group)
    assert propagate_to_new_subscriber(group) == 2
    rows = {row.telegram_user_id: row for row in Propagation.objects.all()}
    assert set(rows) == {11, exempt_member.telegram_user_id}
    assert (rows[11].action, rows[11].reason) == ("ban", "spam")
    assert rows[11].moderation_action.target_id == banned_member.pk
    assert rows[exempt_member.telegram_user_id].action == "notify"
    assert propagate_to_new_subscriber(group) == 0  # owed once


def test_cancelling_fails_the_pending_rows_and_their_records(api):
    ban_list = make_list()
    subscribed_groups(ban_list, 2)
    ban_list_ban(ban_list=ban_list, telegram_user_id=1)
    (held,) = claim(api, limit=1)
    assert propagations_cancel(ban_list=ban_list, error="ban list deleted", leased_too=False) == 1
    assert propagations_cancel(ban_list=ban_list, error="ban list deleted") == 1
    assert set(Propagation.objects.values_list("status", "error")) == {("failed", "ban list deleted")}
    assert set(ModerationAction.objects.values_list("status", flat=True)) == {"failed"}
    # The bot completing the row it held afterwards changes nothing.
    assert api.post(complete_url(held), {}).json()["data"]["status"] == "failed"


def test_an_unban_reaches_the_same_groups_as_an_unban_record(api):
    ban_list = make_list()
    groups = subscribed_groups(ban_list, 2)
    ban_list_ban(ban_list=ban_list, telegram_user_id=21)
    for row in claim(api):
        api.post(complete_url(row), {})
    ban_list_unban(ban_list=ban_list, telegram_user_id=21)
    unbans = claim(api)
    assert sorted(row["group_id"] for row in unbans) == sorted(str(group.pk) for group in groups)
    assert {row["action"] for row in unbans} == {"unban"}
    for row in unbans:
        assert api.post(complete_url(row), {}).json()["data"]["moderation_status"] == "executed"


def test_the_progress_counts_rows_by_status(api):
    ban_list = make_list()
    group, _ = subscribed_groups(ban_list, 2)
    approved = make_user()
    grant(approved, "approved", group)
    ban_list_ban(ban_list=ban_list, telegram_user_id=approved.telegram_user_id)
    rows = claim(api)
    api.post(complete_url(rows[0]), {"error": "Forbidden: bot was kicked"})
    progress = api.get(f"/api/banlists/{ban_list.pk}/propagation").json()["data"]
    assert progress == {"pending": 1, "done": 0, "failed": 1, "notify": 1}


def test_claim_and_complete_refuse_bad_input(api):
    for body in ({"limit": 0}, {"limit": 201}, {"lease_seconds": 9}, {"lease_seconds": 601}, {"limit": "5"},
                 {"other": 1}):
        error_of(api.post(CLAIM, body), 400, "validation_error")
    error_of(api.post("/api/banlists/propagations/123456789/complete", {}), 404, "not_found")
    error_of(api.post("/api/banlists/propagations/nope/complete", {}), 404, "not_found")
    ban_list = make_list()
    subscribed_groups(ban_list, 1)
    ban_list_ban(ban_list=ban_list, telegram_user_id=1)
    (row,) = claim(api)
    for body in ({"error": 5}, {"error": "x" * 1025}, {"status": "done"}):
        error_of(api.post(complete_url(row), body), 400, "validation_error")
