import re

from drf_spectacular.utils import extend_schema
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
    TelegramUsernameField,
)
from apps.common.pagination import PageQuerySerializer, paginate
from apps.common.parsing import parse_body, parse_query
from apps.common.schema import RequiredBodySchema, envelope, error_responses, exactly_one_of, list_envelope
from apps.common.shapes import ApprovalSerializer, ProtectionSettingsSerializer, ProtectionTestSerializer
from apps.contentrules.apis import ACTOR_FIELDS, OptionalActorSerializer, write_actor
from apps.groups.models import MAX_RESTRICTION_SECONDS, MIN_RESTRICTION_SECONDS
from apps.groups.selectors import group_get, group_get_by_chat
from apps.moderation.apis import ActionOutputSerializer
from apps.moderation.models import ModerationAction
from apps.users.selectors import user_by_telegram_username, user_get
from apps.users.services import user_ensure_telegram

from .models import ProtectionSettings
from .selectors import approval_list, protection_test, protection_view, settings_versions
from .services import (
    MAX_DISABLED_COMMANDS,
    RULES,
    approval_grant,
    approval_revoke,
    protection_action_record,
    protection_raid_set,
    protection_update,
)


class ProtectionOutputSerializer(ProtectionSettingsSerializer):
    group_id = ObjectIdField()
    captcha_mode = serializers.ChoiceField(choices=ProtectionSettings.CaptchaMode.choices)
    captcha_failure_action = serializers.ChoiceField(choices=ProtectionSettings.CaptchaFailure.choices)
    flood_action = serializers.ChoiceField(choices=ProtectionSettings.FloodAction.choices)
    raid_action = serializers.ChoiceField(choices=ProtectionSettings.RaidAction.choices)
    blocklist_action = serializers.ChoiceField(choices=ProtectionSettings.FloodAction.choices)


def _text(**kwargs):
    return StrictCharField(max_length=4096, required=False, allow_blank=True, trim_whitespace=False, **kwargs)


def _flag():
    return StrictBooleanField(required=False)


def _number(low: int, high: int, **kwargs):
    return StrictIntegerField(min_value=low, max_value=high, required=False, **kwargs)


class CommandNameField(serializers.RegexField):
    """A bot command's name as Telegram allows it (1 to 32 of a-z, 0-9 and _), "/" optional, any case: kept
    lowercase without the "/"."""

    default_error_messages = {"invalid": "A command name: 1 to 32 of a-z, 0-9 and _ (a / before it is optional)."}

    def __init__(self, **kwargs):
        super().__init__(regex=r"^/?[A-Za-z0-9_]{1,32}$", trim_whitespace=False, **kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data).lstrip("/").lower()


class ProtectionPatchSerializer(OptionalActorSerializer):
    welcome_enabled = _flag()
    welcome_text = _text(help_text='"": the bot\'s default welcome')
    goodbye_enabled = _flag()
    goodbye_text = _text()
    clean_welcome = _flag()
    clean_service = _flag()
    rules_text = _text()
    rules_private = _flag()
    captcha_enabled = _flag()
    captcha_mode = serializers.ChoiceField(choices=ProtectionSettings.CaptchaMode.choices, required=False)
    captcha_timeout_seconds = _number(30, 86400)
    captcha_failure_action = serializers.ChoiceField(choices=ProtectionSettings.CaptchaFailure.choices,
                                                     required=False)
    captcha_max_attempts = _number(1, 10)
    flood_limit = _number(0, 100, help_text="0: off; else 3 to 100 messages")
    flood_window_seconds = _number(1, 3600, allow_null=True, help_text="null: consecutive messages")
    flood_action = serializers.ChoiceField(choices=ProtectionSettings.FloodAction.choices, required=False)
    flood_action_duration_seconds = _number(MIN_RESTRICTION_SECONDS, MAX_RESTRICTION_SECONDS, allow_null=True,
                                            help_text="Required for tmute and tban")
    flood_delete_messages = _flag()
    raid_detection = _flag()
    raid_join_limit = _number(2, 1000)
    raid_window_seconds = _number(1, 3600)
    raid_duration_minutes = _number(1, 10080)
    raid_action = serializers.ChoiceField(choices=ProtectionSettings.RaidAction.choices, required=False)
    log_chat_id = TelegramIdField(required=False, allow_null=True)
    lock_warns = _flag()
    blocklist_action = serializers.ChoiceField(choices=ProtectionSettings.FloodAction.choices, required=False)
    blocklist_action_duration_seconds = _number(MIN_RESTRICTION_SECONDS, MAX_RESTRICTION_SECONDS, allow_null=True,
                                                help_text="Required for tmute and tban")
    blocklist_delete = _flag()
    blocklist_joiner_names = _flag()
    private_notes = _flag()
    disabled_commands = serializers.ListField(
        child=CommandNameField(), max_length=MAX_DISABLED_COMMANDS, required=False,
        help_text="Command names members may not use (kept lowercase, without the /, once each)")
    disabled_delete = _flag()
    clean_commands = _flag()
    denials_private = _flag()
    reports_enabled = _flag()
    expected_version = StrictIntegerField(min_value=1, required=False,
                                          help_text="The version the edit is based on: another one is 409 conflict")

    def validate_disabled_commands(self, value):
        return sorted(set(value))


# A write's actor, one definition for protection's settings and the content rules (apps.contentrules.apis).
_actor = write_actor


class GroupProtectionApi(APIView):
    acting_user_permissions = {"GET": "VIEW_GROUPS", "PATCH": "MANAGE_SETTINGS"}  # apps/rbac/permissions.py
    acting_user_group_kwarg = "group_id"

    @extend_schema(operation_id="protection_retrieve",
                   responses={200: envelope(ProtectionOutputSerializer), **error_responses(404)})
    def get(self, request, group_id):
        return Response(ProtectionOutputSerializer(protection_view(group=group_get(group_id=group_id))).data)

    @extend_schema(operation_id="protection_update", request=ProtectionPatchSerializer,
                   responses={200: envelope(ProtectionOutputSerializer), **error_responses(403, 404, 409)})
    def patch(self, request, group_id):
        group = group_get(group_id=group_id)
        data = dict(parse_body(ProtectionPatchSerializer, request))
        expected_version = data.pop("expected_version", None)
        actor = _actor(request, group, data)
        view = protection_update(group=group, changes=data, actor=actor, expected_version=expected_version)
        return Response(ProtectionOutputSerializer(view).data)


# Entities as Telegram detects them in a typed text (the test box's plain text carries none): enough for the url,
# email, phone and command locks to see what Telegram would mark.
_ENTITY_PATTERNS = (
    ("email", re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}")),
    ("url", re.compile(r"(?i)(?<![\w@.])(?:https?://)?(?:[\w-]+\.)+[a-z]{2,}(?::\d{1,5})?(?:/[^\s]*)?")),
    ("phone_number", re.compile(r"(?<![\w+])\+\d[\d ()-]{6,18}\d(?!\w)")),
    ("bot_command", re.compile(r"(?<![\w/])/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?(?![\w/])")),
)


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def message_from_text(text: str) -> dict:
    """A group message of this text, with the entities Telegram would give it (offsets in UTF-16 units)."""
    entities, taken = [], []
    for kind, pattern in _ENTITY_PATTERNS:
        for found in pattern.finditer(text):
            start, end = found.span()
            if any(start < other_end and other_start < end for other_start, other_end in taken):
                continue
            taken.append((start, end))
            entities.append({"type": kind, "offset": _utf16(text[:start]), "length": _utf16(found.group())})
    message = {"text": text}
    if entities:
        message["entities"] = sorted(entities, key=lambda entity: entity["offset"])
    return message


class ProtectionTestApi(APIView):
    """What the group's current rules make of a message: read-only, no actor needed."""

    schema = RequiredBodySchema()  # one of two fields is required
    acting_user_permissions = {"POST": "VIEW_GROUPS"}
    acting_user_group_kwarg = "group_id"

    class InputSerializer(serializers.Serializer):
        text = StrictCharField(max_length=4096, required=False, allow_blank=True, trim_whitespace=False,
                               help_text="A typed text (entities are detected as Telegram would)")
        message = serializers.DictField(required=False, help_text="A Telegram Message object, as the Bot API sends")

        schema_rules = (exactly_one_of("text", "message"),)

        def validate(self, attrs):
            if ("text" in attrs) == ("message" in attrs):
                raise serializers.ValidationError("Give text or message, not both.")
            return attrs

    @extend_schema(operation_id="protection_test", request=InputSerializer,
                   responses={200: envelope(ProtectionTestSerializer), **error_responses(404)})
    def post(self, request, group_id):
        group = group_get(group_id=group_id)
        data = parse_body(self.InputSerializer, request)
        message = data["message"] if "message" in data else message_from_text(data["text"])
        return Response(ProtectionTestSerializer(protection_test(group=group, message=message)).data)


class ProtectionByChatApi(APIView):
    class FilterSerializer(serializers.Serializer):
        telegram_chat_id = serializers.IntegerField(min_value=INT64_MIN, max_value=INT64_MAX)

    @extend_schema(operation_id="protection_by_chat", parameters=[FilterSerializer],
                   responses={200: envelope(ProtectionOutputSerializer), **error_responses(404)})
    def get(self, request):
        chat_id = parse_query(self.FilterSerializer, request)["telegram_chat_id"]
        return Response(ProtectionOutputSerializer(protection_view(group=group_get_by_chat(telegram_chat_id=chat_id)))
                        .data)


class ProtectionVersionsApi(APIView):
    class InputSerializer(serializers.Serializer):
        telegram_chat_ids = serializers.ListField(child=TelegramIdField(), max_length=1000)

    class OutputSerializer(serializers.Serializer):
        versions = serializers.DictField(child=serializers.IntegerField(),
                                         help_text="Chat id (as text) -> its settings version; chats core does "
                                                   "not know are left out")

    @extend_schema(operation_id="protection_versions", request=InputSerializer,
                   responses={200: envelope(OutputSerializer), **error_responses()})
    def post(self, request):
        data = parse_body(self.InputSerializer, request)
        versions = settings_versions(telegram_chat_ids=data["telegram_chat_ids"])
        return Response({"versions": {str(chat_id): version for chat_id, version in versions.items()}})


class ProtectionRaidApi(APIView):
    class InputSerializer(OptionalActorSerializer):
        active = StrictBooleanField()
        minutes = StrictIntegerField(min_value=1, max_value=10080, required=False,
                                     help_text="How long raid mode lasts (default: the group's "
                                               "raid_duration_minutes)")

    @extend_schema(operation_id="protection_raid", request=InputSerializer,
                   responses={200: envelope(ProtectionOutputSerializer), **error_responses(403, 404)})
    def post(self, request, group_id):
        group = group_get(group_id=group_id)
        data = dict(parse_body(self.InputSerializer, request))
        actor = _actor(request, group, data)
        view = protection_raid_set(group=group, active=data["active"], minutes=data.get("minutes"), actor=actor)
        return Response(ProtectionOutputSerializer(view).data)


class ProtectionActionApi(APIView):
    class InputSerializer(serializers.Serializer):
        telegram_chat_id = TelegramIdField()
        rule = serializers.ChoiceField(choices=RULES)
        type = serializers.ChoiceField(choices=ModerationAction.Type.choices)
        target_telegram_user_id = TelegramIdField()
        username = TelegramUsernameField(required=False, allow_blank=True)
        display_name = StrictCharField(max_length=255, required=False, allow_blank=True)
        reason = StrictCharField(max_length=1024, required=False, allow_blank=True, default="")
        until = serializers.DateTimeField(required=False, allow_null=True)
        telegram_message_id = TelegramIdField(required=False, allow_null=True)
        details = serializers.DictField(required=False)

    @extend_schema(operation_id="protection_actions_record", request=InputSerializer,
                   responses={201: envelope(ActionOutputSerializer), **error_responses(403, 404)})
    def post(self, request):
        data = parse_body(self.InputSerializer, request)
        group = group_get_by_chat(telegram_chat_id=data["telegram_chat_id"])
        target = user_ensure_telegram(telegram_user_id=data["target_telegram_user_id"],
                                      telegram_username=data.get("username", ""),
                                      display_name=data.get("display_name", ""))
        action = protection_action_record(
            group=group, rule=data["rule"], type=data["type"], target=target, reason=data["reason"],
            until=data.get("until"), telegram_message_id=data.get("telegram_message_id"), details=data.get("details"))
        return Response(ActionOutputSerializer(action).data, status=201)


class ApprovalOutputSerializer(ApprovalSerializer):
    user_id = ObjectIdField()


class ApprovalInputSerializer(serializers.Serializer):
    telegram_chat_id = TelegramIdField()
    actor_user_id = ObjectIdField(required=False)
    actor_telegram_user_id = TelegramIdField(required=False)
    target_user_id = ObjectIdField(required=False)
    target_telegram_user_id = TelegramIdField(required=False)
    target_telegram_username = TelegramUsernameField(
        required=False, help_text="The one Telegram account core knows by this @username; none: 404 unknown_target")

    TARGET_FIELDS = ("target_user_id", "target_telegram_user_id", "target_telegram_username")
    schema_rules = (exactly_one_of(*ACTOR_FIELDS), exactly_one_of(*TARGET_FIELDS))

    def validate(self, attrs):
        if sum(name in attrs for name in ACTOR_FIELDS) != 1:
            raise serializers.ValidationError("Give one of actor_user_id or actor_telegram_user_id.")
        if sum(name in attrs for name in self.TARGET_FIELDS) != 1:
            raise serializers.ValidationError("Give one of target_user_id, target_telegram_user_id or "
                                              "target_telegram_username.")
        return attrs


def _approval_parties(data: dict):
    group = group_get_by_chat(telegram_chat_id=data["telegram_chat_id"])
    if "actor_user_id" in data:
        actor = user_get(user_id=data["actor_user_id"])
    else:
        actor = user_ensure_telegram(telegram_user_id=data["actor_telegram_user_id"])
    if "target_user_id" in data:
        target = user_get(user_id=data["target_user_id"])
    elif "target_telegram_user_id" in data:
        target = user_ensure_telegram(telegram_user_id=data["target_telegram_user_id"])
    else:
        target = user_by_telegram_username(telegram_username=data["target_telegram_username"])
    return group, actor, target


class ApprovalGrantApi(APIView):
    @extend_schema(operation_id="protection_approvals_grant", request=ApprovalInputSerializer,
                   responses={200: envelope(ApprovalOutputSerializer), **error_responses(403, 404)})
    def post(self, request):
        group, actor, target = _approval_parties(parse_body(ApprovalInputSerializer, request))
        return Response(ApprovalOutputSerializer(approval_grant(group=group, target=target, actor=actor)).data)


class ApprovalRevokeApi(APIView):
    @extend_schema(operation_id="protection_approvals_revoke", request=ApprovalInputSerializer,
                   responses={200: envelope(ApprovalOutputSerializer), **error_responses(403, 404)})
    def post(self, request):
        group, actor, target = _approval_parties(parse_body(ApprovalInputSerializer, request))
        return Response(ApprovalOutputSerializer(approval_revoke(group=group, target=target, actor=actor)).data)


class ApprovalListItemSerializer(ApprovalOutputSerializer):
    telegram_user_id = serializers.IntegerField(source="user.telegram_user_id", allow_null=True)
    display_name = serializers.SerializerMethodField()
    approved = serializers.SerializerMethodField()
    granted_by_user_id = ObjectIdField(source="granted_by_id", allow_null=True)
    granted_at = serializers.DateTimeField(source="created_at")

    def get_display_name(self, assignment) -> str:
        user = assignment.user
        return user.display_name or (f"@{user.telegram_username}" if user.telegram_username else user.username)

    def get_approved(self, assignment) -> bool:
        return True


class GroupApprovalListApi(APIView):
    acting_user_permissions = {"GET": "VIEW_GROUPS"}
    acting_user_group_kwarg = "group_id"

    @extend_schema(operation_id="protection_approvals_list", parameters=[PageQuerySerializer],
                   responses={200: list_envelope(ApprovalListItemSerializer), **error_responses(404)})
    def get(self, request, group_id):
        group = group_get(group_id=group_id)
        page = parse_query(PageQuerySerializer, request)
        return Response(paginate(approval_list(group=group), page=page["page"], limit=page["limit"],
                                 serializer_class=ApprovalListItemSerializer))
