"""audit_change: the one way core's services put a change on the trail."""

import pytest

from apps.audit.services import audit_change
from tests.factories import make_group, make_user


@pytest.mark.django_db
def test_a_change_by_a_user_in_a_group_names_both_and_succeeds():
    actor, group = make_user(), make_group()
    event = audit_change(action="group.update", actor=actor, target_type="group", target_id=group.pk, group=group,
                         details={"changed": {"title": ["a", "b"]}})
    event.refresh_from_db()
    assert (event.actor_user_id, event.group_id, event.result) == (str(actor.pk), str(group.pk), "success")
    assert (event.target_type, event.target_id, event.reason) == ("group", str(group.pk), "")
    assert event.details == {"changed": {"title": ["a", "b"]}}


@pytest.mark.django_db
def test_a_refusal_by_the_system_outside_any_group_names_neither():
    event = audit_change(action="role.create", actor=None, target_type="role", target_id="x", result="denied",
                         reason="rank_violation")
    event.refresh_from_db()
    assert (event.actor_user_id, event.group_id, event.result) == ("", "", "denied")
    assert (event.reason, event.details) == ("rank_violation", {})
