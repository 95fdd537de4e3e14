"""Core's objects are declared once (apps/common/shapes.py): core's output serializers are those shapes, overriding
only how a field is read or narrowed, so every field web documents for core's object is in core's answer, in the
same place, and web's schema cannot drift from core's."""

import pytest

from apps.audit.apis import AuditEventOutputSerializer
from apps.banlists import apis as banlist_apis
from apps.banlists import ban_apis
from apps.banlists.models import Ban, Change
from apps.common import banlist_shapes, shapes
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
    (banlist_apis.BanListSerializer, banlist_shapes.BanListSerializer),
    (banlist_apis.BanListAdminsSerializer, banlist_shapes.BanListAdminsSerializer),
    (banlist_apis.BanListAdminAddedSerializer, banlist_shapes.BanListAdminAddedSerializer),
    (banlist_apis.BanListAdminRemovedSerializer, banlist_shapes.BanListAdminRemovedSerializer),
    (banlist_apis.BanListSubscriptionSerializer, banlist_shapes.BanListSubscriptionSerializer),
    (banlist_apis.BanListSubscribedSerializer, banlist_shapes.BanListSubscribedSerializer),
    (banlist_apis.BanListRemovedSerializer, banlist_shapes.BanListRemovedSerializer),
    (banlist_apis.BanListFollowsSerializer, banlist_shapes.BanListFollowsSerializer),
    (banlist_apis.BanListFollowedSerializer, banlist_shapes.BanListFollowedSerializer),
    (ban_apis.BanListBansApi.OutputSerializer, banlist_shapes.BanResultSerializer),
    (ban_apis.BanListUnbanApi.OutputSerializer, banlist_shapes.UnbanResultSerializer),
    (ban_apis.ChangeSerializer, banlist_shapes.ChangeSerializer),
    (ban_apis.UserBansApi.OutputSerializer, banlist_shapes.UserBansSerializer),
    (ban_apis.BanListImportApi.OutputSerializer, banlist_shapes.ImportResultSerializer),
    (ban_apis.BanListPropagationApi.OutputSerializer, banlist_shapes.PropagationProgressSerializer),
])
def test_core_answers_in_the_shape_web_relays(core, shape):
    assert issubclass(core, shape)
    shape_fields = list(shape().fields)
    core_fields = list(core().fields)
    assert core_fields[:len(shape_fields)] == shape_fields
    for name in set(core_fields) - set(shape_fields):  # core's additions are lists' display names, never required
        assert core().fields[name].read_only, name


def test_the_ban_list_shapes_enums_are_core_s():
    """The shapes state a ban's sources and a change's kinds for web (which has no core models): core's own."""
    assert sorted(banlist_shapes.BAN_SOURCES) == sorted(Ban.Source.values)
    assert sorted(banlist_shapes.CHANGE_KINDS) == sorted(Change.Kind.values)
    narrowed = ban_apis.ChangeSerializer().fields["kind"]
    assert sorted(narrowed.choices) == sorted(banlist_shapes.CHANGE_KINDS)
