import json

import pytest

from apps.audit.models import AuditEvent
from apps.groups.models import Group, Membership
from tests.common.assertions import assert_error, nothing_written
from tests.factories import grant, make_group, make_user

GROUPS = "/api/groups"
CHAT_ID = -1001234567890
INT64_MAX = 2**63 - 1
INT64_MIN = -(2**63)


def register(api, **overrides):
    body = {"telegram_chat_id": CHAT_ID, "title": "Moderators' club", "type": "supergroup", **overrides}
    return api.post(GROUPS, body)


def members(group) -> str:
    return f"{GROUPS}/{group.pk}/members"


class TestRegister:
    def test_first_registration_is_201_and_the_chat_id_round_trips_exactly(self, api):
        response = register(api)
        assert response.status_code == 201, response.content
        data = response.json()["data"]
        assert isinstance(data["id"], str)
        assert data["telegram_chat_id"] == CHAT_ID
        # Exact in the raw JSON text too, not just after a float-tolerant parse.
        assert f'"telegram_chat_id":{CHAT_ID}' in response.content.decode()
        assert (data["title"], data["type"], data["is_active"]) == ("Moderators' club", "supergroup", True)
        assert Group.objects.get(pk=data["id"]).telegram_chat_id == CHAT_ID

    def test_registering_the_same_chat_again_is_200_with_the_same_group_and_no_new_event(self, api):
        first = register(api).json()["data"]
        with nothing_written():
            response = register(api, title="Renamed meanwhile", type="group")
        assert response.status_code == 200, response.content
        again = response.json()["data"]
        assert again["id"] == first["id"]
        assert again["title"] == "Moderators' club"  # registration never edits an existing group

    def test_registration_writes_one_audit_event(self, api):
        actor = make_user()
        before = AuditEvent.objects.count()
        data = register(api, actor_user_id=str(actor.pk)).json()["data"]
        assert AuditEvent.objects.count() == before + 1
        event = AuditEvent.objects.first()
        assert (event.action, event.result, event.target_type, event.target_id, event.group_id, event.actor_user_id) \
            == ("group.create", "success", "group", data["id"], data["id"], str(actor.pk))
        assert event.details["telegram_chat_id"] == CHAT_ID

    @pytest.mark.parametrize("chat_id", [INT64_MIN, INT64_MAX, 0])
    def test_int64_bounds_are_accepted(self, api, chat_id):
        response = register(api, telegram_chat_id=chat_id)
        assert response.status_code == 201, response.content
        assert response.json()["data"]["telegram_chat_id"] == chat_id

    @pytest.mark.parametrize("chat_id", [INT64_MAX + 1, INT64_MIN - 1, -(10**30)])
    def test_chat_id_outside_int64_is_400(self, api, chat_id):
        with nothing_written():
            body = assert_error(register(api, telegram_chat_id=chat_id), 400, "validation_error", "telegram_chat_id")
        assert "telegram_chat_id" in body["details"]

    @pytest.mark.parametrize(
        ("overrides", "field"),
        [
            ({"telegram_chat_id": str(CHAT_ID)}, "telegram_chat_id"),  # a string that looks like a number
            ({"telegram_chat_id": -1001234567890.0}, "telegram_chat_id"),  # a float, even a whole one
            ({"telegram_chat_id": True}, "telegram_chat_id"),
            ({"telegram_chat_id": None}, "telegram_chat_id"),
            ({"title": 5}, "title"),
            ({"title": ""}, "title"),
            ({"title": "   "}, "title"),
            ({"title": "x" * 256}, "title"),
            ({"type": "channel"}, "type"),
            ({"type": 1}, "type"),
        ],
    )
    def test_wrong_values_are_400_naming_the_field(self, api, overrides, field):
        with nothing_written():
            body = assert_error(register(api, **overrides), 400, "validation_error", field)
        assert field in body["details"]

    @pytest.mark.parametrize("missing", ["telegram_chat_id", "title", "type"])
    def test_missing_required_field_is_400(self, api, missing):
        body = {"telegram_chat_id": CHAT_ID, "title": "t", "type": "group"}
        del body[missing]
        with nothing_written():
            assert_error(api.post(GROUPS, body), 400, "validation_error", f"{missing}: This field is required")

    def test_unknown_actor_is_404_and_registers_nothing(self, api):
        with nothing_written():
            assert_error(register(api, actor_user_id="424242"), 404, "not_found", "actor")


class TestRetrieve:
    def test_get_by_id(self, api):
        group = make_group(telegram_chat_id=CHAT_ID, title="Chat")
        response = api.get(f"{GROUPS}/{group.pk}")
        assert response.status_code == 200
        data = response.json()["data"]
        assert (data["id"], data["telegram_chat_id"], data["title"]) == (str(group.pk), CHAT_ID, "Chat")

    @pytest.mark.parametrize("group_id", ["999999", "nope", "99999999999999999999999"])
    def test_unknown_group_is_404(self, api, group_id):
        assert_error(api.get(f"{GROUPS}/{group_id}"), 404, "not_found", group_id)


class TestMembers:
    @pytest.fixture
    def group(self, db):
        return make_group()

    def test_add_member_defaults_to_member_status(self, api, group):
        user = make_user()
        response = api.post(members(group), {"user_id": str(user.pk)})
        assert response.status_code == 200, response.content
        data = response.json()["data"]
        assert (data["group_id"], data["user_id"], data["status"]) == (str(group.pk), str(user.pk), "member")
        assert Membership.objects.get(group=group, user=user).status == "member"

    def test_status_change_updates_the_one_membership_and_audits_each_change(self, api, group):
        user = make_user()
        before = AuditEvent.objects.count()
        api.post(members(group), {"user_id": str(user.pk), "status": "member"})
        response = api.post(members(group), {"user_id": str(user.pk), "status": "banned"})
        assert response.json()["data"]["status"] == "banned"
        assert Membership.objects.filter(group=group, user=user).count() == 1
        assert AuditEvent.objects.count() == before + 2
        event = AuditEvent.objects.first()
        assert (event.action, event.target_id, event.group_id) == ("membership.upsert", str(user.pk), str(group.pk))
        assert event.details == {"status": "banned", "previous_status": "member"}

    def test_repeating_the_same_status_writes_nothing(self, api, group):
        user = make_user()
        api.post(members(group), {"user_id": str(user.pk), "status": "restricted"})
        with nothing_written():
            response = api.post(members(group), {"user_id": str(user.pk), "status": "restricted"})
        assert response.status_code == 200

    def test_ban_takes_effect_on_the_next_permission_check(self, api, group):
        user = make_user()
        api.post(members(group), {"user_id": str(user.pk)})
        grant(user, "moderator", group)
        check = {"user_id": str(user.pk), "permission": "BAN_USERS", "group_id": str(group.pk)}
        assert api.post("/api/rbac/check-permission", check).json()["data"]["allowed"] is True
        api.post(members(group), {"user_id": str(user.pk), "status": "banned"})
        assert api.post("/api/rbac/check-permission", check).json()["data"] == {
            "allowed": False,
            "reason": "banned_in_group",
        }

    def test_unknown_group_is_404(self, api):
        user = make_user()
        with nothing_written():
            assert_error(api.post(f"{GROUPS}/999999/members", {"user_id": str(user.pk)}), 404, "not_found", "group")

    def test_unknown_user_is_404(self, api, group):
        with nothing_written():
            assert_error(api.post(members(group), {"user_id": "999999"}), 404, "not_found", "user")

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({}, "user_id"),
            ({"user_id": None}, "user_id"),
            ({"user_id": True}, "user_id"),
            ({"user_id": 1.5}, "user_id"),
            ({"user_id": ["1"]}, "user_id"),
            ({"user_id": "1", "status": "owner"}, "status"),
            ({"user_id": "1", "status": None}, "status"),
        ],
    )
    def test_bad_body_is_400(self, api, group, body, field):
        make_user()
        with nothing_written():
            assert_error(api.post(members(group), body), 400, "validation_error", field)

    def test_malformed_json_is_400(self, api, group):
        with nothing_written():
            assert_error(api.post(members(group), raw='{"user_id": '), 400, "malformed_request", "JSON")

    def test_array_body_is_400(self, api, group):
        user = make_user()
        with nothing_written():
            assert_error(api.post(members(group), raw=json.dumps([{"user_id": str(user.pk)}])),
                         400, "validation_error", "JSON object")


def test_the_present_members_are_the_ones_member_count_counts(api, db):
    from tests.factories import make_member

    group = make_group()
    statuses = [Membership.Status.MEMBER, Membership.Status.RESTRICTED, Membership.Status.BANNED,
                Membership.Status.LEFT, Membership.Status.KICKED]
    for status in statuses:
        make_member(make_user(), group, status)
    response = api.get(f"/api/groups/{group.pk}/members?status=present")
    assert response.status_code == 200, response.content
    data = response.json()["data"]
    group.refresh_from_db()
    assert data["total"] == group.member_count == 2
    assert {item["status"] for item in data["items"]} == {"member", "restricted"}
    assert api.get(f"/api/groups/{group.pk}/members").json()["data"]["total"] == 5
