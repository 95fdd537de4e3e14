"""The input rules core's schema states (apps/common/schema.py), each checked against what the server does with
the same input: the fast half of the fuzzing in test_openapi_fuzz.py."""

import json
import random
import re

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from apps.common.schema import INT64_MAX, STORE_ID_PATTERN, decimal_at_most
from apps.coreclient.ids import InvalidId, store_id
from tests.openapi import _rewrite_refs, _schema, _to_json_schema


class Bodies:
    """Request bodies judged by core's own schema, as the fuzzer judges them."""

    def __init__(self, document: dict):
        self.document = document
        components = _to_json_schema(document["components"])
        self.registry = Registry().with_resource(
            "urn:components", Resource.from_contents({"components": components}, DRAFT202012))

    def request_schema(self, method: str, path: str) -> dict:
        body = self.document["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]
        return _rewrite_refs(_to_json_schema(body))

    def valid(self, method: str, path: str, body) -> bool:
        return Draft202012Validator(self.request_schema(method, path), registry=self.registry).is_valid(body)


@pytest.fixture(scope="module")
def bodies():
    return Bodies(_schema())


@pytest.mark.parametrize("limit", [1, 9, 10, 99, 100, 205, 1000, 90210, INT64_MAX])
def test_decimal_at_most_matches_exactly_one_to_the_limit(limit):
    pattern = re.compile(f"(?:{decimal_at_most(limit)})")
    rng = random.Random(limit)
    numbers = [*range(0, 1200), limit - 1, limit, limit + 1, 10 * limit,
               *(rng.randrange(1, 3 * limit) for _ in range(3000))]
    for number in numbers:
        assert bool(pattern.fullmatch(str(number))) == (1 <= number <= limit), number
    assert not pattern.fullmatch(f"0{min(limit, 5)}") and not pattern.fullmatch(f"+{limit}")


def test_the_store_id_pattern_is_what_web_lets_through_to_core():
    rng = random.Random(7)
    samples = ["1", "0", "-1", "01", " 1", "1\n", "abc", "", "9" * 19, str(INT64_MAX), str(INT64_MAX + 1),
               "a" * 24, "A" * 24, "g" * 24, "0" * 24, "1" * 25, "../users/1", "1/2", "١٢"]
    samples += [str(rng.randrange(1, 2**64)) for _ in range(500)]
    samples += ["".join(rng.choice("0123456789abcdefABCDEFgx -") for _ in range(rng.randrange(1, 30)))
                for _ in range(1500)]
    pattern = re.compile(STORE_ID_PATTERN.removeprefix("^").removesuffix("$"))  # ECMA's $: the end, no newline
    for sample in samples:
        try:
            store_id(sample)
            accepted = True
        except InvalidId:
            accepted = False
        assert bool(pattern.fullmatch(sample)) == accepted, repr(sample)


def test_every_body_refuses_unknown_fields_in_the_schema_as_on_the_wire(api, bodies):
    for path, item in bodies.document["paths"].items():
        for method, operation in item.items():
            if "requestBody" in operation:
                target = bodies.document["components"]["schemas"][
                    operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]]
                assert target["additionalProperties"] is False, f"{method.upper()} {path}"
    assert not bodies.valid("post", "/api/groups", {"telegram_chat_id": -100, "title": "t", "colour": "red"})
    response = api.post("/api/groups", {"telegram_chat_id": -100, "title": "t", "colour": "red"})
    assert response.status_code == 400 and response.json()["details"] == {"colour": ["Unknown field."]}


@pytest.mark.parametrize(("body", "accepted"), [
    ({"permission": "BAN_USERS", "user_id": "1"}, True),
    ({"permission": "BAN_USERS", "telegram_user_id": 5}, True),
    ({"permission": "BAN_USERS"}, False),  # exactly one of user_id, telegram_user_id
    ({"permission": "BAN_USERS", "user_id": "1", "telegram_user_id": 5}, False),
    ({"permission": "BAN_USERS", "user_id": "1", "group_id": "1", "telegram_chat_id": -5}, False),  # not both
    ({"permission": "NO_SUCH_PERMISSION", "user_id": "1"}, False),  # the catalogue
    ({"permission": "BAN_USERS", "user_id": 1}, True),  # an id may be a JSON integer
    ({"permission": "BAN_USERS", "user_id": "1\x00"}, False),  # NUL
    ({"permission": "BAN_USERS", "user_id": "   "}, False),  # blank once trimmed
])
def test_a_permission_check_is_refused_by_the_server_exactly_when_its_schema_refuses_it(api, bodies, body, accepted):
    assert bodies.valid("post", "/api/rbac/check-permission", body) == accepted
    status = api.post("/api/rbac/check-permission", body).status_code
    assert (status == 200) == accepted, status


@pytest.mark.parametrize(("body", "valid"), [
    ({"type": "pin", "group_id": "1"}, True),
    ({"type": "ban", "group_id": "1"}, False),  # a ban needs a target
    ({"type": "ban", "group_id": "1", "target_telegram_username": "@someone"}, True),
    ({"type": "ban", "telegram_chat_id": -5, "target_user_id": "2", "target_telegram_user_id": 3}, False),
    ({"type": "kick", "group_id": "1", "target_user_id": "2", "until": "2030-01-01T00:00:00Z"}, False),  # temporary
    ({"type": "kick", "group_id": "1", "target_user_id": "2", "until": None}, True),
    ({"type": "mute", "group_id": "1", "target_user_id": "2", "permission": "MUTE_USERS"}, False),  # no actor
    ({"type": "mute", "group_id": "1", "target_user_id": "2", "permission": "MUTE_USERS", "actor_user_id": "1"},
     True),
    ({"type": "warn", "target_user_id": "2"}, False),  # no group
])
def test_a_moderation_request_states_its_rules(bodies, body, valid):
    assert bodies.valid("post", "/api/moderation/actions", body) == valid


@pytest.mark.parametrize(("username", "valid"), [
    ("", True), ("a" * 32, True), ("@" + "a" * 32, True), ("a" * 33, False), ("@" + "a" * 33, False),
])
def test_a_telegram_username_is_32_characters_besides_the_at_sign(api, bodies, username, valid):
    body = {"username": f"u{len(username)}{'at' if username.startswith('@') else ''}", "telegram_username": username}
    assert bodies.valid("post", "/api/users", body) == valid
    assert (api.post("/api/users", body).status_code == 201) == valid


def test_path_ids_have_their_formats(bodies):
    parameters = {parameter["name"]: parameter["schema"] for item in bodies.document["paths"].values()
                  for operation in item.values() for parameter in operation.get("parameters", [])
                  if parameter["in"] == "path"}
    assert parameters["group_id"] == parameters["user_id"] == {"type": "string", "pattern": STORE_ID_PATTERN}
    assert parameters["telegram_chat_id"] == {"type": "integer", "format": "int64", "minimum": -(2**63),
                                              "maximum": INT64_MAX}
    assert json.dumps(parameters["jti"]) == json.dumps({"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"})


def test_an_events_batch_states_its_size_and_one_group_per_event(bodies):
    event = {"event_id": "e1", "type": "message", "occurred_at": "2026-01-01T00:00:00Z"}
    assert not bodies.valid("post", "/api/events/batch", {"events": []})
    assert bodies.valid("post", "/api/events/batch", {"events": [{**event, "telegram_chat_id": -5}]})
    assert not bodies.valid("post", "/api/events/batch", {"events": [event]})
    both = {**event, "group_id": "1", "telegram_chat_id": -5}
    assert not bodies.valid("post", "/api/events/batch", {"events": [both]})


def test_a_query_parameter_given_twice_is_refused(api):
    assert api.get("/api/users?is_active=true").status_code == 200
    response = api.get("/api/users?is_active=garbage&is_active=")
    assert response.status_code == 400 and response.json()["details"] == {"is_active": ["Given more than once."]}
