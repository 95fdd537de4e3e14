"""Tamper evidence: `audit_verify` recomputes the hash chain and names the first event that breaks it."""

import json
from datetime import datetime
from io import StringIO
from itertools import pairwise

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from apps.audit.chain import event_hash
from apps.audit.models import AuditEvent
from apps.audit.selectors import audit_chain_verify
from apps.common.db import is_mongodb
from tests.factories import grant, make_group, make_member, make_user


def verify() -> str:
    out = StringIO()
    call_command("audit_verify", stdout=out)
    return out.getvalue()


TABLE = AuditEvent._meta.db_table


def tamper(at_sequence: int, /, **changes) -> None:
    """Edits one stored event behind the ORM's back, as someone with database access would."""
    if is_mongodb():
        if "created_at" in changes:
            changes["created_at"] = datetime.fromisoformat(changes["created_at"])
        if "details" in changes:
            changes["details"] = json.loads(changes["details"])
        connection.get_collection(TABLE).update_one({"sequence": at_sequence}, {"$set": changes})
        return
    assignments = ", ".join(f"{column} = %s" for column in changes)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {TABLE} SET {assignments} WHERE sequence = %s",  # noqa: S608 (fixed names)
                       [*changes.values(), at_sequence])


def tamper_delete(sequence: int) -> None:
    if is_mongodb():
        connection.get_collection(TABLE).delete_one({"sequence": sequence})
        return
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {TABLE} WHERE sequence = %s", [sequence])  # noqa: S608 (fixed names)


@pytest.fixture
def trail(api):
    """A realistic chain: API writes of every kind, Unicode, 64-bit ids, permission checks."""
    admin = make_user("root")
    grant(admin, "admin")
    group = make_group(telegram_chat_id=-1001234567890, title="Группа ✓")
    user_id = api.post("/api/users", {"username": "zoë", "display_name": "Zoë 🚀", "telegram_user_id": 2**62,
                                      "actor_user_id": str(admin.pk)}).json()["data"]["id"]
    api.patch(f"/api/users/{user_id}", {"display_name": "Z", "actor_user_id": str(admin.pk)})
    make_member(make_user(), group)
    assignment = api.post("/api/rbac/assignments", {"user_id": user_id, "role": "moderator",
                                                    "group_id": str(group.pk), "reason": "helps ✓"}).json()["data"]
    api.post(f"/api/rbac/assignments/{assignment['id']}/revoke", {"reason": "done"})
    api.post("/api/rbac/check-permissions",
             {"checks": [{"user_id": user_id, "permission": "BAN_USERS"}, {"user_id": "0", "permission": "BAN_USERS"}]})
    count = AuditEvent.objects.count()
    assert sorted(set(AuditEvent.objects.values_list("action", flat=True))) == [
        "group.create", "membership.upsert", "permission.check", "role.assign", "role.revoke", "user.create",
        "user.update"]
    return count


def test_intact_chain_passes(trail):
    assert f"{trail} events verified" in verify()


def test_empty_trail_passes(db):
    assert "0 events verified" in verify()


def nth(position: int) -> int:
    """The global sequence of the trail's event at `position` of its (one) stream: the test's thread wrote them."""
    return AuditEvent.objects.get(stream_seq=position).sequence


def test_every_event_links_to_the_previous_one(trail):
    events = list(AuditEvent.objects.order_by("sequence"))
    assert events[0].previous_hash == "0" * 64
    assert len({event.stream for event in events}) == 1
    for previous, event in pairwise(events):
        assert event.previous_hash == previous.hash
        assert event.stream_seq == previous.stream_seq + 1
        assert event.sequence > previous.sequence


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("reason", "x"),
        ("result", "allowed"),
        ("actor_user_id", "999"),
        ("service", "bot"),
        ("details", '{"username": "mallory"}'),
        ("created_at", "2020-01-01 00:00:00"),
    ],
)
def test_an_edited_row_is_named(trail, column, value):
    tamper(nth(4), **{column: value})
    with pytest.raises(CommandError, match=rf"#{nth(4)}\b"):
        verify()


def test_the_briefs_example_edit_is_detected(trail):
    tamper(nth(5), reason="x")
    with pytest.raises(CommandError, match=rf"#{nth(5)}\b.*content does not match its hash"):
        verify()


def test_an_edit_with_a_recomputed_hash_breaks_the_next_link(trail):
    """Rewriting one row consistently is not enough: the following event still names the old hash."""
    fields = [f.name for f in AuditEvent._meta.concrete_fields if f.name not in {"id", "hash"}]
    values = AuditEvent.objects.filter(stream_seq=3).values(*fields).get()
    values["reason"] = "innocent"
    tamper(nth(3), reason="innocent", hash=event_hash(**values))
    with pytest.raises(CommandError, match=rf"#{nth(4)}\b.*previous_hash"):
        verify()


def test_a_deleted_middle_row_is_detected(trail):
    seventh = nth(7)
    tamper_delete(nth(6))
    with pytest.raises(CommandError, match=rf"#{seventh}\b.*expected sequence 6"):
        verify()


def test_a_deleted_first_row_is_detected(trail):
    second = nth(2)
    tamper_delete(nth(1))
    with pytest.raises(CommandError, match=rf"#{second}\b"):
        verify()


def test_swapped_rows_are_detected(trail):
    second, third = nth(2), nth(3)
    tamper(second, stream_seq=-1, sequence=-1)
    tamper(third, stream_seq=2, sequence=second)
    tamper(-1, stream_seq=3, sequence=third)
    with pytest.raises(CommandError, match=rf"#{second}\b"):
        verify()


def test_report_counts_what_verified_before_the_break(trail):
    tamper(nth(8), reason="x")
    report = audit_chain_verify(batch_size=3)  # several chunks: the break is found across chunk borders
    assert (report.intact, report.first_broken_sequence, report.checked) == (False, nth(8), 7)


def test_verification_spans_chunks(trail):
    assert audit_chain_verify(batch_size=2).checked == trail
