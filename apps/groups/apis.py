from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.common.fields import (
    INT64_MAX,
    INT64_MIN,
    ObjectIdField,
    StrictBooleanField,
    StrictCharField,
    StrictIntegerField,
    TelegramIdField,
)
from apps.common.pagination import PageQuerySerializer, paginate
from apps.common.parsing import parse_body, parse_query
from apps.common.plain import PlainRows
from apps.common.schema import envelope, error_responses, list_envelope
from apps.common.shapes import GroupSerializer, MemberSerializer
from apps.users.selectors import actor_get, user_get

from .models import (
    MAX_RESTRICTION_SECONDS,
    MAX_WARN_EXPIRY_SECONDS,
    MIN_RESTRICTION_SECONDS,
    MIN_WARN_EXPIRY_SECONDS,
    Group,
    Membership,
    is_timezone_name,
)
from .selectors import (
    GROUP_SORTS,
    group_get,
    group_get_by_chat,
    group_page,
    membership_get,
    membership_list,
)
from .services import group_migrate, group_register, group_update, membership_set


class GroupOutputSerializer(GroupSerializer):
    id = ObjectIdField()
    type = serializers.ChoiceField(choices=Group.Type.choices)
    warn_action = serializers.ChoiceField(choices=Group.WarnAction.choices)


def timezone_name_validator(value: str) -> None:
    if not is_timezone_name(value):
        raise serializers.ValidationError("Unknown time zone: give an IANA name such as Europe/Berlin.")


GROUP_ROWS = PlainRows(GroupOutputSerializer)


class MembershipOutputSerializer(MemberSerializer):
    group_id = ObjectIdField()
    user_id = ObjectIdField()
    username = serializers.CharField(source="user.username")
    telegram_user_id = serializers.IntegerField(source="user.telegram_user_id", allow_null=True)
    telegram_username = serializers.CharField(source="user.telegram_username")
    display_name = serializers.CharField(source="user.display_name")
    status = serializers.ChoiceField(choices=Membership.Status.choices)


class GroupListApi(APIView):
    acting_user_permissions = {"GET": "VIEW_GROUPS"}  # see apps/rbac/permissions.py

    class InputSerializer(serializers.Serializer):
        telegram_chat_id = TelegramIdField()
        title = StrictCharField(max_length=255)
        type = serializers.ChoiceField(choices=Group.Type.choices)
        actor_user_id = ObjectIdField(required=False)

    class FilterSerializer(PageQuerySerializer):
        active = serializers.BooleanField(required=False, allow_null=True, default=None)
        q = serializers.CharField(required=False, max_length=100)
        sort = serializers.ChoiceField(
            required=False, default="title", choices=[*GROUP_SORTS, *(f"-{name}" for name in GROUP_SORTS)]
        )

    @extend_schema(operation_id="groups_list", parameters=[FilterSerializer],
                   responses={200: list_envelope(GroupOutputSerializer), **error_responses()})
    def get(self, request):
        filters = parse_query(self.FilterSerializer, request)
        page, limit = filters.pop("page"), filters.pop("limit")
        items, total = group_page(columns=GROUP_ROWS.columns, page=page, limit=limit, **filters)
        return Response({"items": GROUP_ROWS(items), "total": total, "page": page, "limit": limit})

    @extend_schema(operation_id="groups_register", request=InputSerializer,
                   responses={200: envelope(GroupOutputSerializer), 201: envelope(GroupOutputSerializer),
                              **error_responses(404)})
    def post(self, request):
        data = parse_body(self.InputSerializer, request)
        actor = actor_get(actor_user_id=data.pop("actor_user_id", None))
        group, created = group_register(**data, actor=actor)
        return Response(GroupOutputSerializer(group).data, status=201 if created else 200)


class GroupDetailApi(APIView):
    # A service's read for its user is authorized in the group read (apps/rbac/permissions.py).
    acting_user_permissions = {"GET": "VIEW_GROUPS"}
    acting_user_group_kwarg = "group_id"

    class PatchSerializer(serializers.Serializer):
        title = StrictCharField(max_length=255, required=False)
        is_active = StrictBooleanField(required=False)
        warn_limit = StrictIntegerField(min_value=1, max_value=100, required=False)
        warn_action = serializers.ChoiceField(choices=Group.WarnAction.choices, required=False)
        warn_action_duration_seconds = StrictIntegerField(
            min_value=MIN_RESTRICTION_SECONDS, max_value=MAX_RESTRICTION_SECONDS, required=False, allow_null=True
        )
        warn_expiry_seconds = StrictIntegerField(
            min_value=MIN_WARN_EXPIRY_SECONDS, max_value=MAX_WARN_EXPIRY_SECONDS, required=False, allow_null=True,
            help_text="Warnings older than this no longer count; null: they never expire"
        )
        welcome_text = StrictCharField(max_length=4096, required=False, allow_blank=True, trim_whitespace=False)
        rules_text = StrictCharField(max_length=4096, required=False, allow_blank=True, trim_whitespace=False)
        log_chat_id = TelegramIdField(required=False, allow_null=True)
        timezone = StrictCharField(max_length=64, required=False, validators=[timezone_name_validator],
                                   help_text="IANA time zone name (Europe/Berlin); the default is UTC")
        weekly_digest = StrictBooleanField(required=False, help_text="Post last week's figures to the log chat "
                                                                     "every Monday (the group's clock)")
        actor_user_id = ObjectIdField(required=False)

    @extend_schema(operation_id="groups_retrieve",
                   responses={200: envelope(GroupOutputSerializer), **error_responses(404)})
    def get(self, request, group_id):
        return Response(GroupOutputSerializer(group_get(group_id=group_id)).data)

    @extend_schema(operation_id="groups_update", request=PatchSerializer,
                   responses={200: envelope(GroupOutputSerializer), **error_responses(404)})
    def patch(self, request, group_id):
        group = group_get(group_id=group_id)
        data = parse_body(self.PatchSerializer, request)
        actor = actor_get(actor_user_id=data.pop("actor_user_id", None))
        return Response(GroupOutputSerializer(group_update(group=group, actor=actor, **data)).data)


class GroupByChatApi(APIView):
    @extend_schema(operation_id="groups_by_chat",
                   parameters=[OpenApiParameter("telegram_chat_id", int, OpenApiParameter.PATH)],
                   responses={200: envelope(GroupOutputSerializer), **error_responses(404)})
    def get(self, request, telegram_chat_id):
        try:
            chat_id = int(telegram_chat_id)
        except ValueError:
            raise serializers.ValidationError({"telegram_chat_id": ["Must be an integer."]}) from None
        if not INT64_MIN <= chat_id <= INT64_MAX:
            raise serializers.ValidationError({"telegram_chat_id": ["Out of the 64-bit range."]})
        return Response(GroupOutputSerializer(group_get_by_chat(telegram_chat_id=chat_id)).data)


class GroupMigrateApi(APIView):
    class InputSerializer(serializers.Serializer):
        new_telegram_chat_id = TelegramIdField()
        actor_user_id = ObjectIdField(required=False)

    @extend_schema(operation_id="groups_migrate", request=InputSerializer,
                   responses={200: envelope(GroupOutputSerializer), **error_responses(404, 409)})
    def post(self, request, group_id):
        group = group_get(group_id=group_id)
        data = parse_body(self.InputSerializer, request)
        actor = actor_get(actor_user_id=data.get("actor_user_id"))
        group = group_migrate(group=group, new_telegram_chat_id=data["new_telegram_chat_id"], actor=actor)
        return Response(GroupOutputSerializer(group).data)


class GroupMemberListApi(APIView):
    acting_user_permissions = {"GET": "VIEW_GROUPS"}  # in the group read: apps/rbac/permissions.py
    acting_user_group_kwarg = "group_id"

    class InputSerializer(serializers.Serializer):
        user_id = ObjectIdField()
        status = serializers.ChoiceField(choices=Membership.Status.choices, default=Membership.Status.MEMBER)
        is_admin = StrictBooleanField(required=False)
        custom_title = StrictCharField(max_length=16, required=False, allow_blank=True)
        actor_user_id = ObjectIdField(required=False)

    class FilterSerializer(PageQuerySerializer):
        status = serializers.ChoiceField(
            required=False, choices=[*Membership.Status.choices, ("present", "Present: member or restricted")],
            help_text="present: the members the group's member_count counts")

    @extend_schema(operation_id="groups_members_list", parameters=[FilterSerializer],
                   responses={200: list_envelope(MembershipOutputSerializer), **error_responses(404)})
    def get(self, request, group_id):
        group = group_get(group_id=group_id)
        filters = parse_query(self.FilterSerializer, request)
        queryset = membership_list(group=group, status=filters.get("status"))
        return Response(paginate(queryset, page=filters["page"], limit=filters["limit"],
                                 serializer_class=MembershipOutputSerializer))

    @extend_schema(operation_id="groups_members_set", request=InputSerializer,
                   responses={200: envelope(MembershipOutputSerializer), **error_responses(404)})
    def post(self, request, group_id):
        group = group_get(group_id=group_id)
        data = parse_body(self.InputSerializer, request)
        user = user_get(user_id=data.pop("user_id"))
        actor = actor_get(actor_user_id=data.pop("actor_user_id", None))
        return Response(MembershipOutputSerializer(membership_set(group=group, user=user, actor=actor, **data)).data)


class GroupMemberDetailApi(APIView):
    class PatchSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=Membership.Status.choices, required=False)
        is_admin = StrictBooleanField(required=False)
        custom_title = StrictCharField(max_length=16, required=False, allow_blank=True)
        actor_user_id = ObjectIdField(required=False)

    @extend_schema(operation_id="groups_members_retrieve",
                   responses={200: envelope(MembershipOutputSerializer), **error_responses(404)})
    def get(self, request, group_id, user_id):
        return Response(MembershipOutputSerializer(membership_get(group=group_get(group_id=group_id),
                                                                  user_id=user_id)).data)

    @extend_schema(operation_id="groups_members_update", request=PatchSerializer,
                   responses={200: envelope(MembershipOutputSerializer), **error_responses(404)})
    def patch(self, request, group_id, user_id):
        membership = membership_get(group=group_get(group_id=group_id), user_id=user_id)
        data = parse_body(self.PatchSerializer, request)
        actor = actor_get(actor_user_id=data.pop("actor_user_id", None))
        membership = membership_set(group=membership.group, user=membership.user, actor=actor, **data)
        return Response(MembershipOutputSerializer(membership).data)
