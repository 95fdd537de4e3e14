from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.common.fields import INT64_MAX, INT64_MIN, ObjectIdField, StrictCharField, StrictIntegerField, TelegramIdField
from apps.common.pagination import PageQuerySerializer, paginate
from apps.common.parsing import parse_body, parse_query
from apps.common.schema import envelope, error_responses, exactly_one_of, list_envelope
from apps.groups.selectors import group_resolve
from apps.moderation.apis import ActionOutputSerializer
from apps.users.services import user_ensure_telegram

from .models import Challenge
from .selectors import challenge_get, challenge_list
from .services import challenge_answer, challenge_create, challenge_messages_add, challenges_claim_expired

MAX_MESSAGE_IDS = 20


class ChallengeOutputSerializer(serializers.Serializer):
    """A join challenge as the bot sees it: never its answer."""

    id = ObjectIdField()
    group_id = ObjectIdField()
    telegram_chat_id = serializers.IntegerField(source="group.telegram_chat_id")
    telegram_user_id = serializers.IntegerField(source="user.telegram_user_id")
    round = serializers.IntegerField(help_text="Counts this member's challenges in the group (each join starts one)")
    mode = serializers.ChoiceField(choices=Challenge.Mode.choices)
    reason = serializers.ChoiceField(choices=Challenge.Reason.choices)
    question = serializers.CharField()
    options = serializers.ListField(child=serializers.CharField(), help_text="Button labels; answer with an index")
    attempts = serializers.IntegerField(help_text="Wrong answers so far")
    max_attempts = serializers.IntegerField()
    status = serializers.ChoiceField(choices=Challenge.Status.choices)
    failure_action = serializers.ChoiceField(choices=Challenge.FailureAction.choices,
                                             help_text="What follows a failed or expired round")
    expires_at = serializers.DateTimeField()
    message_ids = serializers.ListField(child=serializers.IntegerField())
    restrict_action_id = ObjectIdField(allow_null=True, help_text="The mute recorded when the round started")
    follow_up_action_id = ObjectIdField(
        allow_null=True, help_text="Recorded when the round ended: the unmute (solved) or the kick (failed or "
                                   "expired, in a group that kicks); null otherwise")
    started_at = serializers.DateTimeField()
    resolved_at = serializers.DateTimeField(allow_null=True)


class ChallengeListApi(APIView):
    class InputSerializer(serializers.Serializer):
        telegram_chat_id = TelegramIdField()
        telegram_user_id = TelegramIdField()
        username = StrictCharField(max_length=64, required=False, allow_blank=True, default="")
        display_name = StrictCharField(max_length=255, required=False, allow_blank=True, default="")
        mode = serializers.ChoiceField(choices=Challenge.Mode.choices, required=False,
                                       help_text="Instead of the group's captcha_mode")
        reason = serializers.ChoiceField(choices=Challenge.Reason.choices, required=False,
                                         default=Challenge.Reason.JOIN)

    class OutputSerializer(serializers.Serializer):
        created = serializers.BooleanField(help_text="False: the member's pending challenge (never two)")
        challenge = ChallengeOutputSerializer()

    class FilterSerializer(PageQuerySerializer):
        group_id = serializers.CharField(required=False)
        telegram_chat_id = serializers.IntegerField(required=False, min_value=INT64_MIN, max_value=INT64_MAX)
        status = serializers.ChoiceField(required=False, choices=Challenge.Status.choices)

        schema_rules = (exactly_one_of("group_id", "telegram_chat_id"),)

        def validate(self, attrs):
            if ("group_id" in attrs) == ("telegram_chat_id" in attrs):
                raise serializers.ValidationError("Give exactly one of group_id or telegram_chat_id.")
            return attrs

    @extend_schema(operation_id="challenges_list", parameters=[FilterSerializer],
                   responses={200: list_envelope(ChallengeOutputSerializer), **error_responses(404)})
    def get(self, request):
        filters = parse_query(self.FilterSerializer, request)
        group = group_resolve(group_id=filters.get("group_id"), telegram_chat_id=filters.get("telegram_chat_id"))
        queryset = challenge_list(group=group, status=filters.get("status"))
        return Response(paginate(queryset, page=filters["page"], limit=filters["limit"],
                                 serializer_class=ChallengeOutputSerializer))

    @extend_schema(
        operation_id="challenges_create", request=InputSerializer,
        description="Starts a member's join verification: the mute is recorded (type mute, rule captcha, "
                    "restrict_action_id) for the bot to apply and complete. Idempotent per member: while one is "
                    "pending it is answered with created false. 403 exempt_member for Telegram admins and members "
                    "holding BYPASS_PROTECTION. 409 conflict when captcha is off in the group (reason join).",
        responses={201: envelope(OutputSerializer), 200: envelope(OutputSerializer), **error_responses(403, 404, 409)})
    def post(self, request):
        data = parse_body(self.InputSerializer, request)
        group = group_resolve(telegram_chat_id=data["telegram_chat_id"])
        user = user_ensure_telegram(telegram_user_id=data["telegram_user_id"], telegram_username=data["username"],
                                    display_name=data["display_name"])
        challenge, created = challenge_create(group=group, user=user, mode=data.get("mode"), reason=data["reason"])
        body = self.OutputSerializer({"created": created, "challenge": challenge}).data
        return Response(body, status=201 if created else 200)


class ChallengeMessagesApi(APIView):
    class InputSerializer(serializers.Serializer):
        message_ids = serializers.ListField(child=TelegramIdField(), min_length=1, max_length=MAX_MESSAGE_IDS)
        round = StrictIntegerField(required=False, min_value=1, help_text="409 when the member is in another round")

    @extend_schema(operation_id="challenges_messages", request=InputSerializer,
                   responses={200: envelope(ChallengeOutputSerializer), **error_responses(404, 409)})
    def post(self, request, challenge_id):
        challenge = challenge_get(challenge_id=challenge_id)
        data = parse_body(self.InputSerializer, request)
        updated = challenge_messages_add(challenge=challenge, message_ids=data["message_ids"], round=data.get("round"))
        return Response(ChallengeOutputSerializer(updated).data)


class ChallengeAnswerApi(APIView):
    class InputSerializer(serializers.Serializer):
        telegram_user_id = TelegramIdField(help_text="Who pressed: only the challenged member may answer")
        answer = StrictCharField(max_length=64, help_text="The index of the option pressed")
        round = StrictIntegerField(required=False, min_value=1,
                                   help_text="The round the button was sent for: 409 when it is an older one")

    @extend_schema(operation_id="challenges_answer", request=InputSerializer,
                   responses={200: envelope(ChallengeOutputSerializer), **error_responses(403, 404, 409)})
    def post(self, request, challenge_id):
        challenge = challenge_get(challenge_id=challenge_id)
        data = parse_body(self.InputSerializer, request)
        answered = challenge_answer(challenge=challenge, telegram_user_id=data["telegram_user_id"],
                                    answer=data["answer"], round=data.get("round"))
        return Response(ChallengeOutputSerializer(answered).data)


class ClaimedChallengeSerializer(serializers.Serializer):
    challenge = ChallengeOutputSerializer()
    action = ActionOutputSerializer(allow_null=True, help_text="The kick to carry out; null: they stay muted")


class ClaimedSerializer(serializers.Serializer):
    items = ClaimedChallengeSerializer(many=True)


class ChallengeClaimExpiredApi(APIView):
    class InputSerializer(serializers.Serializer):
        limit = StrictIntegerField(required=False, min_value=1, max_value=500, default=100)

    @extend_schema(
        operation_id="challenges_claim_expired", request=InputSerializer,
        description="Rounds whose time ran out, each handed to one caller (pending -> expired), with the follow-up "
                    "core recorded: the kick (rule captcha) to carry out and complete, or null when the group keeps "
                    "them muted. A round whose kick is still not completed a minute after it was handed out is "
                    "handed out again.",
        responses={200: envelope(ClaimedSerializer)})
    def post(self, request):
        data = parse_body(self.InputSerializer, request)
        claimed = challenges_claim_expired(limit=data["limit"])
        items = [{"challenge": challenge, "action": action} for challenge, action in claimed]
        return Response(ClaimedSerializer({"items": items}).data)
