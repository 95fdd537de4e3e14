"""The plain validators of the hot bodies against the serializers they stand in for.

A shape may only ever accept what its serializer accepts, converted to the same values; whatever it is unsure
about goes to the serializer (which words the 400). Checked here on hand-picked edge cases and on thousands of
random combinations of good, odd and bad field values.
"""

import random
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone
from rest_framework import serializers
from rest_framework.fields import empty

from apps.common.derivation import NotDerivable, body_shape
from apps.common.fields import ObjectIdField, StrictCharField
from apps.common.schema import implies
from apps.common.validation import Shape, Unsure
from apps.events.apis import EVENT_SHAPE, EventBatchApi, EventInputSerializer
from apps.moderation.apis import RECORD_SHAPE, ActionListApi
from apps.rbac.apis import CHECK_SHAPE, CheckInputSerializer, PermissionCheckBatchApi
from tests.common.assertions import assert_error, nothing_written


def drf(serializer_class, body):
    serializer = serializer_class(data=body)
    return serializer.validated_data if serializer.is_valid() else None


def shape_says(shape: Shape, body):
    try:
        return shape(body)
    except Unsure:
        return None


def agree(shape, serializer_class, body):
    """The shape accepts only what the serializer accepts, with equal values. Returns the shape's verdict."""
    fast = shape_says(shape, body)
    if fast is not None:
        reference = drf(serializer_class, body)
        assert reference is not None, f"the shape accepted what the serializer refuses: {body!r}"
        assert _plain(fast) == _plain(reference), body
    return fast


def _plain(value):
    if isinstance(value, dict):
        return {key: _plain(each) for key, each in value.items()}
    if isinstance(value, list):
        return [_plain(each) for each in value]
    if isinstance(value, datetime):
        return (value, value.utcoffset())  # same instant and same zone
    return value


@pytest.mark.parametrize(("shape", "serializer_class"), [(CHECK_SHAPE, CheckInputSerializer),
                                                         (EVENT_SHAPE, EventInputSerializer),
                                                         (RECORD_SHAPE, ActionListApi.InputSerializer)])
def test_shapes_declare_the_serializers_fields(shape, serializer_class):
    fields = serializer_class().fields
    assert set(shape.fields) == set(fields)
    # A shape may require a field the serializer fills with a default when absent: such bodies go to it.
    defaulted = {name for name, field in fields.items() if field.default is not empty}
    assert shape.required - defaulted == {name for name, field in fields.items() if field.required}


def test_the_common_bodies_take_the_fast_path():
    assert CHECK_SHAPE({"user_id": "12", "permission": "BAN_USERS", "group_id": "3"}) == {
        "user_id": "12", "permission": "BAN_USERS", "group_id": "3"}
    assert CHECK_SHAPE({"telegram_user_id": 42, "permission": "BAN_USERS", "telegram_chat_id": -1001}) == {
        "telegram_user_id": 42, "permission": "BAN_USERS", "telegram_chat_id": -1001}
    moment = (datetime.now(UTC) - timedelta(minutes=3)).replace(microsecond=0)
    event = EVENT_SHAPE({"event_id": "e-1", "type": "message", "telegram_chat_id": -1001, "telegram_user_id": 9,
                         "occurred_at": moment.isoformat()})
    assert event["occurred_at"] == moment and event["occurred_at"].tzinfo == timezone.get_current_timezone()
    assert EventBatchApi.shape({"events": [{"event_id": "e-1", "type": "join", "group_id": "5",
                                            "occurred_at": "2026-01-01T10:00:00Z"}]})["events"][0]["group_id"] == "5"


@pytest.mark.parametrize(
    "body",
    [
        {"user_id": "1", "permission": " BAN_USERS "},  # trimmed, as DRF trims
        {"user_id": 17, "permission": "BAN_USERS"},  # an id as a JSON integer
        {"user_id": "1", "permission": "   "},
        {"user_id": "1", "permission": ""},
        {"user_id": "1", "permission": "x" * 64},
        {"user_id": "1", "permission": "x" * 65},
        {"user_id": "1", "permission": "BAN\x00"},
        {"user_id": "1", "permission": "BAN\ud800"},
        {"user_id": "1", "permission": "BÄN"},
        {"user_id": "1", "permission": None},
        {"user_id": "1", "permission": 7},
        {"user_id": True, "permission": "BAN_USERS"},
        {"user_id": None, "permission": "BAN_USERS"},
        {"user_id": 1.5, "permission": "BAN_USERS"},
        {"user_id": "", "permission": "BAN_USERS"},
        {"telegram_user_id": 2**63 - 1, "permission": "P"},
        {"telegram_user_id": 2**63, "permission": "P"},
        {"telegram_user_id": -(2**63), "permission": "P"},
        {"telegram_user_id": -(2**63) - 1, "permission": "P"},
        {"telegram_user_id": True, "permission": "P"},
        {"telegram_user_id": "5", "permission": "P"},
        {"telegram_user_id": 5.0, "permission": "P"},
        {"telegram_user_id": None, "permission": "P"},
        {"user_id": "1", "telegram_user_id": 5, "permission": "P"},
        {"permission": "P"},
        {"user_id": "1"},
        {"user_id": "1", "permission": "P", "group_id": "2", "telegram_chat_id": -100},
        {"user_id": "1", "permission": "P", "group_id": None},
        {"user_id": "1", "permission": "P", "telegram_chat_id": None},
        {"user_id": "1", "permission": "P", "colour": "blue"},  # nested serializers ignore unknown keys
        [],
        "body",
        None,
    ],
)
def test_check_edge_cases(body):
    verdict = agree(CHECK_SHAPE, CheckInputSerializer, body)
    if drf(CheckInputSerializer, body) is None:
        assert verdict is None


NOW = datetime.now(UTC)


@pytest.mark.parametrize(
    "occurred_at",
    [
        # Times relative to now are named, so that every process collects the same test ids (xdist).
        pytest.param(NOW.isoformat(), id="now"), pytest.param((NOW - timedelta(days=3)).isoformat(), id="3-days-ago"),
        "2026-01-01T10:00:00Z", "2026-01-01T10:00:00+05:30",
        "2026-01-01T10:00:00", "2026-01-01", "2026-01-01 10:00:00Z", "20260101T100000Z", "2026-02-30T10:00:00Z",
        "2026-01-01T25:00:00Z", "yesterday", "", 1700000000, None,
        pytest.param((NOW + timedelta(minutes=4)).isoformat(), id="in-4-minutes"),
        pytest.param((NOW + timedelta(minutes=6)).isoformat(), id="in-6-minutes"),
        "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00",
        "2026-01-01T10:00:00.123456789Z", "2026-01-01T10:00Z",
    ],
)
def test_event_times(occurred_at):
    body = {"event_id": "e", "type": "message", "telegram_chat_id": -1, "occurred_at": occurred_at}
    verdict = agree(EVENT_SHAPE, EventInputSerializer, body)
    if drf(EventInputSerializer, body) is None:
        assert verdict is None


CHECK_VALUES = {
    "user_id": ["1", "42", 42, " 7 ", "", "  ", True, None, 1.0, [], {}, "x" * 300, "a\x00"],
    "telegram_user_id": [1, -5, 2**63 - 1, 2**63, -(2**63), "1", True, False, None, 1.0, []],
    "group_id": ["3", 3, "", None, False, "g", {}],
    "telegram_chat_id": [-1001, 0, 2**64, "-1001", None, True, -1.0],
    "permission": ["BAN_USERS", " BAN_USERS", "", " ", "x" * 64, "x" * 65, None, 5, ["BAN_USERS"], "É", "\ud83d"],
}

EVENT_VALUES = {
    "event_id": ["e-1", " e-2 ", "", "x" * 64, "x" * 65, 5, None, "\x00"],
    "type": ["message", "join", "leave", "command", "MESSAGE", "dance", "", None, 1],
    "group_id": ["3", 3, "", None, True],
    "telegram_chat_id": [-1001, 2**63, "-1", None, False],
    "telegram_user_id": [9, None, "9", 2**63, True],
    "username": ["alice", "@alice", "", " ", "a" * 33, "a" * 34, None, 3],
    "display_name": ["Alice", "", "x" * 255, "x" * 256, None, 1.5],
    "command": ["ban", "", "x" * 65, None, []],
    "occurred_at": ["2026-01-01T10:00:00Z", "2026-01-01T10:00:00+02:00", "2026-01-01T10:00:00", "nope", None, 5,
                    (NOW + timedelta(hours=1)).isoformat()],
}


def random_bodies(values: dict, count: int, seed: int):
    rng = random.Random(seed)
    for _ in range(count):
        body = {}
        for name, candidates in values.items():
            if rng.random() < 0.75:  # mostly good values (listed first), so that whole bodies pass too
                body[name] = rng.choice(candidates[:2] if rng.random() < 0.7 else candidates)
        yield body


RECORD_VALUES = {
    "type": ["mute", "ban", "warn", "MUTE", "", None],
    "telegram_chat_id": [-1001, -1002, "-1", 2**63, None],
    "actor_telegram_user_id": [9, 10, "9", None, True],
    "target_telegram_username": ["spammer", "@spammer", "@", "", "x" * 32, "@" + "x" * 32, "x" * 33, 5, None],
    "reason": ["flooding", "", " spaced ", "x" * 1024, "x" * 1025, None, 3, "\x00"],
    "until": ["2026-01-01T10:00:00Z", "2026-01-01T10:00:00+02:00", None, "2026-01-01T10:00:00", "later", 5],
    "telegram_message_id": [77, None, "77", 2**63],
    "permission": ["MUTE_USERS", "BAN_USERS", "", "x" * 65, None, 1],
    "details": [{"a": 1}, {}, [], None],
}


@pytest.mark.parametrize(("shape", "serializer_class", "values"), [
    (CHECK_SHAPE, CheckInputSerializer, CHECK_VALUES),
    (EVENT_SHAPE, EventInputSerializer, EVENT_VALUES),
    (RECORD_SHAPE, ActionListApi.InputSerializer, RECORD_VALUES),
])
def test_random_bodies_never_disagree(shape, serializer_class, values):
    accepted = refused = 0
    for body in random_bodies(values, 3000, seed=len(values)):
        verdict = agree(shape, serializer_class, body)
        if drf(serializer_class, body) is None:
            assert verdict is None, body
            refused += 1
        accepted += verdict is not None
    assert accepted > 20 and refused > 1000  # both sides of the line were exercised


@pytest.mark.parametrize("checks", [[], [{"user_id": "1", "permission": "P"}] * 101, "checks", None,
                                    [{"user_id": "1", "permission": "P"}, "oops"]])
def test_batch_shape_defers_on_bad_lists(checks):
    with pytest.raises(Unsure):
        PermissionCheckBatchApi.shape({"checks": checks})
    assert drf(PermissionCheckBatchApi.InputSerializer, {"checks": checks}) is None


def test_one_bad_check_in_a_batch_gets_the_serializers_error(api, db):
    good = {"user_id": "1", "permission": "BAN_USERS"}
    with nothing_written():
        response = api.post("/api/rbac/check-permissions", {"checks": [good, {**good, "telegram_user_id": 5}]})
        body = assert_error(response, 400, "validation_error", "exactly one of user_id or telegram_user_id")
    assert list(body["details"]["checks"]) == ["1"]


def test_one_bad_event_gets_the_serializers_error(api, db):
    event = {"event_id": "e", "type": "message", "telegram_chat_id": -1, "occurred_at": "2026-01-01T10:00:00Z"}
    with nothing_written():
        body = assert_error(api.post("/api/events/batch", {"events": [event, {**event, "type": "dance"}]}),
                            400, "validation_error", "dance")
    assert body["details"] == {"events": {"1": {"type": ['"dance" is not a valid choice.']}}}


@pytest.mark.parametrize("body", [
    {"type": "ban", "group_id": "3", "telegram_chat_id": -1, "reason": ""},
    {"type": "ban", "group_id": "3", "actor_user_id": "1", "actor_telegram_user_id": 9, "reason": ""},
    {"type": "ban", "group_id": "3", "target_user_id": "1", "target_telegram_username": "x", "reason": ""},
    {"type": "ban", "group_id": "3", "target_telegram_user_id": 1, "target_telegram_username": "x", "reason": ""},
    {"type": "ban", "group_id": "3", "permission": "BAN_USERS", "reason": ""},
    {"type": "ban", "group_id": "3", "actor_user_id": "1", "permission": "BAN_USERS", "reason": "x",
     "target_user_id": 5, "until": "2026-01-01T10:00:00Z", "telegram_message_id": None},
    {"type": "ban", "group_id": "3"},
])
def test_record_edge_cases(body):
    agree(RECORD_SHAPE, ActionListApi.InputSerializer, body)


def test_the_bots_record_takes_the_fast_path():
    body = {"type": "mute", "telegram_chat_id": -1001, "actor_telegram_user_id": 9, "permission": "MUTE_USERS",
            "target_telegram_username": "@spammer", "reason": "", "until": "2026-01-01T10:00:00Z"}
    fast = agree(RECORD_SHAPE, ActionListApi.InputSerializer, body)
    assert fast is not None and fast["target_telegram_username"] == "spammer"


# -- the shapes are derived from the serializers (apps.common.validation.body_shape)


@pytest.mark.parametrize("serializer_class",
                         [CheckInputSerializer, EventInputSerializer, ActionListApi.InputSerializer])
def test_compiled_schema_rules_mean_what_json_schema_means(serializer_class):
    """Each of a serializer's schema_rules, compiled into a shape's rule, says what a JSON Schema validator says,
    on every combination of present fields (values from the random tables, None included)."""
    from jsonschema import Draft202012Validator

    from apps.common.derivation import _schema_rule

    values = {**CHECK_VALUES, **EVENT_VALUES, **RECORD_VALUES}
    names = list(serializer_class().fields)
    rng = random.Random(7)
    for fragment in serializer_class.schema_rules:
        rule, reference = _schema_rule(fragment, "test"), Draft202012Validator(fragment)
        for _ in range(3000):
            body = {name: rng.choice(values.get(name, ["x", None])) for name in names if rng.random() < 0.4}
            assert rule(body) == reference.is_valid(body), (fragment, body)


def test_a_record_without_a_reason_takes_the_fast_path_with_the_serializers_default():
    body = {"type": "ban", "telegram_chat_id": -1001, "actor_telegram_user_id": 9, "target_telegram_user_id": 5}
    fast = agree(RECORD_SHAPE, ActionListApi.InputSerializer, body)
    assert fast is not None and fast["reason"] == ""


def _serializer(**fields):
    return type("Probe", (serializers.Serializer,), fields)


@pytest.mark.parametrize("serializer_class", [
    _serializer(name=serializers.CharField()),  # DRF's CharField takes numbers too: no check stands for it
    _serializer(name=StrictCharField(validators=[lambda value: None])),
    _serializer(name=StrictCharField(min_length=2)),
    _serializer(name=StrictCharField(default=lambda: "x")),
    _serializer(name=StrictCharField(source="other")),
    _serializer(when=serializers.DateTimeField(input_formats=["%Y"])),
    _serializer(count=serializers.IntegerField()),
    _serializer(name=StrictCharField(), validate_name=lambda self, value: value),
    _serializer(name=StrictCharField(), schema_rules=({"minProperties": 1},)),
    _serializer(names=serializers.ListField(child=StrictCharField())),
])
def test_a_serializer_no_shape_can_vouch_for_is_refused_at_derivation(serializer_class):
    with pytest.raises(NotDerivable):
        body_shape(serializer_class)


def test_derivation_reads_options_rules_and_nesting():
    class Item(serializers.Serializer):
        id = ObjectIdField()
        kind = serializers.ChoiceField(choices=["a", "b"], required=False)
        at = serializers.DateTimeField(required=False, allow_null=True)
        note = StrictCharField(max_length=3, required=False, default="")

        schema_rules = (implies({"required": ["kind"], "properties": {"kind": {"enum": ["b"]}}}, {"required": ["at"]}),)
        shape_rules = (lambda data: data["id"] != "0",)

    class Body(serializers.Serializer):
        items = Item(many=True, min_length=1, max_length=2)

    shape = body_shape(Body)
    for body in [{"items": [{"id": 1}]}, {"items": [{"id": "1", "kind": "b", "at": None}]},
                 {"items": [{"id": "1", "kind": "b"}]}, {"items": [{"id": "0"}]}, {"items": []},
                 {"items": [{"id": "1"}] * 3}, {"items": [{"id": "1", "note": "long"}]}]:
        agree(shape, Body, body)
    assert shape({"items": [{"id": 1}]}) == {"items": [{"id": "1", "note": ""}]}
    assert shape({"items": [{"id": "1", "kind": "b", "at": None}]})["items"][0]["at"] is None
    for unsure in ({"items": [{"id": "1", "kind": "b"}]}, {"items": [{"id": "0"}]}, {"items": []}):
        with pytest.raises(Unsure):
            shape(unsure)
