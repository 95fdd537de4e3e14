"""The audit list and CSV name what their ids stand for, and can leave out one service's permission checks."""

import csv
import io
from datetime import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.audit.models import AuditEvent
from apps.audit.names import names_for
from apps.common.context import bind_context
from apps.rbac.selectors import PermissionQuery
from apps.rbac.services import permission_check
from tests.audit.test_audit_api import EVENTS, fetch, record
from tests.factories import grant, make_group, make_member, make_user


def _check_as(service: str, user, group):
    bind_context(service=service)
    try:
        permission_check(query=PermissionQuery(permission="VIEW_GROUPS", user_id=str(user.pk), group_id=str(group.pk)))
    finally:
        bind_context(service="tests")


def test_items_carry_names_titles_and_the_permission(api, db):
    alice = make_user(display_name="Alice Owner")
    spammer = make_user(telegram_username="spammer")
    group = make_group(title="Rust Learners")
    make_member(alice, group)
    grant(alice, "moderator", group)
    record(action="user.update", actor_user_id=alice.pk, target_type="user", target_id=spammer.pk, group_id=group.pk)
    _check_as("web", alice, group)
    check, update = fetch(api, limit=2)["items"]
    assert (update["actor_name"], update["target_name"], update["group_title"], update["permission"]) == (
        "Alice Owner", "@spammer", "Rust Learners", None)
    assert (check["actor_name"], check["group_title"], check["permission"]) == (
        "Alice Owner", "Rust Learners", "VIEW_GROUPS")


def test_names_cost_one_query_per_kind_not_one_per_row(api, db):
    group = make_group()
    for number in range(20):
        user = make_user(display_name=f"Person {number}")
        record(actor_user_id=user.pk, target_type="group", target_id=group.pk, group_id=group.pk)
    with CaptureQueriesContext(connection) as few:
        fetch(api, action="user.update", limit=2)
    with CaptureQueriesContext(connection) as many:
        items = fetch(api, action="user.update", limit=20)["items"]
    assert {item["actor_name"] for item in items} == {f"Person {number}" for number in range(20)}
    assert {item["target_name"] for item in items} == {group.title}
    assert len(many.captured_queries) == len(few.captured_queries)


def test_hide_checks_by_leaves_out_that_services_checks_only(api, db):
    user, group = make_user(), make_group()
    _check_as("web", user, group)
    _check_as("bot", user, group)
    record(action="user.update", service="web", actor_user_id=user.pk)
    shown = fetch(api, hide_checks_by="web", limit=3)["items"]
    assert [(item["service"], item["action"]) for item in shown[:2]] == [
        ("web", "user.update"), ("bot", "permission.check")]
    assert all((item["service"], item["action"]) != ("web", "permission.check") for item in shown)
    everything = fetch(api, limit=3)["items"]
    assert ("web", "permission.check") in [(item["service"], item["action"]) for item in everything]


def test_csv_has_iso_times_and_names(api, db):
    alice = make_user(display_name="Alice Owner")
    group = make_group(title="Rust Learners")
    record(actor_user_id=alice.pk, group_id=group.pk)
    response = api.get(f"{EVENTS}.csv")
    assert response.status_code == 200, response.content
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    newest = rows[0]
    assert (newest["actor_name"], newest["group_title"]) == ("Alice Owner", "Rust Learners")
    assert "T" in newest["created_at"] and datetime.fromisoformat(newest["created_at"]).tzinfo is not None
    assert AuditEvent.objects.filter(sequence=int(newest["sequence"])).exists()


def test_moderation_and_assignment_lists_carry_names(api, db):
    alice = make_user(display_name="Alice Owner")
    spammer = make_user(telegram_username="spammer")
    group = make_group(title="Rust Learners")
    make_member(alice, group)
    make_member(spammer, group)
    body = {"type": "warn", "group_id": str(group.pk), "actor_user_id": str(alice.pk),
            "target_user_id": str(spammer.pk), "reason": "test"}
    assert api.post("/api/moderation/actions", body).status_code == 201
    (action,) = api.get(f"/api/moderation/actions?group_id={group.pk}").json()["data"]["items"]
    assert (action["actor_name"], action["target_name"], action["group_title"]) == (
        "Alice Owner", "@spammer", "Rust Learners")
    grant(alice, "owner", group)
    grant(spammer, "helper", group, actor=alice)
    (assignment,) = api.get(f"/api/rbac/assignments?user_id={spammer.pk}").json()["data"]["items"]
    assert (assignment["user_name"], assignment["group_title"], assignment["granted_by_name"]) == (
        "@spammer", "Rust Learners", "Alice Owner")


def test_users_and_groups_register_their_namers(db):
    """The audit app reads neither table: users and groups name their own ids (apps/audit/names.py); ids that name
    nothing, or are no ids, are left out; a kind nobody registered fails loudly."""
    user, group = make_user(display_name="", telegram_username="carol"), make_group(title="Go Learners")
    assert names_for("user", {str(user.pk), "not-an-id", "999999999"}) == {str(user.pk): "@carol"}
    assert names_for("group", {str(group.pk), None}) == {str(group.pk): "Go Learners"}
    assert names_for("banlist", set()) == {}
    with pytest.raises(KeyError):
        names_for("banlist", {"1"})
