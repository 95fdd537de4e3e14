"""Bad input of every kind: a 4xx envelope with a message worth reading, nothing written, never a 500."""

import json

import pytest

from tests.common.assertions import assert_error, nothing_written, query
from tests.conftest import ApiClient
from tests.factories import make_group, make_user

ONE_MIB = 1024 * 1024


@pytest.fixture
def unchecked(db):
    """For answers the schema cannot describe (unknown paths and methods, unsupported media types)."""
    return ApiClient(validate=False)


@pytest.fixture
def user(db):
    return make_user("existing")


@pytest.fixture
def group(db):
    return make_group()


def body_endpoints(user, group):
    return [
        ("post", "/api/users"),
        ("patch", f"/api/users/{user.pk}"),
        ("post", "/api/groups"),
        ("post", f"/api/groups/{group.pk}/members"),
        ("post", "/api/rbac/check-permission"),
        ("post", "/api/rbac/assignments"),
    ]


def send_raw(client: ApiClient, method: str, path: str, raw, content_type="application/json"):
    response = getattr(client.client, method)(path, data=raw, content_type=content_type)
    return client._check(method, path, response)


class TestBodyShape:
    @pytest.mark.parametrize("raw", ['{"username": ', "{username: 'x'}", '{"a": 1,}', "", "\x00", "tru",
                                     '{"username": "x"} trailing', '{"n": NaN}', '{"n": Infinity}'])
    def test_malformed_json_is_400_everywhere(self, api, user, group, raw):
        for method, path in body_endpoints(user, group):
            if raw == "":
                continue  # an empty body is an empty object: covered by the missing-field tests
            with nothing_written():
                response = send_raw(api, method, path, raw)
            assert_error(response, 400, "malformed_request", "JSON")

    def test_invalid_utf8_is_400(self, api):
        with nothing_written():
            assert_error(send_raw(api, "post", "/api/users", b'{"username": "\xff\xfe"}'),
                         400, "malformed_request")

    @pytest.mark.parametrize("raw", ["[]", '[{"username": "x"}]', '"username"', "42", "null", "true"])
    def test_json_that_is_not_an_object_is_400_everywhere(self, api, user, group, raw):
        for method, path in body_endpoints(user, group):
            with nothing_written():
                response = send_raw(api, method, path, raw)
            assert_error(response, 400, "validation_error", "JSON object")

    @pytest.mark.parametrize("depth", [50, 5_000, 100_000])
    def test_deeply_nested_json_is_a_400_not_a_500(self, api, depth):
        raw = '{"username": "deep", "display_name": ' + "[" * depth + "]" * depth + "}"
        with nothing_written():
            response = send_raw(api, "post", "/api/users", raw)
        assert response.status_code == 400, response.content
        assert response.json()["error"] in {"malformed_request", "validation_error"}

    @pytest.mark.parametrize(
        ("content_type", "raw"),
        [
            ("application/x-www-form-urlencoded", "username=formy"),
            ("multipart/form-data; boundary=xyz", '--xyz\r\nContent-Disposition: form-data; name="username"\r\n\r\n'
                                                  'formy\r\n--xyz--\r\n'),
            ("text/plain", '{"username": "formy"}'),
            ("application/xml", "<user><username>formy</username></user>"),
        ],
    )
    def test_non_json_media_types_are_415(self, unchecked, content_type, raw):
        with nothing_written():
            response = send_raw(unchecked, "post", "/api/users", raw, content_type=content_type)
        assert_error(response, 415, "unsupported_media_type", content_type.split(";")[0])

    def test_body_over_one_mebibyte_is_413(self, api):
        raw = json.dumps({"username": "huge", "display_name": "x" * ONE_MIB})
        with nothing_written():
            body = assert_error(send_raw(api, "post", "/api/users", raw), 413, "payload_too_large")
        assert str(ONE_MIB) in body["message"]

    def test_body_of_exactly_one_mebibyte_is_accepted(self, api):
        raw = json.dumps({"username": "just-fits"})
        raw += " " * (ONE_MIB - len(raw))
        assert len(raw.encode()) == ONE_MIB
        assert send_raw(api, "post", "/api/users", raw).status_code == 201

    @pytest.mark.parametrize(("length", "status", "code"), [("abc", 400, "bad_request"),
                                                          (str(10**30), 413, "payload_too_large")])
    def test_lying_content_length_is_refused(self, unchecked, length, status, code):
        with nothing_written():
            response = unchecked.client.post("/api/users", data=json.dumps({"username": "liar"}),
                                             content_type="application/json", CONTENT_LENGTH=length)
        assert_error(response, status, code)

    def test_oversized_patch_is_413_and_changes_nothing(self, api, user):
        raw = json.dumps({"display_name": "y" * (ONE_MIB + 10)})
        with nothing_written():
            assert_error(send_raw(api, "patch", f"/api/users/{user.pk}", raw), 413, "payload_too_large")
        user.refresh_from_db()
        assert user.display_name == ""


class TestWrongTypes:
    @pytest.mark.parametrize(
        ("body", "field", "message"),
        [
            ({"username": "t", "telegram_user_id": "123"}, "telegram_user_id", "JSON integer"),
            ({"username": "t", "telegram_user_id": 12.0}, "telegram_user_id", "JSON integer"),
            ({"username": "t", "telegram_user_id": True}, "telegram_user_id", "JSON integer"),
            ({"username": "t", "telegram_user_id": [1]}, "telegram_user_id", "JSON integer"),
            ({"username": "t", "is_active": "true"}, "is_active", "JSON boolean"),
            ({"username": "t", "is_active": 1}, "is_active", "JSON boolean"),
            ({"username": "t", "is_active": None}, "is_active", "null"),
            ({"username": 123}, "username", "JSON string"),
            ({"username": ["t"]}, "username", "JSON string"),
            ({"username": {"name": "t"}}, "username", "JSON string"),
            ({"username": None}, "username", "null"),
            ({"username": ""}, "username", "blank"),
            ({"username": "t", "display_name": 5}, "display_name", "JSON string"),
            ({"username": "t", "display_name": "x" * 256}, "display_name", "255"),
            ({"username": "t", "display_name": "nul\u0000char"}, "display_name", "null"),
            ({"username": "t", "telegram_username": False}, "telegram_username", "JSON string"),
            ({"username": "t", "password": 12345678}, "password", "JSON string"),
            ({"username": "t", "actor_user_id": True}, "actor_user_id", ""),
        ],
    )
    def test_user_create(self, api, body, field, message):
        with nothing_written():
            response = api.post("/api/users", body)
        error = assert_error(response, 400, "validation_error", message)
        assert error["message"].startswith(f"{field}: ")
        assert field in error["details"]

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"is_active": "false"}, "is_active"),
            ({"is_active": 0}, "is_active"),
            ({"telegram_user_id": "42"}, "telegram_user_id"),
            ({"display_name": 1}, "display_name"),
            ({"display_name": None}, "display_name"),
        ],
    )
    def test_user_patch(self, api, user, body, field):
        with nothing_written():
            response = api.patch(f"/api/users/{user.pk}", body)
        assert_error(response, 400, "validation_error", field)
        user.refresh_from_db()
        assert (user.is_active, user.display_name) == (True, "")

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"permission": "BAN_USERS", "user_id": "1", "telegram_chat_id": "-100"}, "telegram_chat_id"),
            ({"permission": 7, "user_id": "1"}, "permission"),
            ({"permission": "BAN_USERS", "telegram_user_id": "5"}, "telegram_user_id"),
        ],
    )
    def test_permission_check(self, api, body, field):
        with nothing_written():
            assert_error(api.post("/api/rbac/check-permission", body), 400, "validation_error", field)


class TestMissingFields:
    @pytest.mark.parametrize(
        ("path", "body", "field"),
        [
            ("/api/users", {}, "username"),
            ("/api/users", {"display_name": "no name"}, "username"),
            ("/api/groups", {"title": "t", "type": "group"}, "telegram_chat_id"),
            ("/api/rbac/check-permission", {"user_id": "1"}, "permission"),
            ("/api/rbac/assignments", {"role": "moderator"}, "user_id"),
        ],
    )
    def test_missing_required_field_is_400_naming_it(self, api, path, body, field):
        with nothing_written():
            error = assert_error(api.post(path, body), 400, "validation_error", f"{field}: This field is required")
        assert error["details"][field]

    def test_empty_body_is_an_empty_object(self, api):
        with nothing_written():
            response = send_raw(api, "post", "/api/users", "")
        assert_error(response, 400, "validation_error", "username")


class TestUnknownIds:
    @pytest.mark.parametrize(
        ("method", "path", "body"),
        [
            ("get", "/api/users/424242", None),
            ("get", "/api/users/not-an-id", None),
            ("get", "/api/users/1e3", None),
            ("patch", "/api/users/424242", {"display_name": "x"}),
            ("get", "/api/groups/424242", None),
            ("post", "/api/groups/424242/members", {"user_id": "1"}),
            ("post", "/api/rbac/assignments/424242/revoke", {}),
            ("get", "/api/rbac/roles/no-such-role", None),
        ],
    )
    def test_unknown_id_is_404(self, api, user, method, path, body):
        with nothing_written():
            response = api.get(path) if method == "get" else getattr(api, method)(path, body)
        assert_error(response, 404, "not_found", "not found")

    @pytest.mark.parametrize("field", ["user_id", "actor_user_id"])
    def test_unknown_id_in_the_body_is_404(self, api, user, group, field):
        body = {"user_id": str(user.pk), field: "424242"}
        with nothing_written():
            assert_error(api.post(f"/api/groups/{group.pk}/members", body), 404, "not_found", "424242")


class TestQueryStrings:
    @pytest.mark.parametrize("path", ["/api/users", "/api/rbac/assignments"])
    @pytest.mark.parametrize(
        ("params", "field"),
        [({"page": "0"}, "page"), ({"limit": "201"}, "limit"), ({"limit": "abc"}, "limit"),
         ({"limit": ""}, "limit"), ({"page": "99999999999999999999"}, "page")],
    )
    def test_bad_paging_is_400(self, api, path, params, field):
        assert_error(api.get(query(path, **params)), 400, "validation_error", field)

    @pytest.mark.parametrize(
        ("params", "field"),
        [({"limit": "0"}, "limit"), ({"limit": "201"}, "limit"), ({"limit": "abc"}, "limit"),
         ({"cursor": "abc"}, "cursor"), ({"cursor": "0"}, "cursor"), ({"since": "yesterday"}, "since"),
         ({"action": "user.delete"}, "action"), ({"result": "maybe"}, "result")],
    )
    def test_bad_audit_query_is_400(self, api, params, field):
        assert_error(api.get(query("/api/audit/events", **params)), 400, "validation_error", field)

    @pytest.mark.parametrize("path", ["/api/users", "/api/audit/events", "/api/rbac/assignments"])
    def test_unknown_query_parameter_is_400_naming_it(self, api, path):
        error = assert_error(api.get(query(path, colour="blue")), 400, "validation_error", "colour")
        assert error["details"] == {"colour": ["Unknown query parameter."]}

    def test_limit_200_is_the_largest_accepted(self, api):
        assert api.get(query("/api/users", limit="200")).status_code == 200
        assert api.get(query("/api/audit/events", limit="200")).status_code == 200


class TestRouting:
    @pytest.mark.parametrize("path", ["/api/nope", "/api/users/1/extra", "/api/users/", "/api/", "/api/rbac"])
    def test_unknown_url_under_api_is_a_404_envelope(self, unchecked, path):
        body = assert_error(unchecked.get(path), 404, "not_found", path)
        assert body["message"] == f"No endpoint at {path}"

    def test_unknown_url_answers_404_even_without_a_key(self, db):
        assert_error(ApiClient(api_key=None, validate=False).get("/api/nope"), 404, "not_found")

    @pytest.mark.parametrize(
        ("method", "path"),
        [("delete", "/api/users/{user}"), ("put", "/api/users/{user}"), ("delete", "/api/users"),
         ("put", "/api/groups/{group}"), ("get", "/api/rbac/check-permission"), ("post", "/api/audit/events"),
         ("post", "/api/health")],
    )
    def test_wrong_method_is_a_405_envelope(self, unchecked, user, group, method, path):
        path = path.format(user=user.pk, group=group.pk)
        with nothing_written():
            response = getattr(unchecked.client, method)(path, content_type="application/json")
        assert_error(response, 405, "method_not_allowed", method.upper())
