from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.common.fields import ObjectIdField, StrictCharField, TelegramIdField
from apps.common.parsing import parse_body
from apps.common.schema import envelope, error_responses
from apps.users.selectors import actor_get, user_get

from .models import Group, Membership
from .selectors import group_get
from .services import group_register, membership_set


class GroupOutputSerializer(serializers.Serializer):
    id = ObjectIdField()
    telegram_chat_id = serializers.IntegerField()
    title = serializers.CharField()
    type = serializers.ChoiceField(choices=Group.Type.choices)
    is_active = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class MembershipOutputSerializer(serializers.Serializer):
    group_id = ObjectIdField()
    user_id = ObjectIdField()
    status = serializers.ChoiceField(choices=Membership.Status.choices)
    joined_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class GroupListApi(APIView):
    class InputSerializer(serializers.Serializer):
        telegram_chat_id = TelegramIdField()
        title = StrictCharField(max_length=255)
        type = serializers.ChoiceField(choices=Group.Type.choices)
        actor_user_id = ObjectIdField(required=False)

    @extend_schema(operation_id="groups_register", request=InputSerializer,
                   responses={200: envelope(GroupOutputSerializer), 201: envelope(GroupOutputSerializer),
                              **error_responses(404)})
    def post(self, request):
        data = parse_body(self.InputSerializer, request)
        actor = actor_get(actor_user_id=data.pop("actor_user_id", None))
        group, created = group_register(**data, actor=actor)
        return Response(GroupOutputSerializer(group).data, status=201 if created else 200)


class GroupDetailApi(APIView):
    @extend_schema(operation_id="groups_retrieve",
                   responses={200: envelope(GroupOutputSerializer), **error_responses(404)})
    def get(self, request, group_id):
        return Response(GroupOutputSerializer(group_get(group_id=group_id)).data)


class GroupMemberListApi(APIView):
    class InputSerializer(serializers.Serializer):
        user_id = ObjectIdField()
        status = serializers.ChoiceField(choices=Membership.Status.choices, default=Membership.Status.MEMBER)
        actor_user_id = ObjectIdField(required=False)

    @extend_schema(operation_id="groups_members_set", request=InputSerializer,
                   responses={200: envelope(MembershipOutputSerializer), **error_responses(404)})
    def post(self, request, group_id):
        group = group_get(group_id=group_id)
        data = parse_body(self.InputSerializer, request)
        user = user_get(user_id=data["user_id"])
        actor = actor_get(actor_user_id=data.get("actor_user_id"))
        membership = membership_set(group=group, user=user, status=data["status"], actor=actor)
        return Response(MembershipOutputSerializer(membership).data)
