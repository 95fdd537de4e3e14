"""The web role's REST API: parse the request, call a service, shape the answer. No rule lives here."""

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.common import shapes
from apps.common.audit_actions import ALL_ACTIONS
from apps.common.client_address import client_address
from apps.common.envelope import EnvelopeJSONRenderer
from apps.common.fields import (
    INT64_MAX,
    INT64_MIN,
    QueryBooleanField,
    StrictBooleanField,
    StrictCharField,
    StrictIntegerField,
)
from apps.common.pagination import PageQuerySerializer
from apps.common.parsing import parse_body, parse_query
from apps.common.schema import envelope

from . import schema, services
from .choices import (
    AUDIT_RESULTS,
    CAPTCHA_FAILURE_ACTIONS,
    CAPTCHA_MODES,
    FLOOD_ACTIONS,
    MEMBER_STATUSES,
    MODERATION_STATUSES,
    MODERATION_TYPES,
    RAID_ACTIONS,
)

GROUP_SORTS = ["title", "created", "members", "messages"]
OBJECT_ID = {"max_length": 64}


def web_list(page: dict) -> Response:
    """Core's page (items, total, page, limit) in web's list shape, at the top level of the envelope."""
    response = Response({"success": True, "data": page["items"], "total": page["total"], "page": page["page"],
                         "limit": page["limit"]})
    response.raw_body = True
    return response


# -- authentication


class TokenPairSerializer(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()
    token_type = serializers.CharField(default="Bearer")
    access_expires_at = serializers.DateTimeField()
    refresh_expires_at = serializers.DateTimeField()
    user = inline_serializer("TokenUser", {"id": serializers.CharField(), "username": serializers.CharField(),
                                           "display_name": serializers.CharField(),
                                           "is_staff": serializers.BooleanField()})


class _OpenApi(APIView):
    """Login, refresh and logout carry their credential in the body: a stale bearer header must not stop them."""

    authentication_classes: list = []
    permission_classes = [AllowAny]


class LoginApi(_OpenApi):
    class InputSerializer(serializers.Serializer):
        username = StrictCharField(max_length=150)
        password = StrictCharField(max_length=4096, trim_whitespace=False)

    @extend_schema(operation_id="auth_login", request=InputSerializer, auth=[],
                   responses={200: envelope(TokenPairSerializer), **schema.web_errors(400, 401, 429, 503)})
    def post(self, request):
        data = parse_body(self.InputSerializer, request)
        return Response(services.login(username=data["username"], password=data["password"],
                                       client_ip=client_address(request)))


class _RefreshInputSerializer(serializers.Serializer):
    refresh = StrictCharField(max_length=4096)


class RefreshApi(_OpenApi):
    @extend_schema(operation_id="auth_refresh", request=_RefreshInputSerializer, auth=[],
                   responses={200: envelope(TokenPairSerializer), **schema.web_errors(400, 401, 503)})
    def post(self, request):
        data = parse_body(_RefreshInputSerializer, request)
        return Response(services.refresh(refresh_token=data["refresh"]))


class LogoutApi(_OpenApi):
    class OutputSerializer(serializers.Serializer):
        revoked = serializers.BooleanField()

    @extend_schema(operation_id="auth_logout", request=_RefreshInputSerializer, auth=[],
                   responses={200: envelope(OutputSerializer), **schema.web_errors(400, 401, 503)})
    def post(self, request):
        data = parse_body(_RefreshInputSerializer, request)
        return Response(services.logout(refresh_token=data["refresh"]))


class MeApi(APIView):
    class OutputSerializer(serializers.Serializer):
        user = inline_serializer("MeUser", {"id": serializers.CharField(), "username": serializers.CharField(),
                                            "display_name": serializers.CharField(),
                                            "is_active": serializers.BooleanField(),
                                            "is_staff": serializers.BooleanField()})
        permissions = serializers.ListField(child=serializers.CharField(), help_text="Held globally")

    @extend_schema(operation_id="me", responses={200: envelope(OutputSerializer)})
    def get(self, request):
        return Response(services.me(request.user))


# -- groups and users


class GroupListApi(APIView):
    class FilterSerializer(PageQuerySerializer):
        active = serializers.BooleanField(required=False, allow_null=True, default=None)
        q = serializers.CharField(required=False, max_length=100)
        sort = serializers.ChoiceField(required=False, default="title",
                                       choices=[*GROUP_SORTS, *(f"-{name}" for name in GROUP_SORTS)])

    @extend_schema(operation_id="groups_list", parameters=[FilterSerializer],
                   responses={200: schema.web_list(shapes.GroupSerializer)})
    def get(self, request):
        return web_list(services.group_list(request.user, **parse_query(self.FilterSerializer, request)))


class GroupDetailApi(APIView):
    @extend_schema(operation_id="groups_retrieve",
                   responses={200: envelope(shapes.GroupSerializer), **schema.web_errors(404)})
    def get(self, request, group_id):
        return Response(services.group_get(request.user, group_id))


class GroupMemberListApi(APIView):
    class FilterSerializer(PageQuerySerializer):
        status = serializers.ChoiceField(required=False, choices=MEMBER_STATUSES)

    @extend_schema(operation_id="groups_members_list", parameters=[FilterSerializer],
                   responses={200: schema.web_list(shapes.MemberSerializer), **schema.web_errors(404)})
    def get(self, request, group_id):
        filters = parse_query(self.FilterSerializer, request)
        return web_list(services.group_members(request.user, group_id, **filters))


class UserListApi(APIView):
    class FilterSerializer(PageQuerySerializer):
        q = serializers.CharField(required=False, max_length=100, help_text="In username, display name, @username")
        username = serializers.CharField(required=False, max_length=150)
        telegram_username = serializers.CharField(required=False, max_length=33)
        is_active = QueryBooleanField(required=False, allow_null=True, default=None)

    @extend_schema(operation_id="users_list", parameters=[FilterSerializer],
                   responses={200: schema.web_list(shapes.UserSerializer)})
    def get(self, request):
        return web_list(services.user_list(request.user, **parse_query(self.FilterSerializer, request)))


class UserDetailApi(APIView):
    @extend_schema(operation_id="users_retrieve",
                   responses={200: envelope(shapes.UserSerializer), **schema.web_errors(404)})
    def get(self, request, user_id):
        return Response(services.user_get(request.user, user_id))


# -- a group's protection settings

# What a PATCH may not change: who the settings belong to, their version (core's), and raid mode (switched on its
# own: POST .../protection/raid in core).
# The content rules the settings view shows (locks, blocklist, filters, note names) have endpoints of their own.
PROTECTION_READ_ONLY = frozenset({"group_id", "telegram_chat_id", "title", "version", "raid_until", "locks",
                                  "blocklist", "filters", "notes", "ban_lists"})
# The bounds core's PATCH declares (apps/protection/apis.py; tests/dashboard/test_protection_schema.py holds web's
# declaration to core's), so that web's schema says what core enforces.
PROTECTION_RANGES = {
    "captcha_timeout_seconds": (30, 86400), "captcha_max_attempts": (1, 10), "flood_limit": (0, 100),
    "flood_window_seconds": (1, 3600), "flood_action_duration_seconds": (30, 366 * 86400),
    "raid_join_limit": (2, 1000), "raid_window_seconds": (1, 3600), "raid_duration_minutes": (1, 10080),
    "log_chat_id": (INT64_MIN, INT64_MAX), "blocklist_action_duration_seconds": (30, 366 * 86400),
}
PROTECTION_CHOICES = {"captcha_mode": CAPTCHA_MODES, "captcha_failure_action": CAPTCHA_FAILURE_ACTIONS,
                      "flood_action": FLOOD_ACTIONS, "raid_action": RAID_ACTIONS, "blocklist_action": FLOOD_ACTIONS}
MAX_DISABLED_COMMANDS = 200  # core's (apps/protection/services.py)


class CommandNameField(serializers.RegexField):
    """A bot command's name (1 to 32 of a-z, 0-9 and _), "/" optional, any case: sent lowercase without the "/"
    (core keeps it so)."""

    default_error_messages = {"invalid": "A command name: 1 to 32 of a-z, 0-9 and _ (a / before it is optional)."}

    def __init__(self, **kwargs):
        super().__init__(regex=r"^/?[A-Za-z0-9_]{1,32}$", trim_whitespace=False, **kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data).lstrip("/").lower()


def _protection_patch_serializer() -> type[serializers.Serializer]:
    """The PATCH body: every editable field of core's ProtectionSettings shape, optional, with core's types, bounds
    and choices (the rules between fields are core's: its validation_error names the fields), and
    expected_version."""
    fields: dict = {}
    for name, field in shapes.ProtectionSettingsSerializer().fields.items():
        if name in PROTECTION_READ_ONLY:
            continue
        options = {"required": False, "help_text": field.help_text}
        if field.allow_null:
            options["allow_null"] = True
        if isinstance(field, serializers.BooleanField):
            fields[name] = StrictBooleanField(**options)
        elif isinstance(field, serializers.ListField):  # disabled_commands
            fields[name] = serializers.ListField(child=CommandNameField(), max_length=MAX_DISABLED_COMMANDS,
                                                 **options)
        elif name in PROTECTION_CHOICES:
            fields[name] = serializers.ChoiceField(choices=PROTECTION_CHOICES[name], **options)
        elif isinstance(field, serializers.IntegerField):
            low, high = PROTECTION_RANGES[name]
            fields[name] = StrictIntegerField(min_value=low, max_value=high, **options)
        else:
            fields[name] = StrictCharField(max_length=4096, allow_blank=True, trim_whitespace=False, **options)
    fields["expected_version"] = StrictIntegerField(
        required=False, min_value=1, help_text="The version the edit is based on (GET's version): when someone "
                                               "saved since, nothing is written and the answer is 409 conflict")
    return type("WebProtectionPatch", (serializers.Serializer,), fields)


class GroupProtectionApi(APIView):
    InputSerializer = _protection_patch_serializer()

    @extend_schema(operation_id="groups_protection_retrieve",
                   responses={200: envelope(shapes.ProtectionSettingsSerializer), **schema.web_errors(404)},
                   description="Needs VIEW_GROUPS in the group (or globally).")
    def get(self, request, group_id):
        return Response(services.protection_get(request.user, group_id))

    @extend_schema(operation_id="groups_protection_update", request=InputSerializer,
                   responses={200: envelope(shapes.ProtectionSettingsSerializer), **schema.web_errors(404, 409)},
                   description="Changes the fields given, as the token user: core checks MANAGE_SETTINGS in the group "
                               "(403 permission_denied naming it), validates the values (400 validation_error "
                               "with details per field) and refuses a stale expected_version (409 conflict). "
                               "Nothing is written on any refusal; a change is audited as protection.update.")
    def patch(self, request, group_id):
        data = dict(parse_body(self.InputSerializer, request))
        return Response(services.protection_update(request.user, group_id, **data))


# -- roles and assignments


class RoleListApi(APIView):
    @extend_schema(operation_id="roles_list", responses={200: schema.web_list(shapes.RoleSerializer)})
    def get(self, request):
        roles = services.role_list(request.user)
        return web_list({"items": roles, "total": len(roles), "page": 1, "limit": max(len(roles), 1)})


class AssignmentListApi(APIView):
    class FilterSerializer(PageQuerySerializer):
        user_id = serializers.CharField(required=False, **OBJECT_ID)
        group_id = serializers.CharField(required=False, **OBJECT_ID)
        role = serializers.CharField(required=False, max_length=32)
        active = serializers.BooleanField(required=False, allow_null=True, default=None)

    class InputSerializer(serializers.Serializer):
        user_id = StrictCharField(**OBJECT_ID)
        role = StrictCharField(max_length=32)
        group_id = StrictCharField(required=False, **OBJECT_ID, help_text="Omit for a global grant")
        expires_at = serializers.DateTimeField(required=False, allow_null=True)
        reason = StrictCharField(max_length=255, required=False, allow_blank=True, default="")

    @extend_schema(operation_id="assignments_list", parameters=[FilterSerializer],
                   responses={200: schema.web_list(shapes.AssignmentSerializer), **schema.web_errors(404)})
    def get(self, request):
        return web_list(services.assignment_list(request.user, **parse_query(self.FilterSerializer, request)))

    @extend_schema(operation_id="assignments_grant", request=InputSerializer,
                   responses={200: envelope(shapes.AssignmentSerializer), **schema.web_errors(404)},
                   description="Grants as the token user: core's rank rule applies (403 rank_violation).")
    def post(self, request):
        data = parse_body(self.InputSerializer, request)
        return Response(services.assignment_grant(request.user, **data))


class AssignmentRevokeApi(APIView):
    class InputSerializer(serializers.Serializer):
        reason = StrictCharField(max_length=255, required=False, allow_blank=True, default="")
        group_id = StrictCharField(required=False, **OBJECT_ID,
                                   help_text="The assignment's group, for a group admin's permission check")

    @extend_schema(operation_id="assignments_revoke", request=InputSerializer,
                   responses={200: envelope(shapes.AssignmentSerializer), **schema.web_errors(404, 409)},
                   description="Revokes as the token user: core's rank rule applies (403 rank_violation).")
    def post(self, request, assignment_id):
        data = parse_body(self.InputSerializer, request)
        return Response(services.assignment_revoke(request.user, assignment_id, **data))


# -- audit, moderation, stats


class AuditFilterSerializer(serializers.Serializer):
    actor_user_id = serializers.CharField(required=False, **OBJECT_ID)
    service = serializers.CharField(required=False, max_length=64)
    action = serializers.ChoiceField(required=False, choices=ALL_ACTIONS)
    result = serializers.ChoiceField(required=False, choices=AUDIT_RESULTS)
    group_id = serializers.CharField(required=False, **OBJECT_ID)
    since = serializers.DateTimeField(required=False)
    until = serializers.DateTimeField(required=False)

    def validate(self, attrs):
        if attrs.get("since") and attrs.get("until") and attrs["since"] >= attrs["until"]:
            raise serializers.ValidationError("since must be before until.")
        return attrs


class AuditListApi(APIView):
    class FilterSerializer(AuditFilterSerializer):
        cursor = serializers.IntegerField(required=False, min_value=1, help_text="next_cursor of the previous page")
        limit = serializers.IntegerField(required=False, min_value=1, max_value=200, default=50)

    @extend_schema(operation_id="audit_list", parameters=[FilterSerializer],
                   responses={200: schema.cursor_list(shapes.AuditEventSerializer)})
    def get(self, request):
        page = services.audit_list(request.user, **parse_query(self.FilterSerializer, request))
        response = Response({"success": True, "data": page["items"], "limit": page["limit"],
                             "next_cursor": page["next_cursor"]})
        response.raw_body = True
        return response


class CsvRenderer(EnvelopeJSONRenderer):
    """Lets browsers ask for text/csv; errors are switched back to JSON below."""

    media_type = "text/csv"
    format = "csv"


class AuditCsvApi(APIView):
    renderer_classes = [EnvelopeJSONRenderer, CsvRenderer]

    def handle_exception(self, exc):
        response = super().handle_exception(exc)
        self.request.accepted_renderer, self.request.accepted_media_type = EnvelopeJSONRenderer(), "application/json"
        return response

    @extend_schema(operation_id="audit_csv", parameters=[AuditFilterSerializer],
                   responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="CSV, newest first, "
                                                                "streamed from core")})
    def get(self, request):
        chunks = services.audit_csv(request.user, **parse_query(AuditFilterSerializer, request))
        response = StreamingHttpResponse(chunks, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="audit-events.csv"'
        return response


class ModerationListApi(APIView):
    class FilterSerializer(PageQuerySerializer):
        group_id = serializers.CharField(required=False, **OBJECT_ID)
        actor_user_id = serializers.CharField(required=False, **OBJECT_ID)
        target_user_id = serializers.CharField(required=False, **OBJECT_ID)
        type = serializers.ChoiceField(required=False, choices=MODERATION_TYPES, help_text="Core's catalogue")
        status = serializers.ChoiceField(required=False, choices=MODERATION_STATUSES)
        since = serializers.DateTimeField(required=False)
        until = serializers.DateTimeField(required=False)
        automated = serializers.BooleanField(required=False, allow_null=True, default=None,
                                             help_text="true: only automated actions (actor system:<rule>); false: "
                                                       "only manual ones")
        rule = serializers.CharField(required=False, max_length=32,
                                     help_text="Only the actions of this automated protection (antiflood...)")

    @extend_schema(operation_id="moderation_list", parameters=[FilterSerializer],
                   responses={200: schema.web_list(shapes.ModerationActionSerializer), **schema.web_errors(404)})
    def get(self, request):
        return web_list(services.moderation_list(request.user, **parse_query(self.FilterSerializer, request)))


class StatsApi(APIView):
    class FilterSerializer(serializers.Serializer):
        group_id = serializers.CharField(required=False, **OBJECT_ID,
                                         help_text="Per-group series instead of the platform overview")
        since = serializers.DateTimeField(required=False)
        until = serializers.DateTimeField(required=False)
        bucket = serializers.ChoiceField(required=False, choices=["hour", "day"])

        def validate(self, attrs):
            if "group_id" not in attrs and set(attrs) & {"since", "until", "bucket"}:
                raise serializers.ValidationError("since, until and bucket apply to a group's series: give group_id.")
            return attrs

    @extend_schema(operation_id="stats", parameters=[FilterSerializer],
                   responses={200: envelope(schema.StatsSerializer), **schema.web_errors(404)})
    def get(self, request):
        query = parse_query(self.FilterSerializer, request)
        group_id = query.pop("group_id", None)
        if group_id is None:
            return Response({"overview": services.stats_overview(request.user)})
        return Response({"group": services.stats_group(request.user, group_id, **query)})
