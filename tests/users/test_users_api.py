import pytest

from apps.audit.models import AuditEvent
from apps.users.models import User
from tests.common.assertions import assert_error, nothing_written, query
from tests.factories import grant, make_group, make_member, make_user

USERS = "/api/users"
INT64_MAX = 2**63 - 1
INT64_MIN = -(2**63)


def create(api, **body):
    response = api.post(USERS, body)
    assert response.status_code == 201, response.content
    return response.json()["data"]


def test_create_returns_201_with_a_string_id_and_the_fields(api):
    data = create(api, username="alice", telegram_user_id=123456789, telegram_username="@Alice_Bot",
                  display_name="Alice", password="correct-Horse-battery-9")
    assert isinstance(data["id"], str)
    assert data["username"] == "alice"
    assert data["telegram_user_id"] == 123456789
    assert data["telegram_username"] == "Alice_Bot"  # the "@" is not part of the name
    assert data["display_name"] == "Alice"
    assert data["is_active"] is True
    user = User.objects.get(pk=data["id"])
    assert user.check_password("correct-Horse-battery-9")


def test_create_minimal_user_has_no_usable_password(api):
    data = create(api, username="bob")
    assert data["telegram_user_id"] is None
    assert User.objects.get(pk=data["id"]).has_usable_password() is False


def test_create_inactive_user(api):
    assert create(api, username="ghost", is_active=False)["is_active"] is False


@pytest.mark.parametrize("telegram_user_id", [INT64_MAX, INT64_MIN, 7_000_000_000_123])
def test_telegram_user_id_round_trips_exactly_at_64_bits(api, telegram_user_id):
    data = create(api, username="big", telegram_user_id=telegram_user_id)
    assert data["telegram_user_id"] == telegram_user_id
    fetched = api.get(f"{USERS}/{data['id']}").json()["data"]
    assert fetched["telegram_user_id"] == telegram_user_id
    listed = api.get(query(USERS, telegram_user_id=telegram_user_id)).json()["data"]
    assert [item["id"] for item in listed["items"]] == [data["id"]]


@pytest.mark.parametrize("telegram_user_id", [INT64_MAX + 1, INT64_MIN - 1, 2**100])
def test_telegram_user_id_outside_int64_is_400(api, telegram_user_id):
    with nothing_written():
        body = assert_error(api.post(USERS, {"username": "big", "telegram_user_id": telegram_user_id}),
                            400, "validation_error", "telegram_user_id")
    assert "telegram_user_id" in body["details"]


def test_duplicate_username_is_409_and_writes_nothing(api):
    create(api, username="carol")
    with nothing_written():
        assert_error(api.post(USERS, {"username": "carol"}), 409, "conflict", "carol")


def test_duplicate_telegram_user_id_is_409_and_writes_nothing(api):
    create(api, username="dave", telegram_user_id=42)
    with nothing_written():
        assert_error(api.post(USERS, {"username": "dave2", "telegram_user_id": 42}), 409, "conflict", "42")


@pytest.mark.parametrize("password", ["short", "password123", "12345678901", "erin-the-user"])
def test_weak_password_is_400_and_writes_nothing(api, password):
    with nothing_written():
        body = assert_error(api.post(USERS, {"username": "erin-the-user", "password": password}),
                            400, "validation_error")
    assert body["details"]["password"]


def test_telegram_username_longer_than_telegram_allows_is_400(api):
    with nothing_written():
        assert_error(api.post(USERS, {"username": "long", "telegram_username": "x" * 33}),
                     400, "validation_error", "telegram_username")
    # 32 characters plus the optional "@" is a valid Telegram username.
    assert create(api, username="long", telegram_username="@" + "x" * 32)["telegram_username"] == "x" * 32


def test_invalid_username_characters_are_400(api):
    with nothing_written():
        assert_error(api.post(USERS, {"username": "has space"}), 400, "validation_error", "username")


def test_get_user_by_id(api):
    user = make_user("frank")
    data = api.get(f"{USERS}/{user.pk}").json()["data"]
    assert data["id"] == str(user.pk)
    assert data["username"] == "frank"


@pytest.mark.parametrize("user_id", ["999999", "abc", "99999999999999999999999", "-1"])
def test_unknown_user_is_404(api, user_id):
    assert_error(api.get(f"{USERS}/{user_id}"), 404, "not_found", user_id)


class TestList:
    @pytest.fixture
    def people(self, db):
        return [
            make_user("anna", telegram_user_id=1001, telegram_username="anna_tg", display_name="Anna Karenina"),
            make_user("boris", telegram_user_id=1002, telegram_username="boris_tg", display_name="Boris"),
            make_user("vera", telegram_user_id=1003, telegram_username="VeraTG", display_name="Vera Annenkova"),
        ]

    def list(self, api, **params):
        response = api.get(query(USERS, **params))
        assert response.status_code == 200, response.content
        return response.json()["data"]

    def names(self, data):
        return [item["username"] for item in data["items"]]

    def test_unfiltered_page_has_items_total_page_limit(self, api, people):
        data = self.list(api)
        assert self.names(data) == ["anna", "boris", "vera"]
        assert (data["total"], data["page"], data["limit"]) == (3, 1, 20)

    def test_filter_by_username(self, api, people):
        assert self.names(self.list(api, username="boris")) == ["boris"]
        assert self.list(api, username="nobody") == {"items": [], "total": 0, "page": 1, "limit": 20}

    def test_filter_by_telegram_user_id(self, api, people):
        assert self.names(self.list(api, telegram_user_id="1003")) == ["vera"]

    def test_filter_by_telegram_username_ignores_case_and_at_sign(self, api, people):
        assert self.names(self.list(api, telegram_username="@veratg")) == ["vera"]

    def test_q_searches_username_display_name_and_telegram_username(self, api, people):
        assert self.names(self.list(api, q="ann")) == ["anna", "vera"]
        assert self.names(self.list(api, q="BORIS_T")) == ["boris"]

    def test_pages_cover_every_user_once(self, api, people):
        first, second = self.list(api, limit="2", page="1"), self.list(api, limit="2", page="2")
        assert self.names(first) + self.names(second) == ["anna", "boris", "vera"]
        assert first["total"] == second["total"] == 3
        assert self.list(api, limit="2", page="3")["items"] == []

    @pytest.mark.parametrize(
        ("params", "field"),
        [
            ({"page": "0"}, "page"),
            ({"page": "-1"}, "page"),
            ({"limit": "0"}, "limit"),
            ({"limit": "201"}, "limit"),
            ({"limit": "abc"}, "limit"),
            ({"page": "1.5"}, "page"),
            ({"telegram_user_id": "abc"}, "telegram_user_id"),
            ({"telegram_user_id": str(INT64_MAX + 1)}, "telegram_user_id"),
            ({"is_active": "maybe"}, "is_active"),
            ({"is_active": ""}, "is_active"),
            ({"sort": "username"}, "sort"),
        ],
    )
    def test_bad_query_is_400_naming_the_parameter(self, api, people, params, field):
        body = assert_error(api.get(query(USERS, **params)), 400, "validation_error", field)
        assert field in body["details"]

    def test_huge_page_number_is_a_400_not_a_500(self, api, people):
        assert_error(api.get(query(USERS, page="99999999999999999999")), 400, "validation_error", "page")


class TestUpdate:
    def test_patch_changes_fields_and_returns_the_user(self, api):
        user = make_user("gina", telegram_user_id=77)
        response = api.patch(f"{USERS}/{user.pk}", {"display_name": "Gina G", "telegram_username": "@gina",
                                                    "telegram_user_id": -5})
        assert response.status_code == 200, response.content
        data = response.json()["data"]
        assert (data["display_name"], data["telegram_username"], data["telegram_user_id"]) == ("Gina G", "gina", -5)
        user.refresh_from_db()
        assert (user.display_name, user.telegram_username, user.telegram_user_id) == ("Gina G", "gina", -5)

    def test_patch_password(self, api):
        user = make_user("hank")
        assert api.patch(f"{USERS}/{user.pk}", {"password": "n3w-Secret-phrase"}).status_code == 200
        user.refresh_from_db()
        assert user.check_password("n3w-Secret-phrase")

    def test_patch_weak_password_is_400_and_writes_nothing(self, api):
        user = make_user("ivan")
        old_hash = user.password
        with nothing_written():
            assert_error(api.patch(f"{USERS}/{user.pk}", {"password": "123", "display_name": "x"}),
                         400, "validation_error")
        user.refresh_from_db()
        assert (user.password, user.display_name) == (old_hash, "")

    def test_patch_telegram_id_of_another_user_is_409(self, api):
        make_user("jane", telegram_user_id=500)
        user = make_user("kurt", telegram_user_id=501)
        with nothing_written():
            assert_error(api.patch(f"{USERS}/{user.pk}", {"telegram_user_id": 500}), 409, "conflict", "500")
        user.refresh_from_db()
        assert user.telegram_user_id == 501

    def test_patch_unknown_user_is_404(self, api):
        with nothing_written():
            assert_error(api.patch(f"{USERS}/424242", {"display_name": "x"}), 404, "not_found")

    def test_patch_with_unknown_actor_is_404_and_writes_nothing(self, api):
        user = make_user("lena")
        with nothing_written():
            assert_error(api.patch(f"{USERS}/{user.pk}", {"display_name": "x", "actor_user_id": "424242"}),
                         404, "not_found", "actor")
        user.refresh_from_db()
        assert user.display_name == ""

    def test_deactivation_denies_the_very_next_permission_check(self, api):
        user, group = make_user("mike"), make_group()
        make_member(user, group)
        grant(user, "moderator", group)
        check = {"user_id": str(user.pk), "permission": "BAN_USERS", "group_id": str(group.pk)}
        # The first decision is cached; the deactivation must not be hidden by it.
        assert api.post("/api/rbac/check-permission", check).json()["data"]["allowed"] is True
        response = api.patch(f"{USERS}/{user.pk}", {"is_active": False})
        assert response.json()["data"]["is_active"] is False
        assert api.post("/api/rbac/check-permission", check).json()["data"] == {
            "allowed": False,
            "reason": "user_inactive",
        }
        api.patch(f"{USERS}/{user.pk}", {"is_active": True})
        assert api.post("/api/rbac/check-permission", check).json()["data"]["allowed"] is True

    @pytest.mark.redis
    def test_deactivation_is_seen_at_once_with_the_redis_cache(self, api, redis_cache):
        user = make_user("nina")
        grant(user, "admin")
        check = {"user_id": str(user.pk), "permission": "MANAGE_ROLES"}
        assert api.post("/api/rbac/check-permission", check).json()["data"]["allowed"] is True
        api.patch(f"{USERS}/{user.pk}", {"is_active": False})
        assert api.post("/api/rbac/check-permission", check).json()["data"]["reason"] == "user_inactive"

    def test_user_filter_is_active(self, api):
        make_user("olga")
        api.patch(f"{USERS}/{make_user('pavel').pk}", {"is_active": False})
        active = api.get(query(USERS, is_active="false")).json()["data"]
        assert [item["username"] for item in active["items"]] == ["pavel"]


class TestAudit:
    def test_create_writes_one_audit_event(self, api):
        before = AuditEvent.objects.count()
        data = create(api, username="quinn", telegram_user_id=9, password="Quite-str0ng-pass")
        event = AuditEvent.objects.get()
        assert AuditEvent.objects.count() == before + 1
        assert (event.action, event.result, event.target_type, event.target_id) == (
            "user.create", "success", "user", data["id"])
        assert event.details == {"username": "quinn", "telegram_user_id": 9}
        assert "Quite" not in str(event.details)  # never the password

    def test_update_writes_one_event_naming_the_changed_fields_and_actor(self, api):
        actor, user = make_user("admin1"), make_user("rita")
        before = AuditEvent.objects.count()
        api.patch(f"{USERS}/{user.pk}", {"display_name": "R", "password": "An0ther-good-one",
                                         "actor_user_id": str(actor.pk)})
        assert AuditEvent.objects.count() == before + 1
        event = AuditEvent.objects.first()
        assert (event.action, event.actor_user_id, event.target_id) == ("user.update", str(actor.pk), str(user.pk))
        assert event.details == {"changed": ["display_name", "password"]}

    def test_patch_that_changes_nothing_writes_nothing(self, api):
        user = make_user("sam", display_name="Sam")
        with nothing_written():
            response = api.patch(f"{USERS}/{user.pk}", {"display_name": "Sam"})
        assert response.status_code == 200
