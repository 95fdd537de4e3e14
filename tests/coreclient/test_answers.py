"""Core's answers decode into the client's dataclasses: fields as core wrote them, a field core adds later is
ignored, a field the client needs that is missing is a clear `UnexpectedAnswer` from the call itself."""

import json
from dataclasses import asdict, fields

import httpx
import pytest

from apps.coreclient import (
    CoreClient,
    CoreUnavailable,
    Decision,
    Group,
    Member,
    ModerationRecord,
    RecordedAction,
    UnexpectedAnswer,
)
from tests.factories import grant, make_group, make_member, make_user

from .timestamps import to_the_millisecond

API_KEY = "bot-key"



def rewriting(app: httpx.WSGITransport, change) -> httpx.MockTransport:
    """Core's real answers, each success envelope's data passed through `change` on the way back."""

    def handle(request: httpx.Request) -> httpx.Response:
        response = app.handle_request(request)
        response.read()
        body = response.json()
        if body.get("success") is True:
            change(body["data"])
        return httpx.Response(response.status_code, json=body)

    return httpx.MockTransport(handle)


def test_cores_answers_decode_into_the_dataclasses(core_app):
    core = CoreClient("http://testserver", API_KEY, transport=core_app)
    group = core.group_register(telegram_chat_id=-1001234500001, title="Typed", type="supergroup")
    assert isinstance(group, Group)
    wire = core.group_get(group.id)  # the same group as core's JSON
    wire = {field.name: wire[field.name] for field in fields(Group)}
    assert to_the_millisecond(asdict(group)) == to_the_millisecond(wire)
    target = core.user_create(username="typed-target", telegram_user_id=5551)
    member = core.member_set(group.id, user_id=target["id"], status="member")
    assert isinstance(member, Member) and (member.group_id, member.user_id) == (group.id, target["id"])
    recorded = core.moderation_record(type="warn", group_id=group.id, target_user_id=target["id"], reason="spam")
    assert isinstance(recorded, RecordedAction) and isinstance(recorded.action, ModerationRecord)
    assert (recorded.action.type, recorded.action.reason, recorded.action.target_user_id) == ("warn", "spam",
                                                                                            target["id"])
    assert (recorded.warnings.active_warnings, recorded.warnings.limit_reached) == (1, False)
    assert recorded.warnings.required_action is None
    moderator = make_user()
    make_member(moderator, make_group())
    grant(moderator, "moderator")
    assert core.check_permission(permission="BAN_USERS", user_id=str(moderator.pk)) == Decision(
        allowed=True, reason="granted_by_role:moderator")


def test_the_answers_are_frozen_and_slotted(core_app):
    group = CoreClient("http://testserver", API_KEY, transport=core_app).group_register(
        telegram_chat_id=-1001234500002, title="Frozen", type="group")
    with pytest.raises(AttributeError):
        group.title = "changed"
    assert not hasattr(group, "__dict__")


def test_a_field_core_adds_later_is_ignored(core_app):
    def added(data):
        data["added_later"] = {"anything": [1, 2]}
        if "action" in data:
            data["action"]["added_later"] = True

    core = CoreClient("http://testserver", API_KEY, transport=rewriting(core_app, added))
    group = core.group_register(telegram_chat_id=-1001234500003, title="Newer core", type="supergroup")
    assert group.title == "Newer core" and not hasattr(group, "added_later")
    recorded = core.moderation_record(type="pin", group_id=group.id, reason="")
    assert recorded.action.type == "pin"


@pytest.mark.parametrize(("call", "dropped", "kind"), [
    (lambda core: core.group_register(telegram_chat_id=-1001234500004, title="Older core", type="supergroup"),
     "is_active", "group"),
    (lambda core: core.check_permission(permission="BAN_USERS", telegram_user_id=1), "allowed", "decision"),
])
def test_a_missing_field_is_a_clear_client_error(core_app, call, dropped, kind):
    core = CoreClient("http://testserver", API_KEY, transport=rewriting(core_app, lambda data: data.pop(dropped)),
                      retries=0)
    with pytest.raises(UnexpectedAnswer) as missing:
        call(core)
    assert isinstance(missing.value, CoreUnavailable) and missing.value.outcome == "bad_response"
    assert str(missing.value) == f"core's {kind} answer is not as expected: the required field '{dropped}' is missing"


def test_a_missing_field_inside_a_recorded_action_names_the_record(core_app):
    group = make_group()
    core = CoreClient("http://testserver", API_KEY,
                      transport=rewriting(core_app, lambda data: data["action"].pop("status")))
    with pytest.raises(UnexpectedAnswer, match=r"moderation record answer .* 'status' is missing"):
        core.moderation_record(type="pin", group_id=str(group.pk), reason="")


@pytest.mark.parametrize("answer", [None, [], "text", 7])
def test_an_answer_that_is_no_object_is_a_clear_client_error(answer):
    for decode in (Group.from_wire, Decision.from_wire, Member.from_wire, RecordedAction.from_wire,
                   Decision.many_from_wire):
        with pytest.raises(UnexpectedAnswer, match="a JSON object was expected"):
            decode(answer)


def test_the_decisions_of_a_batch_keep_the_order_of_the_checks(core_app):
    user, group = make_user(), make_group()
    make_member(user, group)
    grant(user, "helper", group)
    core = CoreClient("http://testserver", API_KEY, transport=core_app)
    checks = [{"permission": permission, "user_id": str(user.pk), "group_id": str(group.pk)}
              for permission in ("BAN_USERS", "MUTE_USERS", "BAN_USERS")]
    assert [decision.allowed for decision in core.check_permissions(checks)] == [False, True, False]
    assert json.dumps([asdict(d) for d in core.check_permissions(checks[1:2])]) == json.dumps(
        [{"allowed": True, "reason": "granted_by_role:helper"}])
