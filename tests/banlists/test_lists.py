"""Ban lists' governance through core's API: creating, renaming, the log chat, deleting; admins; groups subscribing
and leaving; lists following lists. Every write is authorized in the right scope, audited, and never a 500."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.banlists.models import Ban, BanList, Follow, Propagation, Subscription
from apps.banlists.selectors import group_ban_lists
from apps.groups.models import Group
from apps.rbac.models import RoleAssignment
from tests.factories import grant, make_group, make_member, make_user

LISTS = "/api/banlists"
ACTING = "HTTP_X_ACTING_USER_ID"


def error(response, status: int, code: str) -> dict:
    body = response.json()
    assert (response.status_code, body["success"], body["error"]) == (status, False, code), body
    return body


def data(response, status: int = 200):
    assert response.status_code == status, response.content
    return response.json()["data"]


def new_list(api, owner, name="Spam watch") -> dict:
    return data(api.post(LISTS, {"name": name, "actor_user_id": str(owner.pk)}), 201)


def audits(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("sequence"))


def version(group: Group) -> int:
    return Group.objects.get(pk=group.pk).settings_version


def group_owned_by(user) -> Group:
    """A group whose owner (role owner in it, as the admin sync makes its creator) is `user`."""
    group = make_group()
    make_member(user, group)
    grant(user, "owner", group)
    return group


@pytest.fixture
def owner(db):
    return make_user(display_name="Rose Owner", telegram_username="roseowner")


@pytest.fixture
def ban_list(api, owner) -> dict:
    return new_list(api, owner)


# -- creating and reading

def test_anyone_known_creates_a_list_and_owns_it(api, owner):
    created = new_list(api, owner, "  Spam watch  ")
    assert created["name"] == "Spam watch"
    assert created["owner"] == {"id": str(owner.pk), "telegram_user_id": owner.telegram_user_id,
                                "username": "roseowner", "display_name": "Rose Owner"}
    assert (created["version"], created["is_active"], created["log_chat_id"]) == (1, True, None)
    assert (created["bans_count"], created["groups_count"], created["admins_count"]) == (0, 0, 0)
    assignment = RoleAssignment.objects.get(user=owner, scope=f"banlist:{created['id']}")
    assert assignment.role.name == "banlist_owner" and assignment.revoked_at is None
    (event,) = audits("banlist.create")
    assert (event.actor_user_id, event.target_type, event.target_id) == (str(owner.pk), "ban_list", created["id"])
    assert data(api.get(f"{LISTS}/{created['id']}")) == created


def test_create_by_telegram_id_and_the_actor_is_required(api, owner):
    by_telegram = data(api.post(LISTS, {"name": "By id", "actor_telegram_user_id": owner.telegram_user_id}), 201)
    assert by_telegram["owner"]["id"] == str(owner.pk)
    error(api.post(LISTS, {"name": "Nobody's"}), 400, "validation_error")
    error(api.post(LISTS, {"name": "Ghost's", "actor_telegram_user_id": 77_000_001}), 404, "not_found")
    error(api.post(LISTS, {"name": "Ghost's", "actor_user_id": "999999"}), 404, "not_found")


@pytest.mark.parametrize("body", [
    {"name": ""}, {"name": "   "}, {"name": "x" * 65}, {"name": 5}, {"name": None}, {"name": "a\x00b"},
    {"name": ["a"]}, {"name": "ok", "actor_user_id": {"a": 1}}, {"name": "ok", "actor_telegram_user_id": "x"},
    {"name": "ok", "actor_user_id": "1", "actor_telegram_user_id": 1}, {"name": "ok", "extra": 1},
])
def test_bad_bodies_are_400s(api, owner, body):
    if "actor_user_id" not in body and "actor_telegram_user_id" not in body:
        body = {**body, "actor_user_id": str(owner.pk)}
    error(api.post(LISTS, body), 400, "validation_error")


@pytest.mark.parametrize("raw", ["[]", "null", "1", "{", '"x"'])
def test_bodies_that_are_not_objects_are_400s(api, raw):
    response = api.post(LISTS, raw=raw)
    assert response.status_code == 400, response.content


def test_at_most_the_limit_of_lists_owned_staff_exempt(api, owner, settings):
    settings.BANLIST_MAX_OWNED = 2
    first = new_list(api, owner, "One")
    new_list(api, owner, "Two")
    body = error(api.post(LISTS, {"name": "Three", "actor_user_id": str(owner.pk)}), 409, "conflict")
    assert body["details"] == {"limit": 2}
    data(api.post(f"{LISTS}/{first['id']}/delete", {"actor_user_id": str(owner.pk)}))
    new_list(api, owner, "Three")  # a deleted list no longer counts
    staff = make_user()
    grant(staff, "owner")  # BAN_LIST_MANAGE globally
    for number in range(3):
        new_list(api, staff, f"Staff {number}")


def test_unknown_and_malformed_ids_are_404s(api, ban_list):
    for list_id in ("999999", "abc", "1.5", "-1", "%20"):
        error(api.get(f"{LISTS}/{list_id}"), 404, "not_found")
        error(api.get(f"{LISTS}/{list_id}/admins"), 404, "not_found")
        error(api.post(f"{LISTS}/{list_id}/delete", {}), 404, "not_found")


# -- renaming, log chat

def test_the_owner_renames_and_sets_the_log_chat_others_are_refused(api, owner, ban_list):
    path = f"{LISTS}/{ban_list['id']}"
    group = group_owned_by(owner)
    data(api.post(f"{path}/subscriptions", {"group_id": str(group.pk), "actor_user_id": str(owner.pk)}), 201)
    before = version(group)
    renamed = data(api.patch(path, {"name": "Spam patrol", "actor_user_id": str(owner.pk)}))
    assert renamed["name"] == "Spam patrol"
    assert version(group) == before + 1  # the name travels in the group's settings
    assert group_ban_lists(group=group) == [{"id": ban_list["id"], "name": "Spam patrol"}]
    logged = data(api.patch(path, {"log_chat_id": -1001234, "actor_telegram_user_id": owner.telegram_user_id}))
    assert logged["log_chat_id"] == -1001234
    assert data(api.patch(path, {"log_chat_id": None}))["log_chat_id"] is None  # the service itself
    events = audits("banlist.update")
    assert [event.details["changed"] for event in events] == [
        {"name": ["Spam watch", "Spam patrol"]}, {"log_chat_id": [None, -1001234]}, {"log_chat_id": [-1001234, None]}]
    admin, stranger = make_user(), make_user()
    data(api.post(f"{path}/admins", {"user_id": str(admin.pk), "actor_user_id": str(owner.pk)}), 201)
    for who in (admin, stranger):
        body = error(api.patch(path, {"name": "Mine", "actor_user_id": str(who.pk)}), 403, "permission_denied")
        assert body["details"]["permission"] == "BAN_LIST_MANAGE" and "BAN_LIST_MANAGE" in body["message"]
    assert BanList.objects.get(pk=ban_list["id"]).name == "Spam patrol"


@pytest.mark.parametrize("body", [{}, {"actor_user_id": "1"}, {"name": ""}, {"name": "x" * 65},
                                  {"log_chat_id": "abc"}, {"log_chat_id": 1.5}, {"log_chat_id": 2**63},
                                  {"name": None}])
def test_bad_updates_are_400s(api, ban_list, body):
    error(api.patch(f"{LISTS}/{ban_list['id']}", body), 400, "validation_error")


def test_acting_user_writes_are_checked_and_they_are_the_actor(api, owner, ban_list):
    path = f"{LISTS}/{ban_list['id']}"
    stranger = make_user()
    error(api.patch(path, {"name": "Theirs"}, **{ACTING: str(stranger.pk)}), 403, "permission_denied")
    data(api.patch(path, {"name": "Ours"}, **{ACTING: str(owner.pk)}))
    assert audits("banlist.update")[-1].actor_user_id == str(owner.pk)


# -- deleting

def test_delete_is_soft_unlinks_bumps_and_fails_pending_bans(api, owner, ban_list):
    path = f"{LISTS}/{ban_list['id']}"
    group = group_owned_by(owner)
    data(api.post(f"{path}/subscriptions", {"group_id": str(group.pk), "actor_user_id": str(owner.pk)}), 201)
    other = new_list(api, owner, "Other")
    data(api.post(f"{LISTS}/{other['id']}/follows", {"source_id": ban_list["id"], "actor_user_id": str(owner.pk)}),
         201)
    pending = Propagation.objects.create(ban_list_id=ban_list["id"], group=group, telegram_user_id=42, action="ban")
    before = version(group)
    deleted = data(api.post(f"{path}/delete", {"actor_user_id": str(owner.pk)}))
    assert deleted["is_active"] is False
    row = BanList.objects.get(pk=ban_list["id"])
    assert row.deleted_at is not None and not row.is_active
    assert not Subscription.objects.filter(ban_list=row).exists()
    assert not Follow.objects.filter(source=row).exists()
    assert version(group) == before + 1 and group_ban_lists(group=group) == []
    pending.refresh_from_db()
    assert (pending.status, pending.error) == ("failed", "ban list deleted")
    (event,) = audits("banlist.delete")
    assert event.details["subscriptions"] == 1 and event.details["follows"] == 1
    error(api.get(path), 404, "not_found")
    error(api.post(f"{path}/delete", {"actor_user_id": str(owner.pk)}), 404, "not_found")
    ids = [item["id"] for item in data(api.get(LISTS))["items"]]
    assert ban_list["id"] not in ids
    with_deleted = [item["id"] for item in data(api.get(f"{LISTS}?include_deleted=true"))["items"]]
    assert ban_list["id"] in with_deleted
    error(api.get(f"{LISTS}?include_deleted=true", **{ACTING: str(owner.pk)}), 403, "permission_denied")
    staff = make_user()
    grant(staff, "admin")
    assert ban_list["id"] in [item["id"] for item in
                              data(api.get(f"{LISTS}?include_deleted=true", **{ACTING: str(staff.pk)}))["items"]]


def test_only_managers_delete(api, owner, ban_list):
    stranger = make_user()
    body = error(api.post(f"{LISTS}/{ban_list['id']}/delete", {"actor_user_id": str(stranger.pk)}), 403,
                 "permission_denied")
    assert body["details"]["permission"] == "BAN_LIST_MANAGE"
    assert BanList.objects.get(pk=ban_list["id"]).is_active


# -- admins

def test_the_owner_promotes_and_demotes_admins(api, owner, ban_list):
    path = f"{LISTS}/{ban_list['id']}/admins"
    admin = make_user(telegram_username="helper")
    added = api.post(path, {"telegram_user_id": admin.telegram_user_id, "actor_user_id": str(owner.pk)})
    body = data(added, 201)
    assert body["created"] is True and body["owner"]["id"] == str(owner.pk)
    assert [(item["user"]["id"], item["role"]) for item in body["admins"]] == [
        (str(owner.pk), "banlist_owner"), (str(admin.pk), "banlist_admin")]
    assert body["admins"][1]["granted_by"]["id"] == str(owner.pk)
    assert data(api.post(path, {"user_id": str(admin.pk), "actor_user_id": str(owner.pk)}))["created"] is False
    assert data(api.post(path, {"user_id": str(owner.pk)}))["created"] is False  # the owner is one already
    assert data(api.get(f"{LISTS}/{ban_list['id']}"))["admins_count"] == 1
    assert data(api.get(path)) == {key: body[key] for key in ("owner", "admins")}
    (event,) = audits("banlist.admin_add")
    assert event.details["user_id"] == str(admin.pk) and event.details["role"] == "banlist_admin"
    assert audits("role.assign")[-1].details["scope"] == f"banlist:{ban_list['id']}"
    # An admin may ban but not promote; nobody demotes the owner here.
    newcomer = make_user()
    body = error(api.post(path, {"user_id": str(newcomer.pk), "actor_user_id": str(admin.pk)}), 403,
                 "permission_denied")
    assert body["details"]["permission"] == "MANAGE_ROLES"
    error(api.post(f"{path}/remove", {"user_id": str(owner.pk), "actor_user_id": str(owner.pk)}), 400,
          "validation_error")
    removed = data(api.post(f"{path}/remove", {"telegram_user_id": admin.telegram_user_id,
                                               "actor_user_id": str(owner.pk)}))
    assert removed["removed"] is True and [item["role"] for item in removed["admins"]] == ["banlist_owner"]
    assert data(api.post(f"{path}/remove", {"user_id": str(admin.pk)}))["removed"] is False
    assert len(audits("banlist.admin_remove")) == 1
    error(api.post(path, {"telegram_user_id": 88_000_001}), 404, "not_found")
    error(api.post(path, {"user_id": str(admin.pk), "telegram_user_id": 1}), 400, "validation_error")
    error(api.post(path, {}), 400, "validation_error")


def test_a_global_admin_is_outranked_by_nobody_but_cannot_promote_at_its_rank(api, owner, ban_list):
    staff = make_user()
    grant(staff, "admin")  # MANAGE_ROLES globally at rank 80: banlist_admin (80) is not below it
    error(api.post(f"{LISTS}/{ban_list['id']}/admins", {"user_id": str(make_user().pk),
                                                        "actor_user_id": str(staff.pk)}), 403, "rank_violation")


# -- groups

def test_the_groups_owner_subscribes_it_once_and_it_takes_the_lists_bans(api, owner, ban_list):
    path = f"{LISTS}/{ban_list['id']}/subscriptions"
    chat_owner = make_user()
    group = group_owned_by(chat_owner)
    before = version(group)
    body = data(api.post(path, {"telegram_chat_id": group.telegram_chat_id,
                                "actor_telegram_user_id": chat_owner.telegram_user_id}), 201)
    assert body["created"] is True and body["propagations"] == 0
    assert body["subscription"]["group_id"] == str(group.pk)
    assert body["subscription"]["subscribed_by"]["id"] == str(chat_owner.pk)
    assert version(group) == before + 1
    assert group_ban_lists(group=group) == [{"id": ban_list["id"], "name": "Spam watch"}]
    again = data(api.post(path, {"group_id": str(group.pk), "actor_user_id": str(chat_owner.pk)}))
    assert again["created"] is False and version(group) == before + 1
    page = data(api.get(path))
    assert page["total"] == 1 and page["page"] == 1
    assert page["items"][0]["telegram_chat_id"] == group.telegram_chat_id
    assert data(api.get(f"{LISTS}/{ban_list['id']}"))["groups_count"] == 1
    (event,) = audits("banlist.subscribe")
    assert event.group_id == str(group.pk) and event.actor_user_id == str(chat_owner.pk)


def test_subscribing_needs_ban_list_subscribe_in_the_group(api, owner, ban_list):
    path = f"{LISTS}/{ban_list['id']}/subscriptions"
    group = make_group()
    admin = make_user()
    make_member(admin, group)
    grant(admin, "admin", group)  # runs the group, but only its owner joins it to a list (as in Rose)
    body = error(api.post(path, {"group_id": str(group.pk), "actor_user_id": str(admin.pk)}), 403,
                 "permission_denied")
    assert body["details"]["permission"] == "BAN_LIST_SUBSCRIBE" and "group" in body["message"]
    # The list's owner is not the group's.
    error(api.post(path, {"group_id": str(group.pk), "actor_user_id": str(owner.pk)}), 403, "permission_denied")
    error(api.post(path, {"group_id": str(group.pk)}, **{ACTING: str(admin.pk)}), 403, "permission_denied")
    assert not Subscription.objects.exists()
    error(api.post(path, {"telegram_chat_id": -100999}), 404, "not_found")
    error(api.post(path, {}), 400, "validation_error")
    error(api.post(path, {"group_id": str(group.pk), "telegram_chat_id": group.telegram_chat_id}), 400,
          "validation_error")


def test_subscribing_owes_the_lists_bans_to_known_members(api, owner, ban_list):
    group = group_owned_by(owner)
    spammer = make_user()
    make_member(spammer, group)
    Ban.objects.create(ban_list_id=ban_list["id"], telegram_user_id=spammer.telegram_user_id, reason="spam",
                       banned_at=timezone.now(), version=2)
    Ban.objects.create(ban_list_id=ban_list["id"], telegram_user_id=77_123_456, reason="not here",
                       banned_at=timezone.now() - timedelta(days=1), version=2)
    body = data(api.post(f"{LISTS}/{ban_list['id']}/subscriptions", {"group_id": str(group.pk)}), 201)
    assert body["propagations"] == 1
    (owed,) = Propagation.objects.filter(group=group)
    assert (owed.telegram_user_id, owed.action, owed.status) == (spammer.telegram_user_id, "ban", "pending")


def test_leaving_bumps_and_drops_the_bans_still_owed(api, owner, ban_list):
    path = f"{LISTS}/{ban_list['id']}/subscriptions"
    group = group_owned_by(owner)
    data(api.post(path, {"group_id": str(group.pk), "actor_user_id": str(owner.pk)}), 201)
    pending = Propagation.objects.create(ban_list_id=ban_list["id"], group=group, telegram_user_id=42, action="ban")
    before = version(group)
    assert data(api.post(f"{path}/remove", {"group_id": str(group.pk), "actor_user_id": str(owner.pk)})) == {
        "removed": True}
    assert version(group) == before + 1 and group_ban_lists(group=group) == []
    pending.refresh_from_db()
    assert pending.status == "failed"
    assert data(api.post(f"{path}/remove", {"group_id": str(group.pk)})) == {"removed": False}
    stranger = make_user()
    error(api.post(f"{path}/remove", {"group_id": str(group.pk), "actor_user_id": str(stranger.pk)}), 403,
          "permission_denied")
    assert len(audits("banlist.unsubscribe")) == 1


# -- follows

def test_a_list_follows_another_and_its_groups_take_both(api, owner, ban_list):
    source = new_list(api, make_user(), "Source")
    group = group_owned_by(owner)
    data(api.post(f"{LISTS}/{ban_list['id']}/subscriptions", {"group_id": str(group.pk)}), 201)
    before = version(group)
    path = f"{LISTS}/{ban_list['id']}/follows"
    body = data(api.post(path, {"source_id": source["id"], "actor_user_id": str(owner.pk)}), 201)
    assert body == {"created": True, "source": {"id": source["id"], "name": "Source"}, "propagations": 0}
    assert version(group) == before + 1
    assert {entry["id"] for entry in group_ban_lists(group=group)} == {ban_list["id"], source["id"]}
    assert data(api.post(path, {"source_id": source["id"]}))["created"] is False
    assert data(api.get(path)) == {"follows": [{"id": source["id"], "name": "Source"}], "followers": []}
    assert data(api.get(f"{LISTS}/{source['id']}/follows"))["followers"] == [{"id": ban_list["id"],
                                                                               "name": "Spam watch"}]
    assert data(api.post(f"{path}/remove", {"source_id": source["id"], "actor_user_id": str(owner.pk)})) == {
        "removed": True}
    assert version(group) == before + 2 and group_ban_lists(group=group) == [{"id": ban_list["id"],
                                                                               "name": "Spam watch"}]
    assert data(api.post(f"{path}/remove", {"source_id": source["id"]})) == {"removed": False}
    assert [len(audits(action)) for action in ("banlist.follow", "banlist.unfollow")] == [1, 1]


def test_follows_refuse_itself_and_loops(api, owner, ban_list):
    first = ban_list["id"]
    second, third = (new_list(api, owner, name)["id"] for name in ("Second", "Third"))
    error(api.post(f"{LISTS}/{first}/follows", {"source_id": first}), 400, "validation_error")
    data(api.post(f"{LISTS}/{first}/follows", {"source_id": second}), 201)
    data(api.post(f"{LISTS}/{second}/follows", {"source_id": third}), 201)
    body = error(api.post(f"{LISTS}/{third}/follows", {"source_id": first}), 400, "validation_error")
    assert "loop" in body["message"]
    error(api.post(f"{LISTS}/{second}/follows", {"source_id": first}), 400, "validation_error")
    error(api.post(f"{LISTS}/{first}/follows", {"source_id": "999999"}), 404, "not_found")
    error(api.post(f"{LISTS}/{first}/follows", {"source_id": ["x"]}), 400, "validation_error")
    stranger = make_user()
    body = error(api.post(f"{LISTS}/{third}/follows", {"source_id": second, "actor_user_id": str(stranger.pk)}),
                 403, "permission_denied")
    assert body["details"]["permission"] == "BAN_LIST_MANAGE"


# -- the index

def test_the_index_for_an_acting_user_shows_what_they_may_view(api, owner):
    mine = new_list(api, owner, "Mine")
    theirs = new_list(api, make_user(), "Theirs")
    admin = make_user()
    data(api.post(f"{LISTS}/{theirs['id']}/admins", {"user_id": str(admin.pk)}), 201)
    ids = lambda response: [item["id"] for item in data(response)["items"]]  # noqa: E731
    assert ids(api.get(LISTS, **{ACTING: str(owner.pk)})) == [mine["id"]]
    assert ids(api.get(LISTS, **{ACTING: str(admin.pk)})) == [theirs["id"]]
    assert ids(api.get(LISTS, **{ACTING: str(make_user().pk)})) == []
    staff = make_user()
    grant(staff, "admin")
    assert ids(api.get(LISTS, **{ACTING: str(staff.pk)})) == [theirs["id"], mine["id"]]
    assert ids(api.get(LISTS)) == [theirs["id"], mine["id"]]
    error(api.get(LISTS, **{ACTING: "999999"}), 403, "permission_denied")


def test_the_index_filters_and_pages(api, owner):
    lists = [new_list(api, owner, f"List {number}") for number in range(3)]
    other = new_list(api, make_user(), "Elsewhere")
    admin = make_user()
    data(api.post(f"{LISTS}/{lists[0]['id']}/admins", {"user_id": str(admin.pk)}), 201)
    group = group_owned_by(owner)
    data(api.post(f"{LISTS}/{lists[1]['id']}/subscriptions", {"group_id": str(group.pk)}), 201)
    data(api.post(f"{LISTS}/{lists[1]['id']}/follows", {"source_id": other["id"]}), 201)
    ids = lambda response: {item["id"] for item in data(response)["items"]}  # noqa: E731
    assert ids(api.get(f"{LISTS}?admin_telegram_user_id={owner.telegram_user_id}")) == {item["id"] for item in lists}
    assert ids(api.get(f"{LISTS}?admin_user_id={admin.pk}")) == {lists[0]["id"]}
    assert ids(api.get(f"{LISTS}?admin_telegram_user_id=99000001")) == set()  # unknown to core: no roles
    assert ids(api.get(f"{LISTS}?telegram_chat_id={group.telegram_chat_id}")) == {lists[1]["id"], other["id"]}
    assert ids(api.get(f"{LISTS}?group_id={group.pk}&q=elsew")) == {other["id"]}
    first = data(api.get(f"{LISTS}?limit=3"))
    assert first["total"] == 4 and len(first["items"]) == 3 and first["page"] == 1
    second = data(api.get(f"{LISTS}?limit=3&page=2"))
    assert second["total"] == 4 and len(second["items"]) == 1 and second["page"] == 2
    for query in ("page=0", "limit=0", "limit=201", "page_size=5", "include_deleted=maybe",
                  "group_id=1&telegram_chat_id=-1", "admin_telegram_user_id=abc", "page=x"):
        error(api.get(f"{LISTS}?{query}"), 400, "validation_error")
    error(api.get(f"{LISTS}?telegram_chat_id=-100999"), 404, "not_found")


def test_no_body_at_all_is_a_400_not_a_500(api, owner, ban_list):
    for path in (LISTS, f"{LISTS}/{ban_list['id']}/admins", f"{LISTS}/{ban_list['id']}/subscriptions",
                 f"{LISTS}/{ban_list['id']}/follows", f"{LISTS}/{ban_list['id']}/follows/remove"):
        response = api.client.post(path, data="", content_type="application/json")
        assert response.status_code == 400, (path, response.content)
        response = api.client.post(path, data=json.dumps({"a": 1}), content_type="text/plain")
        assert 400 <= response.status_code < 500, (path, response.content)


def test_the_core_clients_ban_list_methods(core_app):
    from apps.coreclient import CoreClient, CoreError
    from tests.conftest import API_KEY

    core = CoreClient("http://testserver", API_KEY, transport=core_app)
    owner, admin = make_user(), make_user()
    group = group_owned_by(owner)
    created = core.ban_list_create(name="Spam watch", actor_telegram_user_id=owner.telegram_user_id)
    list_id = created["id"]
    assert core.ban_list_get(list_id, acting_user_id=str(owner.pk))["name"] == "Spam watch"
    assert core.ban_list_update(list_id, name="Renamed", log_chat_id=None,
                                actor_user_id=str(owner.pk))["name"] == "Renamed"
    assert core.ban_list_admin_add(list_id, telegram_user_id=admin.telegram_user_id,
                                   actor_user_id=str(owner.pk))["created"] is True
    assert [item["role"] for item in core.ban_list_admins(list_id)["admins"]] == ["banlist_owner", "banlist_admin"]
    joined = core.ban_list_subscribe(list_id, telegram_chat_id=group.telegram_chat_id,
                                     actor_telegram_user_id=owner.telegram_user_id)
    assert joined["created"] is True
    assert core.ban_list_subscriptions(list_id, limit=10)["total"] == 1
    mine = core.ban_lists(admin_telegram_user_id=admin.telegram_user_id, page=1, limit=100)
    assert [item["id"] for item in mine["items"]] == [list_id]
    source = core.ban_list_create(name="Source", actor_user_id=str(admin.pk))
    assert core.ban_list_follow(list_id, source_id=source["id"], actor_user_id=str(owner.pk))["created"] is True
    assert core.ban_list_follows(list_id)["follows"] == [{"id": source["id"], "name": "Source"}]
    assert core.ban_list_unfollow(list_id, source_id=source["id"])["removed"] is True
    assert core.ban_list_unsubscribe(list_id, telegram_chat_id=group.telegram_chat_id)["removed"] is True
    assert core.ban_list_admin_remove(list_id, user_id=str(admin.pk))["removed"] is True
    with pytest.raises(CoreError) as refused:
        core.ban_list_delete(list_id, actor_user_id=str(admin.pk))
    assert refused.value.code == "permission_denied"
    assert core.ban_list_delete(list_id, actor_user_id=str(owner.pk))["is_active"] is False
    with pytest.raises(CoreError) as gone:
        core.ban_list_get(list_id)
    assert gone.value.code == "not_found"
