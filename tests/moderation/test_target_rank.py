"""The rank rule on moderation: a request that names the actor's permission is refused (403 rank_violation,
nothing recorded, on the audit trail) when the target's rank in the group is equal to or above the actor's. A
Telegram administrator (membership is_admin, synced from Telegram) counts at least as an admin."""

import pytest

from apps.audit.models import AuditEvent
from apps.groups.services import membership_set
from apps.moderation.models import ModerationAction
from tests.factories import grant, make_group, make_member, make_user

ACTIONS = "/api/moderation/actions"


@pytest.fixture
def group(db):
    return make_group()


def member(group, role=None, *, telegram_admin=False):
    user = make_user()
    make_member(user, group)
    if role:
        grant(user, role, group)
    if telegram_admin:
        membership_set(group=group, user=user, is_admin=True)
    return user


def request(api, group, actor, target, type="ban", permission="BAN_USERS"):
    return api.post(ACTIONS, {"type": type, "telegram_chat_id": group.telegram_chat_id, "permission": permission,
                              "actor_telegram_user_id": actor.telegram_user_id,
                              "target_telegram_user_id": target.telegram_user_id})


@pytest.mark.parametrize(("actor_role", "target_role"), [("moderator", "moderator"), ("moderator", "admin"),
                                                         ("admin", "admin"), ("admin", "owner"),
                                                         ("helper", "moderator")])
def test_equal_or_higher_rank_is_refused_and_nothing_is_recorded(api, group, actor_role, target_role):
    actor, target = member(group, actor_role), member(group, target_role)
    permission, type = ("MUTE_USERS", "mute") if actor_role == "helper" else ("BAN_USERS", "ban")
    refused = request(api, group, actor, target, type, permission)
    assert refused.status_code == 403, refused.json()
    body = refused.json()
    assert body["error"] == "rank_violation"
    assert f"You can't {type} this member" in body["message"] and target_role in body["message"]
    assert not ModerationAction.objects.exists()
    event = AuditEvent.objects.filter(action="moderation.request").latest("sequence")
    assert (event.result, event.reason, event.actor_user_id) == ("denied", "rank_violation", str(actor.pk))
    assert event.target_id == str(target.pk)


def test_a_lower_rank_or_a_plain_member_may_be_acted_on(api, group):
    moderator = member(group, "moderator")
    for target in (member(group), member(group, "helper"), member(group, "member")):
        assert request(api, group, moderator, target).status_code == 201


def test_a_telegram_administrator_counts_as_an_admin_even_without_the_role(api, group):
    moderator, admin = member(group, "moderator"), member(group, "admin")
    telegram_admin = member(group, telegram_admin=True)  # is_admin synced, the admin role revoked by hand
    refused = request(api, group, moderator, telegram_admin)
    assert (refused.status_code, refused.json()["error"]) == (403, "rank_violation")
    assert "Telegram administrator" in refused.json()["message"]
    assert request(api, group, admin, telegram_admin).status_code == 403  # equal: refused
    owner = member(group, "owner")
    assert request(api, group, owner, telegram_admin).status_code == 201  # outranks them


def test_global_ranks_count_in_every_group(api, group):
    platform_admin, moderator = member(group), member(group, "moderator")
    grant(platform_admin, "admin")
    assert request(api, group, moderator, platform_admin).status_code == 403
    assert request(api, group, platform_admin, moderator).status_code == 201


def test_every_targeted_action_follows_the_rule(api, group):
    admin, peer = member(group, "admin"), member(group, "admin")
    for type, permission in [("mute", "MUTE_USERS"), ("kick", "KICK_USERS"), ("warn", "WARN_USERS"),
                             ("unwarn", "WARN_USERS"), ("unban", "BAN_USERS")]:
        answer = request(api, group, admin, peer, type, permission)
        assert (answer.status_code, answer.json()["error"]) == (403, "rank_violation"), type
    owner, co_owner = member(group, "owner"), member(group, "owner")
    demoted = request(api, group, owner, co_owner, "demote", "MANAGE_ADMINS")
    assert (demoted.status_code, demoted.json()["error"]) == (403, "rank_violation")
    assert not ModerationAction.objects.exists()


def test_the_permission_is_decided_first(api, group):
    plain, admin = member(group), member(group, "admin")
    refused = request(api, group, plain, admin)
    assert refused.json()["error"] == "permission_denied"  # a member without the permission learns only that


def test_a_request_without_a_permission_is_the_callers_decision(api, group):
    """System actions (a warn limit's ban after a checked warn, protection rules) name no permission: the rank
    rule binds requests that ask core to authorize the actor."""
    moderator, admin = member(group, "moderator"), member(group, "admin")
    body = {"type": "ban", "group_id": str(group.pk), "actor_user_id": str(moderator.pk),
            "target_user_id": str(admin.pk)}
    assert api.post(ACTIONS, body).status_code == 201
