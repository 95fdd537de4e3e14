"""A list's bans over core's API (/fban, /unfban): authorized in the list's scope, one version, one history row and
one audit row each, owed to every group the list reaches (a moderation record each), a notice instead where the user
is exempt, posted in the list's own log chat."""

import pytest

from apps.audit.models import AuditEvent
from apps.banlists.models import Ban, BanList, Change, Propagation
from apps.logchannel.models import LogEntry
from apps.moderation.models import ModerationAction
from apps.users.models import User
from tests.banlists.ban_world import error_of, list_admin, make_list, subscribe, subscribed_groups
from tests.factories import grant, make_member, make_user

pytestmark = pytest.mark.django_db
LOG_CHAT = -1009999000077


def bans_url(ban_list, suffix: str = "") -> str:
    return f"/api/banlists/{ban_list.pk}/bans{suffix}"


def fban(api, ban_list, telegram_user_id, reason="", **actor):
    return api.post(bans_url(ban_list), {"telegram_user_id": telegram_user_id, "reason": reason, **actor})


def test_a_list_admin_bans_a_user_in_every_subscribed_group_each_a_moderation_record(api):
    ban_list = make_list(name="Spam watch")
    admin = list_admin(ban_list)
    groups = subscribed_groups(ban_list, 3)
    response = fban(api, ban_list, 777000123, "crypto spam", actor_telegram_user_id=admin.telegram_user_id)
    assert response.status_code == 200, response.json()
    data = response.json()["data"]
    assert (data["created"], data["version"], data["propagation"]) == (True, 2, {"groups": 3, "exempt": 0})
    ban = data["ban"]
    assert (ban["telegram_user_id"], ban["reason"], ban["source"], ban["active"], ban["version"]) == (
        777000123, "crypto spam", "api", True, 2)
    assert ban["banned_by"]["id"] == str(admin.pk)
    # The target is created in core (unknown before), so each group's record names them.
    target = User.objects.get(telegram_user_id=777000123)
    assert ban["user_id"] == str(target.pk)
    rows = list(Propagation.objects.order_by("group_id"))
    assert [(row.group_id, row.action, row.status) for row in rows] == [(group.pk, "ban", "pending")
                                                                        for group in groups]
    for row in rows:
        record = row.moderation_action
        assert (record.type, record.status, record.rule, record.actor_id, record.target_id, record.group_id) == (
            "ban", "requested", "banlist", admin.pk, target.pk, row.group_id)
        assert record.reason == "Ban list Spam watch: crypto spam"
        assert record.details == {"ban_list_id": str(ban_list.pk), "ban_list_name": "Spam watch",
                                  "propagation_id": str(row.pk)}
    change = Change.objects.get()
    assert (change.kind, change.telegram_user_id, change.reason, change.actor_id) == (
        "ban", 777000123, "crypto spam", admin.pk)
    audit = AuditEvent.objects.get(action="banlist.ban")
    assert (audit.target_type, audit.target_id, audit.actor_user_id, audit.result) == (
        "ban_list", str(ban_list.pk), str(admin.pk), "success")
    assert audit.details["groups"] == 3 and audit.details["telegram_user_id"] == 777000123
    assert AuditEvent.objects.filter(action="moderation.request", details__rule="banlist").count() == 3


def test_an_exempt_member_is_not_banned_there_but_the_moderators_are_told(api):
    ban_list = make_list()
    approved_in, admin_in, plain = subscribed_groups(ban_list, 3)
    target = make_user()
    for group in (approved_in, admin_in, plain):
        make_member(target, group)
    grant(target, "approved", approved_in)
    from apps.groups.services import membership_set

    membership_set(group=admin_in, user=target, is_admin=True)
    data = fban(api, ban_list, target.telegram_user_id, "spam").json()["data"]
    assert data["propagation"] == {"groups": 3, "exempt": 2}
    actions = dict(Propagation.objects.values_list("group_id", "action"))
    assert actions == {approved_in.pk: "notify", admin_in.pk: "notify", plain.pk: "ban"}
    assert Propagation.objects.get(group=approved_in).moderation_action is None
    assert ModerationAction.objects.filter(rule="banlist").count() == 1


def test_a_global_bypass_exempts_the_user_everywhere(api):
    ban_list = make_list()
    subscribed_groups(ban_list, 2)
    staff = make_user()
    grant(staff, "admin")  # a global admin holds BYPASS_PROTECTION everywhere
    data = fban(api, ban_list, staff.telegram_user_id).json()["data"]
    assert data["propagation"] == {"groups": 2, "exempt": 2}
    assert set(Propagation.objects.values_list("action", flat=True)) == {"notify"}


def test_someone_without_ban_list_ban_is_refused_naming_it_and_nothing_is_written(api):
    ban_list = make_list()
    subscribed_groups(ban_list, 1)
    stranger = make_user()
    body = error_of(fban(api, ban_list, 42, actor_user_id=str(stranger.pk)), 403, "permission_denied")
    assert body["details"]["permission"] == "BAN_LIST_BAN"
    # An admin of ANOTHER list is a stranger here.
    other_admin = list_admin(make_list())
    error_of(fban(api, ban_list, 42, actor_user_id=str(other_admin.pk)), 403, "permission_denied")
    assert not Ban.objects.exists() and not Propagation.objects.exists() and not Change.objects.exists()
    assert BanList.objects.get(pk=ban_list.pk).version == 1


def test_a_ban_again_updates_the_reason_without_owing_it_again_and_the_same_ban_writes_nothing(api):
    ban_list = make_list()
    subscribed_groups(ban_list, 2)
    fban(api, ban_list, 55, "spam")
    again = fban(api, ban_list, 55, "spam").json()["data"]
    assert (again["created"], again["version"], again["propagation"]) == (False, 2, {"groups": 0, "exempt": 0})
    assert Change.objects.count() == 1 and AuditEvent.objects.filter(action="banlist.ban").count() == 1
    updated = fban(api, ban_list, 55, "scam").json()["data"]
    assert (updated["created"], updated["version"], updated["ban"]["reason"]) == (False, 3, "scam")
    assert Propagation.objects.count() == 2  # owed once
    assert Change.objects.count() == 2


def test_unban_owes_an_unban_to_the_groups_except_where_another_list_still_bans(api):
    first, second = make_list(name="First"), make_list(name="Second")
    only_first, both = subscribed_groups(first, 2)
    subscribe(second, both)
    fban(api, second, 99, "spam")
    fban(api, first, 99, "spam")
    response = api.post(bans_url(first, "/remove"), {"telegram_user_id": 99, "reason": "appeal accepted"})
    data = response.json()["data"]
    assert (data["removed"], data["version"], data["ban"]["active"], data["propagation"]) == (
        True, 3, False, {"groups": 1})
    unbans = Propagation.objects.filter(action="unban")
    assert [row.group_id for row in unbans] == [only_first.pk]
    assert unbans.get().moderation_action.type == "unban"
    assert unbans.get().moderation_action.reason == "Ban list First: appeal accepted"
    assert AuditEvent.objects.filter(action="banlist.unban").count() == 1
    assert Change.objects.filter(ban_list=first, kind="unban").get().reason == "appeal accepted"
    # Not on the list (any more): nothing written.
    again = api.post(bans_url(first, "/remove"), {"telegram_user_id": 99}).json()["data"]
    assert (again["removed"], again["version"]) == (False, 3)
    never = api.post(bans_url(first, "/remove"), {"telegram_user_id": 12345}).json()["data"]
    assert (never["removed"], never["ban"]) == (False, None)


def test_an_unban_cancels_the_ban_not_yet_carried_out_with_its_record(api):
    ban_list = make_list()
    subscribed_groups(ban_list, 1)
    fban(api, ban_list, 31, "spam")
    api.post(bans_url(ban_list, "/remove"), {"telegram_user_id": 31})
    ban = Propagation.objects.get(action="ban")
    assert (ban.status, ban.error) == ("failed", "superseded: unbanned before the ban was carried out")
    assert ban.moderation_action.status == "failed"
    assert Propagation.objects.get(action="unban").status == "pending"


def test_the_bans_page_filters_and_names_the_users_core_knows(api):
    ban_list = make_list()
    known = make_user(display_name="Known Spammer")
    fban(api, ban_list, known.telegram_user_id, "links")
    fban(api, ban_list, 1001, "crypto")
    fban(api, ban_list, 1002, "crypto")
    api.post(bans_url(ban_list, "/remove"), {"telegram_user_id": 1002})
    page = api.get(bans_url(ban_list)).json()["data"]
    assert (page["total"], page["page"], page["limit"]) == (2, 1, 20)
    assert [item["telegram_user_id"] for item in page["items"]] == [1001, known.telegram_user_id]
    assert page["items"][1]["name"] == "Known Spammer" and page["items"][0]["name"] == ""
    unbanned = api.get(bans_url(ban_list, "?active=false")).json()["data"]["items"]
    assert [item["telegram_user_id"] for item in unbanned] == [1002]
    assert api.get(bans_url(ban_list, "?q=known")).json()["data"]["total"] == 1
    assert api.get(bans_url(ban_list, "?q=crypto")).json()["data"]["total"] == 1
    assert api.get(bans_url(ban_list, "?telegram_user_id=1001")).json()["data"]["total"] == 1
    for bad in ("?active=", "?active=maybe", "?telegram_user_id=0", "?limit=201", "?unknown=1"):
        error_of(api.get(bans_url(ban_list, bad)), 400, "validation_error")


def test_the_history_is_newest_first_and_filters(api):
    ban_list = make_list()
    admin = list_admin(ban_list)
    fban(api, ban_list, 1, "a", actor_user_id=str(admin.pk))
    fban(api, ban_list, 2, "b")
    api.post(bans_url(ban_list, "/remove"), {"telegram_user_id": 1})
    history = f"/api/banlists/{ban_list.pk}/history"
    items = api.get(history).json()["data"]["items"]
    assert [(item["kind"], item["telegram_user_id"]) for item in items] == [("unban", 1), ("ban", 2), ("ban", 1)]
    assert items[2]["actor"]["id"] == str(admin.pk) and items[1]["actor"] is None
    assert [item["kind"] for item in api.get(f"{history}?kind=unban").json()["data"]["items"]] == ["unban"]
    assert api.get(f"{history}?telegram_user_id=1").json()["data"]["total"] == 2
    assert api.get(f"{history}?actor_user_id={admin.pk}").json()["data"]["total"] == 1
    assert api.get(f"{history}?since=2100-01-01T00:00:00Z").json()["data"]["total"] == 0
    error_of(api.get(f"{history}?kind=delete"), 400, "validation_error")
    error_of(api.get(f"{history}?since=yesterday"), 400, "validation_error")


def test_a_users_lists_are_the_active_bans_on_active_lists(api):
    first, second, deleted = make_list(name="First"), make_list(name="Second"), make_list(name="Gone")
    for ban_list in (first, second, deleted):
        fban(api, ban_list, 4242, f"on {ban_list.name}")
    api.post(bans_url(second, "/remove"), {"telegram_user_id": 4242})
    BanList.objects.filter(pk=deleted.pk).update(is_active=False)
    data = api.get("/api/banlists/bans?telegram_user_id=4242").json()["data"]
    assert data["telegram_user_id"] == 4242
    assert [(item["ban_list"]["name"], item["reason"]) for item in data["bans"]] == [("First", "on First")]
    assert api.get("/api/banlists/bans?telegram_user_id=1").json()["data"]["bans"] == []
    error_of(api.get("/api/banlists/bans"), 400, "validation_error")


def test_for_an_acting_user_a_users_lists_are_those_they_may_view(api):
    mine, theirs = make_list(name="Mine"), make_list(name="Theirs")
    for ban_list in (mine, theirs):
        fban(api, ban_list, 4343, "spam")
    admin, stranger, staff = list_admin(mine), make_user(), make_user()
    grant(staff, "admin")  # the global admin role holds BAN_LIST_VIEW everywhere

    def names(user) -> list[str]:
        response = api.get("/api/banlists/bans?telegram_user_id=4343", HTTP_X_ACTING_USER_ID=str(user.pk))
        assert response.status_code == 200, response.json()
        return [item["ban_list"]["name"] for item in response.json()["data"]["bans"]]

    assert names(admin) == ["Mine"]
    assert names(stranger) == []
    assert names(staff) == ["Mine", "Theirs"]
    gone = make_user(is_active=False)
    error_of(api.get("/api/banlists/bans?telegram_user_id=4343", HTTP_X_ACTING_USER_ID=str(gone.pk)), 403,
             "permission_denied")


def test_bad_input_is_a_4xx_never_a_500(api):
    ban_list = make_list()
    for body in ({}, {"telegram_user_id": "12"}, {"telegram_user_id": 0}, {"telegram_user_id": -5},
                 {"telegram_user_id": 2**64}, {"telegram_user_id": 1, "reason": "x" * 1025},
                 {"telegram_user_id": 1, "reason": 5}, {"telegram_user_id": 1, "actor_user_id": "1",
                                                        "actor_telegram_user_id": 2},
                 {"telegram_user_id": 1, "extra": True}, {"telegram_user_id": True}):
        error_of(api.post(bans_url(ban_list), body), 400, "validation_error")
    error_of(api.post(bans_url(ban_list), raw="[1]"), 400, "validation_error")
    error_of(api.post(bans_url(ban_list), raw="{"), 400, "malformed_request")
    error_of(api.post("/api/banlists/nope/bans", {"telegram_user_id": 1}), 404, "not_found")
    error_of(api.get("/api/banlists/123456789/bans"), 404, "not_found")
    error_of(api.post(bans_url(ban_list), {"telegram_user_id": 1, "actor_user_id": "999999"}), 403,
             "permission_denied")


def test_a_deleted_list_takes_no_bans(api):
    ban_list = make_list(is_active=False)
    error_of(fban(api, ban_list, 1), 404, "not_found")
    error_of(api.post(bans_url(ban_list, "/remove"), {"telegram_user_id": 1}), 404, "not_found")


def test_each_ban_and_unban_is_posted_in_the_lists_log_chat(api):
    ban_list = make_list(name="Spam <watch>", log_chat_id=LOG_CHAT)
    admin = list_admin(ban_list)
    subscribed_groups(ban_list, 2)
    target = make_user(display_name="Spammer")
    fban(api, ban_list, target.telegram_user_id, "links & scams", actor_user_id=str(admin.pk))
    api.post(bans_url(ban_list, "/remove"), {"telegram_user_id": target.telegram_user_id, "reason": "appeal"})
    ban_post, unban_post = LogEntry.objects.filter(kind="banlist").order_by("id")
    assert (ban_post.group_id, ban_post.log_chat_id, ban_post.status) == (None, LOG_CHAT, "pending")
    lines = ban_post.text.splitlines()
    assert lines[:2] == [f"<b>Spam &lt;watch&gt;</b> [ban list <code>{ban_list.pk}</code>]", "#FBAN"]
    assert lines[2].startswith("<b>By:</b> ") and f"tg://user?id={admin.telegram_user_id}" in lines[2]
    assert f"tg://user?id={target.telegram_user_id}\">Spammer" in lines[3]
    assert "<b>Reason:</b> links &amp; scams" in lines and "<b>Groups:</b> 2 groups" in lines
    assert unban_post.text.splitlines()[1] == "#UNFBAN" and "<b>Reason:</b> appeal" in unban_post.text
    # A list without a log chat posts nothing.
    quiet = make_list()
    fban(api, quiet, 5)
    assert LogEntry.objects.count() == 2
