from django.contrib.auth.password_validation import MinimumLengthValidator, get_default_password_validators
from django.contrib.auth.validators import UnicodeUsernameValidator
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.common.fields import (
    ObjectIdField,
    QueryBooleanField,
    StrictBooleanField,
    StrictCharField,
    TelegramIdField,
    TelegramUsernameField,
)
from apps.common.pagination import PageQuerySerializer, paginate
from apps.common.parsing import parse_body, parse_query
from apps.common.schema import envelope, error_responses, list_envelope
from apps.common.shapes import UserSerializer

from .selectors import actor_get, user_get, user_list
from .services import user_create, user_update


def _password_field() -> StrictCharField:
    """A new password: the service applies every AUTH_PASSWORD_VALIDATORS rule; the configured minimum length is
    also the field's, so the schema states it."""
    minimum = max((validator.min_length for validator in get_default_password_validators()
                   if isinstance(validator, MinimumLengthValidator)), default=None)
    return StrictCharField(min_length=minimum, max_length=128, required=False, trim_whitespace=False)


class UserOutputSerializer(UserSerializer):
    id = ObjectIdField()


class UserListApi(APIView):
    acting_user_permissions = {"GET": "ADMIN_DASHBOARD"}  # see apps/rbac/permissions.py

    class InputSerializer(serializers.Serializer):
        username = StrictCharField(max_length=150, validators=[UnicodeUsernameValidator()])
        telegram_user_id = TelegramIdField(required=False, allow_null=True)
        telegram_username = TelegramUsernameField(required=False, allow_blank=True)
        display_name = StrictCharField(max_length=255, required=False, allow_blank=True)
        password = _password_field()
        is_active = StrictBooleanField(required=False)
        actor_user_id = ObjectIdField(required=False)

    class FilterSerializer(PageQuerySerializer):
        username = serializers.CharField(required=False)
        telegram_user_id = serializers.IntegerField(required=False, min_value=-(2**63), max_value=2**63 - 1)
        telegram_username = serializers.CharField(required=False)
        q = serializers.CharField(required=False, max_length=100)
        is_active = QueryBooleanField(required=False, allow_null=True, default=None)

    @extend_schema(operation_id="users_list", parameters=[FilterSerializer],
                   responses={200: list_envelope(UserOutputSerializer), **error_responses()})
    def get(self, request):
        filters = parse_query(self.FilterSerializer, request)
        page, limit = filters.pop("page"), filters.pop("limit")
        return Response(paginate(user_list(**filters), page=page, limit=limit, serializer_class=UserOutputSerializer))

    @extend_schema(operation_id="users_create", request=InputSerializer,
                   responses={201: envelope(UserOutputSerializer), **error_responses(404, 409)})
    def post(self, request):
        data = parse_body(self.InputSerializer, request)
        actor = actor_get(actor_user_id=data.pop("actor_user_id", None))
        user = user_create(**data, actor=actor)
        return Response(UserOutputSerializer(user).data, status=201)


class UserDetailApi(APIView):
    class PatchSerializer(UserListApi.InputSerializer):
        username = None  # fixed once created

    @extend_schema(operation_id="users_retrieve",
                   responses={200: envelope(UserOutputSerializer), **error_responses(404)})
    def get(self, request, user_id):
        return Response(UserOutputSerializer(user_get(user_id=user_id)).data)

    @extend_schema(operation_id="users_update", request=PatchSerializer,
                   responses={200: envelope(UserOutputSerializer), **error_responses(404, 409)})
    def patch(self, request, user_id):
        user = user_get(user_id=user_id)
        data = parse_body(self.PatchSerializer, request)
        actor = actor_get(actor_user_id=data.pop("actor_user_id", None))
        user = user_update(user=user, actor=actor, **data)
        return Response(UserOutputSerializer(user).data)
