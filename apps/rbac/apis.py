from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.audit.selectors import with_names
from apps.common.derivation import body_shape
from apps.common.errors import NotFoundError
from apps.common.fields import (
    ObjectIdField,
    StrictBooleanField,
    StrictCharField,
    StrictIntegerField,
    TelegramIdField,
)
from apps.common.ids import get_or_404
from apps.common.pagination import PageQuerySerializer, paginate
from apps.common.parsing import parse_body, parse_query
from apps.common.schema import at_most_one_of, envelope, error_responses, exactly_one_of, list_envelope
from apps.common.shapes import AssignmentSerializer, RoleSerializer
from apps.groups.selectors import group_get, group_resolve
from apps.users.selectors import actor_get, user_get

from .catalogue import PERMISSIONS
from .models import MAX_RANK, ROLE_NAME_PATTERN, RoleAssignment
from .scopes import BAN_LIST, scope_kind_of, scope_object_id, scope_resolve
from .selectors import (
    BAN_LIST_NOT_FOUND,
    PermissionQuery,
    assignment_list,
    assignment_status,
    permission_list,
    role_get,
    role_list,
    role_permission_codes,
    role_permission_codes_by_role,
)
from .services import permission_check, permission_check_many, role_assign, role_create, role_revoke, role_update
from .telegram_admins import anonymous_admin_get, group_admins_sync

MAX_BATCH_CHECKS = 100



@extend_schema_field({"type": "string", "enum": list(PERMISSIONS)})
class PermissionCodeField(StrictCharField):
    """A permission of the catalogue; any other code is refused with 400 unknown_permission, naming it."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 64)
        super().__init__(**kwargs)

class PermissionOutputSerializer(serializers.Serializer):
    code = serializers.CharField()
    description = serializers.CharField()


class RoleOutputSerializer(RoleSerializer):
    permissions = serializers.SerializerMethodField()

    def get_permissions(self, role) -> list[str]:
        codes_by_role = self.context.get("permission_codes")  # given by list views, to read all roles' at once
        return codes_by_role[role.pk] if codes_by_role is not None else role_permission_codes(role)


class AssignmentOutputSerializer(AssignmentSerializer):
    id = ObjectIdField()
    user_id = ObjectIdField()
    role = serializers.CharField(source="role.name")
    group_id = ObjectIdField(allow_null=True)
    ban_list_id = serializers.SerializerMethodField(help_text="The ban list whose scope it is in, else null")
    telegram_chat_id = serializers.IntegerField(source="group.telegram_chat_id", allow_null=True, default=None)
    status = serializers.SerializerMethodField()
    granted_by_user_id = ObjectIdField(source="granted_by_id", allow_null=True)
    revoked_by_user_id = ObjectIdField(source="revoked_by_id", allow_null=True)
    user_name = serializers.CharField(read_only=True, allow_null=True, default=None,
                                      help_text="The user's display name (in lists)")
    group_title = serializers.CharField(read_only=True, allow_null=True, default=None, help_text="(in lists)")
    granted_by_name = serializers.CharField(read_only=True, allow_null=True, default=None, help_text="(in lists)")

    def get_status(self, assignment) -> str:
        return assignment_status(assignment)

    def get_ban_list_id(self, assignment) -> str | None:
        return scope_object_id(assignment.scope) if scope_kind_of(assignment.scope) == BAN_LIST else None


class PermissionCatalogueApi(APIView):
    @extend_schema(operation_id="rbac_permissions_list",
                   responses={200: envelope(PermissionOutputSerializer, many=True), **error_responses()})
    def get(self, request):
        return Response(PermissionOutputSerializer(permission_list(), many=True).data)


class RoleListApi(APIView):
    acting_user_permissions = {"GET": "MANAGE_ROLES"}  # see permissions.py

    class InputSerializer(serializers.Serializer):
        name = serializers.RegexField(ROLE_NAME_PATTERN, max_length=32)
        rank = StrictIntegerField(min_value=1, max_value=MAX_RANK)
        permissions = serializers.ListField(child=PermissionCodeField(), max_length=100)
        description = StrictCharField(max_length=255, required=False, allow_blank=True, default="")
        actor_user_id = ObjectIdField(required=False)

    @extend_schema(operation_id="rbac_roles_list",
                   responses={200: envelope(RoleOutputSerializer, many=True), **error_responses()})
    def get(self, request):
        roles = list(role_list())
        context = {"permission_codes": role_permission_codes_by_role(roles)}
        return Response(RoleOutputSerializer(roles, many=True, context=context).data)

    @extend_schema(operation_id="rbac_roles_create", request=InputSerializer,
                   responses={201: envelope(RoleOutputSerializer), **error_responses(403, 404, 409)})
    def post(self, request):
        data = parse_body(self.InputSerializer, request)
        actor = actor_get(actor_user_id=data.pop("actor_user_id", None))
        role = role_create(**data, actor=actor)
        return Response(RoleOutputSerializer(role).data, status=201)


class RoleDetailApi(APIView):
    class PatchSerializer(serializers.Serializer):
        rank = StrictIntegerField(min_value=1, max_value=MAX_RANK, required=False)
        permissions = serializers.ListField(child=PermissionCodeField(), max_length=100, required=False)
        description = StrictCharField(max_length=255, required=False, allow_blank=True)
        actor_user_id = ObjectIdField(required=False)

    @extend_schema(operation_id="rbac_roles_retrieve",
                   responses={200: envelope(RoleOutputSerializer), **error_responses(404)})
    def get(self, request, name):
        return Response(RoleOutputSerializer(role_get(name=name)).data)

    @extend_schema(operation_id="rbac_roles_update", request=PatchSerializer,
                   responses={200: envelope(RoleOutputSerializer), **error_responses(403, 404)})
    def patch(self, request, name):
        role = role_get(name=name)
        data = parse_body(self.PatchSerializer, request)
        actor = actor_get(actor_user_id=data.pop("actor_user_id", None))
        return Response(RoleOutputSerializer(role_update(role=role, **data, actor=actor)).data)


class _ScopeMixin(serializers.Serializer):
    group_id = ObjectIdField(required=False)
    telegram_chat_id = TelegramIdField(required=False)
    ban_list_id = ObjectIdField(required=False,
                                help_text="A ban list's scope: its roles and the global ones count, no membership "
                                          "needed")

    schema_rules = (at_most_one_of("group_id", "telegram_chat_id", "ban_list_id"),)

    def validate(self, attrs):
        if sum(name in attrs for name in ("group_id", "telegram_chat_id", "ban_list_id")) > 1:
            raise serializers.ValidationError("Give one of group_id, telegram_chat_id or ban_list_id, not several.")
        return attrs


def _list_scope(ban_list_id) -> str | None:
    """The scope of the ban list a request names (404 when there is none), or None."""
    return None if ban_list_id is None else scope_resolve(BAN_LIST, ban_list_id)


class AssignmentListApi(APIView):
    acting_user_permissions = {"GET": "MANAGE_ROLES"}

    class InputSerializer(_ScopeMixin):
        user_id = ObjectIdField()
        role = StrictCharField(max_length=32)
        expires_at = serializers.DateTimeField(required=False, allow_null=True)
        reason = StrictCharField(max_length=255, required=False, allow_blank=True, default="")
        actor_user_id = ObjectIdField(required=False)

    class FilterSerializer(PageQuerySerializer):
        user_id = serializers.CharField(required=False)
        group_id = serializers.CharField(required=False)
        ban_list_id = serializers.CharField(required=False, help_text="Only the assignments in this list's scope")
        role = serializers.CharField(required=False)
        active = serializers.BooleanField(required=False, allow_null=True, default=None)

    @extend_schema(operation_id="rbac_assignments_list", parameters=[FilterSerializer],
                   responses={200: list_envelope(AssignmentOutputSerializer), **error_responses(404)})
    def get(self, request):
        filters = parse_query(self.FilterSerializer, request)
        page, limit = filters.pop("page"), filters.pop("limit")
        if filters.get("user_id") is not None:
            filters["user_id"] = user_get(user_id=filters["user_id"]).pk
        if filters.get("group_id") is not None:
            filters["group_id"] = group_resolve(group_id=filters["group_id"]).pk
        if filters.get("ban_list_id") is not None:
            filters["scope"] = _list_scope(filters["ban_list_id"])
        filters.pop("ban_list_id", None)
        if filters.get("role") is not None:
            role_get(name=filters["role"])
        queryset = assignment_list(**filters)
        body = paginate(queryset, page=page, limit=limit, serializer_class=AssignmentOutputSerializer)
        with_names(body["items"], users={"user_id": "user_name", "granted_by_user_id": "granted_by_name"},
                   groups={"group_id": "group_title"})
        return Response(body)

    @extend_schema(operation_id="rbac_assignments_create", request=InputSerializer,
                   responses={200: envelope(AssignmentOutputSerializer), 201: envelope(AssignmentOutputSerializer),
                              **error_responses(403, 404)})
    def post(self, request):
        data = parse_body(self.InputSerializer, request)
        assignment, created = role_assign(
            user=user_get(user_id=data["user_id"]),
            role=role_get(name=data["role"]),
            group=group_resolve(group_id=data.get("group_id"), telegram_chat_id=data.get("telegram_chat_id")),
            scope=_list_scope(data.get("ban_list_id")),
            expires_at=data.get("expires_at"),
            reason=data["reason"],
            actor=actor_get(actor_user_id=data.get("actor_user_id")),
        )
        return Response(AssignmentOutputSerializer(assignment).data, status=201 if created else 200)


class AssignmentRevokeApi(APIView):
    class InputSerializer(serializers.Serializer):
        reason = StrictCharField(max_length=255, required=False, allow_blank=True, default="")
        actor_user_id = ObjectIdField(required=False)

    @extend_schema(operation_id="rbac_assignments_revoke", request=InputSerializer,
                   responses={200: envelope(AssignmentOutputSerializer), **error_responses(403, 404, 409)})
    def post(self, request, assignment_id):
        queryset = RoleAssignment.objects.select_related("role", "group")
        assignment = get_or_404(RoleAssignment, assignment_id, label="Assignment", queryset=queryset)
        data = parse_body(self.InputSerializer, request)
        actor = actor_get(actor_user_id=data.get("actor_user_id"))
        return Response(AssignmentOutputSerializer(role_revoke(assignment=assignment, reason=data["reason"],
                                                               actor=actor)).data)


class CheckInputSerializer(_ScopeMixin):
    user_id = ObjectIdField(required=False)
    telegram_user_id = TelegramIdField(required=False)
    permission = PermissionCodeField()

    schema_rules = (*_ScopeMixin.schema_rules, exactly_one_of("user_id", "telegram_user_id"))

    def validate(self, attrs):
        attrs = super().validate(attrs)
        if ("user_id" in attrs) == ("telegram_user_id" in attrs):
            raise serializers.ValidationError("Give exactly one of user_id or telegram_user_id.")
        return attrs


# CheckInputSerializer as a plain validator, derived from it (apps.common.derivation): the serializer still
# documents the body and words every error.
CHECK_SHAPE = body_shape(CheckInputSerializer)


class CheckOutputSerializer(serializers.Serializer):
    allowed = serializers.BooleanField()
    reason = serializers.CharField(help_text="granted_by_role:<role>, or the denial's code")


def decision_body(decision) -> dict:
    return {"allowed": decision.allowed, "reason": decision.reason}


class PermissionCheckApi(APIView):
    @extend_schema(description="In a group (membership needed for a group's grants; global ones count regardless), "
                               "in a ban list's scope (ban_list_id: its roles and the global ones; 404 when there is "
                               "no such active list: in a batch, that check's reason is ban_list_not_found), or "
                               "globally.",
                   operation_id="rbac_check_permission", request=CheckInputSerializer,
                   responses={200: envelope(CheckOutputSerializer), **error_responses(404)})
    def post(self, request):
        data = parse_body(CheckInputSerializer, request, shape=CHECK_SHAPE)
        decision = permission_check(query=PermissionQuery(**data))
        if decision.reason == BAN_LIST_NOT_FOUND:  # on the trail as denied; the caller named nothing that exists
            raise NotFoundError(f"Ban list {str(data['ban_list_id'])[:40]} not found")
        return Response(decision_body(decision))


class PermissionCheckBatchApi(APIView):
    class InputSerializer(serializers.Serializer):
        checks = serializers.ListField(child=CheckInputSerializer(), min_length=1, max_length=MAX_BATCH_CHECKS)

    class OutputSerializer(serializers.Serializer):
        results = CheckOutputSerializer(many=True)

    shape = body_shape(InputSerializer)

    @extend_schema(operation_id="rbac_check_permissions", request=InputSerializer,
                   responses={200: envelope(OutputSerializer), **error_responses()})
    def post(self, request):
        data = parse_body(self.InputSerializer, request, shape=self.shape)
        decisions = permission_check_many(queries=[PermissionQuery(**check) for check in data["checks"]])
        return Response({"results": [decision_body(decision) for decision in decisions]})


class GroupAnonymousAdminApi(APIView):
    class OutputSerializer(serializers.Serializer):
        user_id = ObjectIdField(allow_null=True, help_text="Null when no administrator of the group is anonymous")

    @extend_schema(operation_id="groups_anonymous_admin",
                   responses={200: envelope(OutputSerializer), **error_responses(404)})
    def get(self, request, group_id):
        """The principal that stands for the group's anonymous admins, if the last admin sync saw any."""
        group = group_get(group_id=group_id)
        return Response(self.OutputSerializer({"user_id": anonymous_admin_get(group=group)}).data)


class AdminSyncEntrySerializer(serializers.Serializer):
    telegram_user_id = TelegramIdField()
    status = serializers.ChoiceField(choices=["creator", "administrator"])
    custom_title = StrictCharField(max_length=16, required=False, allow_blank=True)
    username = StrictCharField(max_length=33, required=False, allow_blank=True)
    display_name = StrictCharField(max_length=255, required=False, allow_blank=True)
    is_anonymous = StrictBooleanField(required=False, default=False)


class GroupAdminSyncApi(APIView):
    class InputSerializer(serializers.Serializer):
        admins = AdminSyncEntrySerializer(many=True, max_length=200)
        actor_user_id = ObjectIdField(required=False)

        def validate_admins(self, admins):
            ids = [admin["telegram_user_id"] for admin in admins]
            if len(ids) != len(set(ids)):
                raise serializers.ValidationError("Each telegram_user_id may appear once.")
            if sum(admin["status"] == "creator" for admin in admins) > 1:
                raise serializers.ValidationError("A group has at most one creator.")
            return admins

    class OutputSerializer(serializers.Serializer):
        admins = serializers.IntegerField()
        granted = serializers.ListField(child=serializers.DictField(child=serializers.CharField()))
        revoked = serializers.ListField(child=serializers.DictField(child=serializers.CharField()))

    @extend_schema(operation_id="groups_admins_sync", request=InputSerializer,
                   responses={200: envelope(OutputSerializer), **error_responses(404)})
    def post(self, request, group_id):
        group = group_get(group_id=group_id)
        data = parse_body(self.InputSerializer, request)
        actor = actor_get(actor_user_id=data.get("actor_user_id"))
        return Response(group_admins_sync(group=group, admins=data["admins"], actor=actor))
