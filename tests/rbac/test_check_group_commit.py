"""Permission checks answered by concurrent threads of one process (gthread workers) share audit transactions:
every check is still on the record, committed before its answer returns, in an intact chain."""

import threading

import pytest
from django.db import DatabaseError

from apps.audit import services as audit_services
from apps.audit.models import AuditEvent
from apps.audit.selectors import audit_chain_verify
from apps.rbac.selectors import PermissionQuery, role_get
from apps.rbac.services import permission_check, role_assign
from tests.concurrency import run_threads
from tests.factories import make_group, make_member, make_user

THREADS = 8
CHECKS_PER_THREAD = 15


@pytest.fixture
def moderator(transactional_db):
    user, group = make_user(), make_group()
    make_member(user, group)
    role_assign(user=user, role=role_get(name="moderator"), group=group)
    return PermissionQuery(permission="BAN_USERS", user_id=str(user.pk), group_id=str(group.pk))


def test_concurrent_checks_share_commits_and_each_is_committed_before_it_returns(moderator, monkeypatch):
    group_sizes = []
    real_append = audit_services._append

    def counting_append(rows, insert, prepared):  # the real append, counted
        group_sizes.append(len(rows))
        real_append(rows, insert, prepared)

    monkeypatch.setattr(audit_services, "_append", counting_append)
    before = AuditEvent.objects.count()
    seen_committed = []

    def checks(index):
        for _ in range(CHECKS_PER_THREAD):
            decision = permission_check(query=moderator)
            assert decision.allowed
            # Read on this thread's own connection, outside any transaction: the event is already committed.
            seen_committed.append(AuditEvent.objects.count())

    assert run_threads(checks, THREADS) == []
    total = THREADS * CHECKS_PER_THREAD
    assert AuditEvent.objects.count() == before + total
    assert sum(group_sizes) == total
    assert len(group_sizes) < total, "no two concurrent checks ever shared a transaction"
    assert min(seen_committed) > before
    report = audit_chain_verify()
    assert report.intact, report


def test_a_failed_group_commit_fails_every_check_in_it_and_writes_nothing(moderator, monkeypatch):
    real_link = audit_services._link
    entered = threading.Event()
    release = threading.Event()
    failures = []

    def slow_then_failing_link(rows):
        if not entered.is_set():
            entered.set()  # the first commit holds the others back until they are all waiting...
            release.wait(5)
            return real_link(rows)
        failures.append(len(rows))
        raise DatabaseError("disk full")  # ...and the next one, carrying several of them, fails

    monkeypatch.setattr(audit_services, "_link", slow_then_failing_link)
    before = AuditEvent.objects.count()

    def check(index):
        if index:
            entered.wait(5)
        permission_check(query=moderator)

    releaser = threading.Timer(0.5, release.set)
    releaser.start()
    errors = run_threads(check, THREADS)
    releaser.join()
    assert len(errors) == THREADS - 1 and all(isinstance(error, DatabaseError) for error in errors)
    assert failures and sum(failures) == THREADS - 1
    assert AuditEvent.objects.count() == before + 1  # only the first check is on the record, and it was answered
    assert audit_chain_verify().intact
