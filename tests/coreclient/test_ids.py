"""Ids in core URLs: every endpoint method checks each path id for its type and percent-encodes it; a bad id is
`InvalidId` before anything is sent. Driven against the real core app (in process), through a transport that
records what reaches it."""

import inspect
from datetime import timedelta

import httpx
import pytest
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.utils import timezone

from apps.accounts.models import RevokedToken
from apps.coreclient import AsyncCoreClient, CoreClient, CoreError, InvalidId, ids
from apps.coreclient.endpoints import Endpoints
from tests.factories import grant, make_group, make_member, make_user

API_KEY = "test-key"  # a service with no configured scope: every endpoint

# Ids that must never reach a URL: traversal, query and fragment injection, encoded separators, control
# characters, non-ASCII digits (int() takes them), non-canonical spellings, out-of-range integers, lengths.
BAD_IDS = [
    "", "..", ".", "../users", "x/../../rbac/assignments", "../../users/1", "1/../2", "1?limit=200", "?", "#", "1#x",
    "%2e%2e", "1%2F..", "%3F", "1;x", "\x00", "1\x00", "\n1", "1\n", "\r\n", "\t1", " 1", "1 ", "+1", "-1", "0", "01",
    "1.0", "1e3", "0x1", "\u0661", "\uff11", "\U0001d7d9", "é", "\u202e1", "\ufeff1", "9223372036854775808",
    "9" * 25, "x" * 5000, "f" * 23, "f" * 25, "g" * 24, "F" * 24, "None", "null", "[]", True, False, None, 1.5,
    [1], {"a": 1},
]
BAD_TELEGRAM_IDS = ["", "..", "1/..", "?", "\x00", "1\n", " 1", "+1", "--1", "1.0", "1e3", "0x1", "\u0661",
                    "9223372036854775808", "-9223372036854775809", 2**63, -(2**63) - 1, True, None, 1.5, "01", "-0"]
BAD_ROLE_NAMES = ["", "..", "a", "Admin", "mod/../x", "mod?x", "mod\x00", "mod\n", "moderator.", "1abc", "é",
                  "a" * 33, None, 1]
BAD_JTIS = ["", "..", "a/b", "a?b", "a#b", "a.b", "a b", "a\x00", "a\n", "é", "a" * 65, None, 1.5]
BAD_NOTE_NAMES = ["", "..", ".", "a/b", "a?b", "a#b", "#a", "a.b", "a b", "a\x00", "a\n", "é", "a" * 65, None, 1.5]


class RecordingTransport(httpx.BaseTransport):
    """The real core app, and a list of every request that reached it."""

    def __init__(self, app):
        self.inner = httpx.WSGITransport(app=app)
        self.requests: list[httpx.Request] = []

    def handle_request(self, request):
        self.requests.append(request)
        return self.inner.handle_request(request)


@pytest.fixture
def transport(db):
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield RecordingTransport(get_wsgi_application())
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def client(transport):
    core = CoreClient("http://testserver", API_KEY, transport=transport)
    yield core
    core.close()


@pytest.fixture
def real(db):
    group, user = make_group(), make_user("member")
    make_member(user, group)
    grant(user, "moderator", group)
    return group, user


# -- the checks themselves


@pytest.mark.parametrize("value", ["1", 1, "42", "9223372036854775807", "5f1d7c3a9b1e8a0012345678",
                                   "123456789012345678901234"])
def test_store_ids_of_both_backends_pass_unchanged(value):
    assert ids.store_id(value) == str(value)


@pytest.mark.parametrize("value", BAD_IDS, ids=repr)
def test_anything_else_is_not_a_store_id(value):
    with pytest.raises(InvalidId) as refused:
        ids.store_id(value, name="group_id")
    assert refused.value.details == {"parameter": "group_id", "kind": "core object id"}
    assert len(refused.value.message) < 200  # a 5,000-character id is not echoed whole


@pytest.mark.parametrize("value", [-1001234567890, "-1001234567890", 777000, "42", 0, "9223372036854775807",
                                   -(2**63)])
def test_telegram_ids_are_64_bit_integers_of_either_sign(value):
    assert ids.telegram_id(value) == str(value)


@pytest.mark.parametrize("value", BAD_TELEGRAM_IDS, ids=repr)
def test_anything_else_is_not_a_telegram_id(value):
    with pytest.raises(InvalidId):
        ids.telegram_id(value)


@pytest.mark.parametrize("value", BAD_ROLE_NAMES, ids=repr)
def test_role_names_are_cores_pattern(value):
    assert ids.role_name("group_admin") == "group_admin"
    with pytest.raises(InvalidId):
        ids.role_name(value)


@pytest.mark.parametrize("value", BAD_JTIS, ids=repr)
def test_token_ids_are_webs_jti_alphabet(value):
    assert ids.token_id("a1_B-2") == "a1_B-2"
    with pytest.raises(InvalidId):
        ids.token_id(value)


def test_invalid_id_is_a_typed_client_error():
    with pytest.raises(InvalidId) as refused:
        ids.store_id("../users")
    error = refused.value
    assert isinstance(error, CoreError) and isinstance(error, ValueError)
    assert (error.code, error.status_code) == ("invalid_id", 400)


# -- every endpoint method that puts an id in its path


PATH_ID_KINDS = {"user_id": BAD_IDS, "group_id": BAD_IDS, "assignment_id": BAD_IDS, "action_id": BAD_IDS,
                 "warning_id": BAD_IDS, "telegram_chat_id": BAD_TELEGRAM_IDS, "name": BAD_ROLE_NAMES,
                 "jti": BAD_JTIS, "family": BAD_JTIS, "entry_id": BAD_IDS,
                 "challenge_id": BAD_IDS, "note_name": BAD_NOTE_NAMES}


# Positional, but a request body, not a path id.
BODY_ARGUMENTS = {"checks", "events", "telegram_chat_ids"}


def path_id_methods() -> dict[str, list[str]]:
    """Endpoint method -> its positional parameters: the path's ids (body fields are keyword-only, but for
    two lists)."""
    found = {}
    for name, method in vars(Endpoints).items():
        if name.startswith("_") or not callable(method):
            continue
        positional = [parameter.name for parameter in list(inspect.signature(method).parameters.values())[1:]
                      if parameter.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
                      and parameter.name not in BODY_ARGUMENTS]
        if positional:
            found[name] = positional
    return found


def test_the_table_of_path_id_methods_is_known():
    """A new endpoint with an id in its path lands here, and so in the tests below."""
    assert path_id_methods() == {
        "user_get": ["user_id"], "user_update": ["user_id"], "role_get": ["name"],
        "revoke_assignment": ["assignment_id"], "group_get": ["group_id"], "group_by_chat": ["telegram_chat_id"],
        "group_update": ["group_id"], "group_migrate": ["group_id"], "group_admins_sync": ["group_id"],
        "group_anonymous_admin": ["group_id"], "members": ["group_id"], "member_set": ["group_id"],
        "member_update": ["group_id", "user_id"], "moderation_complete": ["action_id"],
        "warnings": ["group_id", "user_id"], "warning_remove": ["group_id", "user_id", "warning_id"],
        "warnings_reset": ["group_id", "user_id"], "group_stats": ["group_id"], "token_revocation": ["jti"],
        "token_family_revocation": ["family"], "log_result": ["entry_id"],
        "challenge_messages": ["challenge_id"], "challenge_answer": ["challenge_id"],
        "protection_get": ["group_id"], "protection_settings": ["telegram_chat_id"],
        "protection_update": ["group_id"], "protection_raid": ["group_id"], "approvals": ["group_id"],
        "locks_get": ["group_id"], "locks_update": ["group_id"], "blocklist_get": ["group_id"],
        "blocklist_add": ["group_id"], "blocklist_remove": ["group_id"], "blocklist_clear": ["group_id"],
        "filters_get": ["group_id"], "filter_save": ["group_id"], "filters_remove": ["group_id"],
        "filters_clear": ["group_id"], "notes_get": ["group_id"], "note_save": ["group_id"],
        "note_get": ["group_id", "note_name"], "notes_remove": ["group_id"], "notes_clear": ["group_id"],
        "protection_test": ["group_id"],
    }


KEYWORDS = {"group_migrate": {"new_telegram_chat_id": -100123}, "group_admins_sync": {"admins": []},
            "member_set": {"user_id": "1"}, "moderation_complete": {"status": "executed"},
            "log_result": {"status": "sent"}, "challenge_messages": {"message_ids": [1]},
            "challenge_answer": {"telegram_user_id": 1, "answer": "0"}, "protection_raid": {"active": True},
            "locks_update": {"locks": {}}, "blocklist_add": {"entries": [{"pattern": "x"}]},
            "blocklist_remove": {"patterns": ["x"]}, "filter_save": {"trigger": "x", "text": "y"},
            "filters_remove": {"triggers": ["x"]}, "note_save": {"name": "x", "text": "y"},
            "notes_remove": {"names": ["x"]}}
VALID = {"user_id": "1", "group_id": "1", "assignment_id": "1", "action_id": "1", "warning_id": "1",
         "telegram_chat_id": -100123, "name": "moderator", "jti": "abc", "family": "abc", "entry_id": "1",
         "challenge_id": "1", "note_name": "rules"}


@pytest.mark.parametrize(("method", "parameters"), sorted(path_id_methods().items()))
def test_a_bad_path_id_is_refused_before_anything_is_sent(client, transport, method, parameters):
    for position, parameter in enumerate(parameters):
        for bad in PATH_ID_KINDS[parameter]:
            arguments = [VALID[name] for name in parameters]
            arguments[position] = bad
            with pytest.raises(InvalidId) as refused:
                getattr(client, method)(*arguments, **KEYWORDS.get(method, {}))
            assert refused.value.details["parameter"] == parameter
    assert transport.requests == []


def test_the_async_client_refuses_alike_without_a_connection():
    core = AsyncCoreClient("http://127.0.0.1:9", API_KEY)  # nothing listens there; nothing is tried
    with pytest.raises(InvalidId):
        core.group_get("../users/1")
    with pytest.raises(InvalidId):
        core.group_by_chat("1?x")
    with pytest.raises(InvalidId):
        core.user_list(acting_user_id="1\r\nX-API-Key: other")
    assert core._session is None


def test_a_traversal_through_a_group_id_does_not_read_users(client, transport, real):
    """On the unchecked client, `group_stats("../../users/<id>")` was GET /api/users/<id> with the caller's key
    (httpx resolves dot segments): a VIEW_STATS check for a "group" became a read of a user."""
    _, user = real
    with pytest.raises(InvalidId):
        client.group_stats(f"../../users/{user.pk}")
    with pytest.raises(InvalidId):
        client.members("..%2F..%2Frbac%2Fassignments")
    with pytest.raises(InvalidId):
        client.group_get("?limit=200")
    assert transport.requests == []


def test_valid_ids_of_every_kind_still_reach_core(client, transport, real):
    group, user = real
    assert client.group_get(str(group.pk))["id"] == str(group.pk)
    assert client.group_by_chat(group.telegram_chat_id).id == str(group.pk)
    assert client.group_by_chat(str(group.telegram_chat_id)).id == str(group.pk)
    assert client.user_get(str(user.pk))["username"] == "member"
    assert client.role_get("moderator")["name"] == "moderator"
    RevokedToken.objects.create(jti="a-Real_jti1", expires_at=timezone.now() + timedelta(hours=1),
                                revoked_at=timezone.now())
    assert client.token_revocation("a-Real_jti1")["revoked"] is True
    member_path = client.members(str(group.pk))
    assert member_path["total"] == 1
    assert [request.url.path for request in transport.requests] == [
        f"/api/groups/{group.pk}", f"/api/groups/by-chat/{group.telegram_chat_id}",
        f"/api/groups/by-chat/{group.telegram_chat_id}", f"/api/users/{user.pk}", "/api/rbac/roles/moderator",
        "/api/auth/revoked-tokens/a-Real_jti1", f"/api/groups/{group.pk}/members",
    ]
    with pytest.raises(CoreError) as missing:
        client.group_get("999999")
    assert missing.value.code == "not_found"
