"""Core's objects are declared once (apps/common/shapes.py): core's output serializers are those shapes, overriding
only how a field is read or narrowed, so every field web documents for core's object is in core's answer, in the
same place, and web's schema cannot drift from core's."""

import pytest

from apps.audit.apis import AuditEventOutputSerializer
from apps.common import shapes
from apps.groups.apis import GroupOutputSerializer, MembershipOutputSerializer
from apps.moderation.apis import ActionOutputSerializer
from apps.rbac.apis import AssignmentOutputSerializer, RoleOutputSerializer
from apps.users.apis import UserOutputSerializer


@pytest.mark.parametrize(("core", "shape"), [
    (GroupOutputSerializer, shapes.GroupSerializer),
    (MembershipOutputSerializer, shapes.MemberSerializer),
    (UserOutputSerializer, shapes.UserSerializer),
    (RoleOutputSerializer, shapes.RoleSerializer),
    (AssignmentOutputSerializer, shapes.AssignmentSerializer),
    (AuditEventOutputSerializer, shapes.AuditEventSerializer),
    (ActionOutputSerializer, shapes.ModerationActionSerializer),
])
def test_core_answers_in_the_shape_web_relays(core, shape):
    assert issubclass(core, shape)
    shape_fields = list(shape().fields)
    core_fields = list(core().fields)
    assert core_fields[:len(shape_fields)] == shape_fields
    for name in set(core_fields) - set(shape_fields):  # core's additions are lists' display names, never required
        assert core().fields[name].read_only, name
