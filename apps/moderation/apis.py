from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.audit.selectors import with_names
from apps.common.derivation import body_shape
from apps.common.fields import ObjectIdField, StrictCharField, TelegramIdField, TelegramUsernameField
from apps.common.pagination import PageQuerySerializer, paginate
from apps.common.parsing import parse_body, parse_query
from apps.common.schema import any_of, at_most_one_of, envelope, error_responses, exactly_one_of, implies, list_envelope
from apps.common.shapes import ModerationActionSerializer
from apps.groups.selectors import group_get, group_resolve
from apps.rbac.apis import PermissionCodeField
from apps.users.selectors import actor_get, user_by_telegram_username, user_get
from apps.users.services import user_ensure_telegram

from .models import ModerationAction
from .selectors import (
    moderation_action_get,
    moderation_action_list,
    warning_active_count,
    warning_get,
    warning_list,
)
from .services import (
    moderation_action_complete,
    moderation_action_record,
    moderation_actor_authorize,
    moderation_target_authorize,
    warning_remove,
    warnings_reset,
)


class ActionOutputSerializer(ModerationActionSerializer):
    id = ObjectIdField()
    type = serializers.ChoiceField(choices=ModerationAction.Type.choices)
    group_id = ObjectIdField()
    actor_user_id = ObjectIdField(source="actor_id", allow_null=True)
    target_user_id = ObjectIdField(source="target_id", allow_null=True)
    status = serializers.ChoiceField(choices=ModerationAction.Status.choices)
    actor_name = serializers.CharField(read_only=True, allow_null=True, default=None,
                                       help_text="The actor's display name (in lists)")
    target_name = serializers.CharField(read_only=True, allow_null=True, default=None,
                                        help_text="The target's display name (in lists)")
    group_title = serializers.CharField(read_only=True, allow_null=True, default=None, help_text="(in lists)")

    def to_representation(self, instance):
        data = super().to_representation(instance)
        return automated_actor_name(data)


def automated_actor_name(item: dict) -> dict:
    """An automated action's actor is its rule: "system:antiflood"."""
    if item.get("rule"):
        item["actor_name"] = f"system:{item['rule']}"
    return item


class RequiredActionSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["ban", "kick", "mute"])
    duration_seconds = serializers.IntegerField(allow_null=True)


class WarningStateSerializer(serializers.Serializer):
    active_warnings = serializers.IntegerField()
    warn_limit = serializers.IntegerField()
    limit_reached = serializers.SerializerMethodField()
    required_action = RequiredActionSerializer(allow_null=True)

    def get_limit_reached(self, outcome) -> bool:
        return outcome.required_action is not None


class WarningOutputSerializer(serializers.Serializer):
    id = ObjectIdField()
    group_id = ObjectIdField()
    user_id = ObjectIdField()
    action_id = ObjectIdField(allow_null=True)
    issued_by_user_id = ObjectIdField(source="issued_by_id", allow_null=True)
    reason = serializers.CharField()
    created_at = serializers.DateTimeField()
    removed_at = serializers.DateTimeField(allow_null=True)
    removed_by_user_id = ObjectIdField(source="removed_by_id", allow_null=True)
    remove_reason = serializers.CharField()


class ActionListApi(APIView):
    class InputSerializer(serializers.Serializer):
        type = serializers.ChoiceField(choices=ModerationAction.Type.choices)
        group_id = ObjectIdField(required=False)
        telegram_chat_id = TelegramIdField(required=False)
        actor_user_id = ObjectIdField(required=False)
        target_user_id = ObjectIdField(required=False)
        # Telegram ids instead of core ids (the bot's view): unknown accounts are created on first sight.
        actor_telegram_user_id = TelegramIdField(required=False)
        target_telegram_user_id = TelegramIdField(required=False)
        target_telegram_username = TelegramUsernameField(
            required=False, help_text="The target by @username: the one Telegram account core knows by it; none: "
                                      "404 unknown_target (after the permission, when one is given).")
        reason = StrictCharField(max_length=1024, required=False, allow_blank=True, default="")
        until = serializers.DateTimeField(required=False, allow_null=True)
        telegram_message_id = TelegramIdField(required=False, allow_null=True)
        details = serializers.DictField(required=False)
        permission = PermissionCodeField(
            required=False,
            help_text="The permission the actor must hold in the group: core checks it (on the audit trail, as "
                      "check-permission does) and refuses the request with 403 permission_denied before recording "
                      "anything. Saves the caller a separate check before the request. With a permission, the actor "
                      "must also outrank the target in the group (a Telegram administrator counts at least as an "
                      "admin): otherwise 403 rank_violation, nothing recorded.")

        schema_rules = (
            exactly_one_of("group_id", "telegram_chat_id"),
            implies({"required": ["permission"]}, any_of("actor_user_id", "actor_telegram_user_id")),
            at_most_one_of("actor_user_id", "actor_telegram_user_id"),
            at_most_one_of("target_user_id", "target_telegram_user_id", "target_telegram_username"),
            implies({"properties": {"type": {"enum": sorted(ModerationAction.TARGETS_A_USER)}}},
                    any_of("target_user_id", "target_telegram_user_id", "target_telegram_username")),
            implies({"required": ["until"], "properties": {"until": {"not": {"enum": [None]}}}},
                    {"not": {"properties": {"type": {"enum": sorted(set(ModerationAction.Type)
                                                                    - ModerationAction.MAY_BE_TEMPORARY)}}}}),
        )

        def validate(self, attrs):
            if ("group_id" in attrs) == ("telegram_chat_id" in attrs):
                raise serializers.ValidationError("Give exactly one of group_id or telegram_chat_id.")
            if "permission" in attrs and "actor_user_id" not in attrs and "actor_telegram_user_id" not in attrs:
                raise serializers.ValidationError("A permission is checked for an actor: give actor_user_id or "
                                                  "actor_telegram_user_id.")
            for role in ("actor", "target"):
                if f"{role}_user_id" in attrs and f"{role}_telegram_user_id" in attrs:
                    raise serializers.ValidationError(f"Give {role}_user_id or {role}_telegram_user_id, not both.")
            if "target_telegram_username" in attrs and ("target_user_id" in attrs
                                                         or "target_telegram_user_id" in attrs):
                raise serializers.ValidationError("Give one of target_user_id, target_telegram_user_id or "
                                                  "target_telegram_username.")
            return attrs

    class OutputSerializer(serializers.Serializer):
        action = ActionOutputSerializer()
        warnings = WarningStateSerializer(allow_null=True)
        target_telegram_user_id = serializers.IntegerField(allow_null=True, help_text="The target's Telegram id")

    class FilterSerializer(PageQuerySerializer):
        group_id = serializers.CharField(required=False)
        actor_user_id = serializers.CharField(required=False)
        target_user_id = serializers.CharField(required=False)
        type = serializers.ChoiceField(required=False, choices=ModerationAction.Type.choices)
        status = serializers.ChoiceField(required=False, choices=ModerationAction.Status.choices)
        since = serializers.DateTimeField(required=False)
        until = serializers.DateTimeField(required=False)
        automated = serializers.BooleanField(required=False, allow_null=True, default=None,
                                             help_text="true: only automated actions (with a rule); false: only "
                                                       "manual ones")
        rule = serializers.CharField(required=False, max_length=32,
                                     help_text="Only the actions of this automated protection (antiflood...)")

    @extend_schema(operation_id="moderation_actions_list", parameters=[FilterSerializer],
                   responses={200: list_envelope(ActionOutputSerializer), **error_responses(404)})
    def get(self, request):
        filters = parse_query(self.FilterSerializer, request)
        page, limit = filters.pop("page"), filters.pop("limit")
        queryset = moderation_action_list(
            group=group_get(group_id=filters["group_id"]) if "group_id" in filters else None,
            actor=user_get(user_id=filters["actor_user_id"]) if "actor_user_id" in filters else None,
            target=user_get(user_id=filters["target_user_id"]) if "target_user_id" in filters else None,
            type=filters.get("type"), status=filters.get("status"), since=filters.get("since"),
            until=filters.get("until"), automated=filters.get("automated"), rule=filters.get("rule"),
        )
        body = paginate(queryset, page=page, limit=limit, serializer_class=ActionOutputSerializer)
        with_names(body["items"], users={"actor_user_id": "actor_name", "target_user_id": "target_name"},
                   groups={"group_id": "group_title"})
        for item in body["items"]:
            automated_actor_name(item)
        return Response(body)

    @extend_schema(operation_id="moderation_actions_record", request=InputSerializer,
                   responses={201: envelope(OutputSerializer), **error_responses(403, 404)})
    def post(self, request):
        data = parse_body(self.InputSerializer, request, shape=RECORD_SHAPE)
        group = group_resolve(group_id=data.get("group_id"), telegram_chat_id=data.get("telegram_chat_id"))
        if "permission" in data:
            moderation_actor_authorize(permission=data["permission"], group=group,
                                       actor_user_id=data.get("actor_user_id"),
                                       actor_telegram_user_id=data.get("actor_telegram_user_id"))
        target, actor = _person(data, "target"), _person(data, "actor")
        if "permission" in data:
            moderation_target_authorize(type=data["type"], group=group, actor=actor, target=target)
        action, warn_outcome = moderation_action_record(
            type=data["type"], group=group, actor=actor, target=target,
            reason=data["reason"], until=data.get("until"), telegram_message_id=data.get("telegram_message_id"),
            details=data.get("details"),
        )
        body = {"action": action, "warnings": warn_outcome,
                "target_telegram_user_id": target.telegram_user_id if target else None}
        return Response(self.OutputSerializer(body).data, status=201)


def _person(data: dict, role: str):
    if f"{role}_telegram_username" in data:
        return user_by_telegram_username(telegram_username=data[f"{role}_telegram_username"])
    if f"{role}_telegram_user_id" in data:
        return user_ensure_telegram(telegram_user_id=data[f"{role}_telegram_user_id"])
    if f"{role}_user_id" in data:
        return user_get(user_id=data[f"{role}_user_id"])
    return None


# InputSerializer as a plain validator, derived from it (apps.common.derivation): the bot records an action per
# command; the serializer still documents the body and words every error.
RECORD_SHAPE = body_shape(ActionListApi.InputSerializer)


class ActionCompleteApi(APIView):
    class InputSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=[ModerationAction.Status.EXECUTED, ModerationAction.Status.FAILED])
        error = StrictCharField(max_length=1024, required=False, allow_blank=True, default="")

    @extend_schema(operation_id="moderation_actions_complete", request=InputSerializer,
                   responses={200: envelope(ActionOutputSerializer), **error_responses(404, 409)})
    def post(self, request, action_id):
        action = moderation_action_get(action_id=action_id)
        data = parse_body(self.InputSerializer, request)
        return Response(ActionOutputSerializer(moderation_action_complete(action=action, **data)).data)


class ActionDetailApi(APIView):
    @extend_schema(operation_id="moderation_actions_retrieve",
                   responses={200: envelope(ActionOutputSerializer), **error_responses(404)})
    def get(self, request, action_id):
        return Response(ActionOutputSerializer(moderation_action_get(action_id=action_id)).data)


class _ActorReasonSerializer(serializers.Serializer):
    reason = StrictCharField(max_length=255, required=False, allow_blank=True, default="")
    actor_user_id = ObjectIdField(required=False)


class WarningListApi(APIView):
    class FilterSerializer(serializers.Serializer):
        include_removed = serializers.BooleanField(required=False, default=False)

    class OutputSerializer(serializers.Serializer):
        active_warnings = serializers.IntegerField(help_text="Not removed, and not older than warn_expiry_seconds")
        warn_limit = serializers.IntegerField()
        warn_expiry_seconds = serializers.IntegerField(allow_null=True, help_text="null: warnings never expire")
        items = WarningOutputSerializer(many=True)

    @extend_schema(operation_id="warnings_list", parameters=[FilterSerializer],
                   responses={200: envelope(OutputSerializer), **error_responses(404)})
    def get(self, request, group_id, user_id):
        group, user = group_get(group_id=group_id), user_get(user_id=user_id)
        filters = parse_query(self.FilterSerializer, request)
        warnings = list(warning_list(group=group, user=user, include_removed=filters["include_removed"]))
        active = (warning_active_count(group=group, user=user) if filters["include_removed"]
                  else len(warnings))
        return Response(self.OutputSerializer(
            {"active_warnings": active, "warn_limit": group.warn_limit,
             "warn_expiry_seconds": group.warn_expiry_seconds, "items": warnings}
        ).data)


class WarningRemoveApi(APIView):
    @extend_schema(operation_id="warnings_remove", request=_ActorReasonSerializer,
                   responses={200: envelope(WarningOutputSerializer), **error_responses(404, 409)})
    def post(self, request, group_id, user_id, warning_id):
        group, user = group_get(group_id=group_id), user_get(user_id=user_id)
        warning = warning_get(group=group, user=user, warning_id=warning_id)
        data = parse_body(_ActorReasonSerializer, request)
        actor = actor_get(actor_user_id=data.get("actor_user_id"))
        return Response(WarningOutputSerializer(warning_remove(warning=warning, actor=actor,
                                                               reason=data["reason"])).data)


class WarningResetApi(APIView):
    class OutputSerializer(serializers.Serializer):
        removed = serializers.IntegerField()
        active_warnings = serializers.IntegerField()

    @extend_schema(operation_id="warnings_reset", request=_ActorReasonSerializer,
                   responses={200: envelope(OutputSerializer), **error_responses(404)})
    def post(self, request, group_id, user_id):
        group, user = group_get(group_id=group_id), user_get(user_id=user_id)
        data = parse_body(_ActorReasonSerializer, request)
        actor = actor_get(actor_user_id=data.get("actor_user_id"))
        removed = warnings_reset(group=group, user=user, actor=actor, reason=data["reason"])
        return Response({"removed": removed, "active_warnings": 0})




