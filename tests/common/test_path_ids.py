"""Every core route with an id in its path, with garbage in that id: a 4xx envelope, never a 500, nothing written.

The routes are read from core's URL configuration, so a route added later is covered without editing this file.
Each id parameter is garbled in turn while the others name real objects, so the garbage is what gets looked at.
Runs on the Mongo profile too (python -m tests.mongo.run tests/common/test_path_ids.py), where ids are ObjectIds.
"""

import re
from datetime import timedelta
from urllib.parse import quote

import pytest
from django.conf import settings
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from apps.accounts.models import RevokedToken
from apps.challenges.models import Challenge
from apps.contentrules.models import Note
from apps.logchannel.models import LogEntry
from apps.moderation.models import ModerationAction, Warning
from tests.common.assertions import nothing_written
from tests.conftest import ApiClient
from tests.factories import make_group, make_member, make_user

_PARAMETER = re.compile(r"<(?:(\w+):)?(\w+)>")
CLEAN_4XX = {"not_found", "invalid_id", "validation_error"}

# Sent percent-encoded (as a browser or proxy would), so the view receives exactly these characters.
GARBAGE = [
    "\x00", "1\x00", "\x01\x02", "\x7f", "\n", "\r\n1", "\t", " 1", "1 ", "%", "%00", "%2F", "..", ".", "'",
    '"', "<script>", "é", "\u0661\u0662\u0663", "\uff11", "\U0001d7d9", "\u202e1", "\ufeff1", "-1", "0", "1e3",
    "1.0", "0x1", "+1",
    "99999999999999999999", "9223372036854775808", "-9223372036854775809", "9" * 400, "x" * 5000,
    "ffffffffffffffffffffffff", "zzzzzzzzzzzzzzzzzzzzzzzz", "F" * 24, "f" * 25, "null", "None", "[]",
    "{}", "true", "a?b=c", "a#b", "a;b", "\\", "$where", "{\"$gt\": \"\"}", "A" * 64, "a" * 65,
]
# Bytes that are not UTF-8: Django hands the view the percent-encoded text instead.
RAW_GARBAGE = ["%FF", "%C3%28", "%ED%A0%80"]
# What the store decides about: how an id is parsed (ObjectId or integer) and looked up. The rest of GARBAGE is about
# URL decoding and routing, which no store changes: the MongoDB profile sends this part only.
STORE_GARBAGE = [
    "\x00", "é", "\uff11", "-1", "0", "99999999999999999999", "9223372036854775808", "x" * 5000,
    "ffffffffffffffffffffffff", "zzzzzzzzzzzzzzzzzzzzzzzz", "F" * 24, "f" * 25, "$where", "{\"$gt\": \"\"}",
]


def core_routes() -> list[tuple[str, tuple[str, ...], type]]:
    """(route template, its parameter names, view class) for every core API route with a path parameter."""
    found = []

    def walk(patterns, prefix: str):
        for entry in patterns:
            route = prefix + str(entry.pattern)
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, route)
            elif isinstance(entry, URLPattern) and _PARAMETER.search(route) and route.startswith("api/"):
                found.append((route, tuple(match[2] for match in _PARAMETER.finditer(route)),
                              entry.callback.view_class))

    walk(get_resolver("config.urls.core").url_patterns, "")
    return found


ROUTES = core_routes()


def test_every_core_id_route_is_covered():
    names = {name for _, names, _ in ROUTES for name in names}
    assert names == {"group_id", "user_id", "telegram_chat_id", "name", "assignment_id", "action_id",
                     "warning_id", "jti", "family", "challenge_id", "entry_id", "note_name", "ban_list_id",
                     "propagation_id"}, names
    assert len(ROUTES) >= 15


@pytest.fixture
def objects(db):
    """A real object for every kind of path id, so that only the garbled one is wrong."""
    group, user = make_group(), make_user("member")
    make_member(user, group)
    action = ModerationAction.objects.create(type="warn", group=group, target=user, source_service="tests")
    warning = Warning.objects.create(group=group, user=user, action=action)
    from tests.factories import grant

    assignment = grant(make_user("granted"), "moderator", group)
    now = timezone.now()
    challenge = Challenge.objects.create(group=group, user=user, mode="button", question="Press", answer="0",
                                         expires_at=now + timedelta(minutes=2), started_at=now)
    entry = LogEntry.objects.create(group=group, log_chat_id=-1001, kind="action", text="logged")
    note = Note.objects.create(group=group, name="rules", text="Be kind.")
    from apps.banlists.models import BanList, Propagation

    ban_list = BanList.objects.create(name="Spam watch", owner=user)
    propagation = Propagation.objects.create(ban_list=ban_list, group=group, telegram_user_id=42, action="ban")
    RevokedToken.objects.create(jti="a-real-jti", expires_at=timezone.now() + timedelta(hours=1),
                                revoked_at=timezone.now())
    return {"group_id": str(group.pk), "user_id": str(user.pk), "telegram_chat_id": str(group.telegram_chat_id),
            "name": "moderator", "assignment_id": str(assignment.pk), "action_id": str(action.pk),
            "warning_id": str(warning.pk), "jti": "a-real-jti", "family": "a-real-jti",
            "challenge_id": str(challenge.pk), "entry_id": str(entry.pk), "note_name": note.name,
            "ban_list_id": str(ban_list.pk), "propagation_id": str(propagation.pk)}


def _methods(view_class) -> list[str]:
    return [method for method in ("get", "post", "patch") if hasattr(view_class, method)]


def _path(route: str, values: dict) -> str:
    return "/" + _PARAMETER.sub(lambda match: values[match[2]], route)


def _assert_clean_4xx(response, label: str):
    assert 400 <= response.status_code < 500, (label, response.status_code, response.content[:300])
    assert response["Content-Type"].startswith("application/json"), label
    body = response.json()
    assert body["success"] is False and body["status_code"] == response.status_code, (label, body)
    assert body["error"] in CLEAN_4XX, (label, body)


@pytest.mark.parametrize(("route", "names", "view_class"), ROUTES, ids=[route for route, _, _ in ROUTES])
def test_garbage_path_ids_answer_a_clean_4xx(route, names, view_class, objects):
    client = ApiClient(validate=False)
    valid = {name: quote(value, safe="") for name, value in objects.items()}
    garbled = ([quote(value, safe="") for value in STORE_GARBAGE] if settings.MONGODB
               else [quote(value, safe="") for value in GARBAGE] + RAW_GARBAGE)
    for name in names:
        if name == "telegram_chat_id":
            continue  # an integer: a clean 400 validation_error for any garbage (covered below)
        with nothing_written():  # by any of the requests below: each answer is checked on its own
            for garbage in garbled:
                if name in {"jti", "family"} and re.fullmatch(r"[A-Za-z0-9_-]{1,64}", garbage):
                    continue  # a well-formed token id: "not revoked" is the right answer
                path = _path(route, {**valid, name: garbage})
                for method in _methods(view_class):
                    response = client.client.generic(method.upper(), path, data="{}",
                                                     content_type="application/json")
                    _assert_clean_4xx(response, f"{method.upper()} {path[:120]}")


def test_garbage_chat_ids_are_a_clean_400(objects):
    client = ApiClient(validate=False)
    for garbage in [quote(value, safe="") for value in GARBAGE] + RAW_GARBAGE:
        if garbage in ("-1", "0"):
            continue  # integers: simply no such group
        response = client.get(f"/api/groups/by-chat/{garbage}")
        _assert_clean_4xx(response, garbage)


@pytest.mark.parametrize("header", ["\x00", "1\x00", "é", "\u0661\u0662\u0663", "99999999999999999999", "x" * 5000,
                                    "..", "0", "zzzzzzzzzzzzzzzzzzzzzzzz", "ffffffffffffffffffffffff"])
def test_garbage_acting_user_ids_are_a_clean_4xx(db, header):
    client = ApiClient(api_key="web-key", validate=False)
    response = client.get("/api/groups", HTTP_X_ACTING_USER_ID=header)
    assert response.status_code in (400, 403), response.content
    assert response.json()["error"] in {"validation_error", "permission_denied"}
