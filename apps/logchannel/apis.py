from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.common.fields import ObjectIdField, StrictCharField, StrictIntegerField, TelegramIdField
from apps.common.ids import get_or_404
from apps.common.parsing import parse_body
from apps.common.schema import envelope, error_responses
from apps.groups.selectors import group_get_by_chat

from .models import LogEntry
from .services import log_entries_claim, log_entry_complete, welcome_message_swap


class LogEntryOutputSerializer(serializers.Serializer):
    id = ObjectIdField()
    telegram_chat_id = serializers.IntegerField(source="group.telegram_chat_id", allow_null=True,
                                                help_text="The group the entry tells about (null: a ban list's "
                                                          "post)")
    log_chat_id = serializers.IntegerField(help_text="Where to post it")
    text = serializers.CharField(help_text="Telegram HTML (parse_mode HTML)")


class LogClaimApi(APIView):
    class InputSerializer(serializers.Serializer):
        limit = StrictIntegerField(min_value=1, max_value=100, required=False, default=50)

    class OutputSerializer(serializers.Serializer):
        items = LogEntryOutputSerializer(many=True)

    @extend_schema(operation_id="protection_log_claim", request=InputSerializer,
                   responses={200: envelope(OutputSerializer), **error_responses()},
                   description="Pending log channel posts, oldest first, each claimed for 60 s (claimable again "
                               "after that unless reported).")
    def post(self, request):
        data = parse_body(self.InputSerializer, request)
        return Response(self.OutputSerializer({"items": log_entries_claim(limit=data["limit"])}).data)


class LogResultApi(APIView):
    class InputSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=[LogEntry.Status.SENT, LogEntry.Status.FAILED])
        error = StrictCharField(max_length=1024, required=False, allow_blank=True, default="")

    class OutputSerializer(serializers.Serializer):
        report_in_group = serializers.BooleanField(
            help_text="The first failure since the log chat was set: say in the group that it cannot be posted to")

    @extend_schema(operation_id="protection_log_result", request=InputSerializer,
                   responses={200: envelope(OutputSerializer), **error_responses(404, 409)})
    def post(self, request, entry_id):
        entry = get_or_404(LogEntry, entry_id, label="Log entry")
        data = parse_body(self.InputSerializer, request)
        return Response(self.OutputSerializer({"report_in_group": log_entry_complete(entry=entry, **data)}).data)


class WelcomeMessageApi(APIView):
    class InputSerializer(serializers.Serializer):
        telegram_chat_id = TelegramIdField()
        telegram_message_id = StrictIntegerField(min_value=1, max_value=2**31 - 1)

    class OutputSerializer(serializers.Serializer):
        previous_message_id = serializers.IntegerField(allow_null=True,
                                                       help_text="The welcome sent before this one, to delete")

    @extend_schema(operation_id="protection_welcome_message", request=InputSerializer,
                   responses={200: envelope(OutputSerializer), **error_responses(404)},
                   description="Remembers the group's latest welcome message and answers the previous one "
                               "(clean-welcome deletes it).")
    def post(self, request):
        data = parse_body(self.InputSerializer, request)
        group = group_get_by_chat(telegram_chat_id=data["telegram_chat_id"])
        previous = welcome_message_swap(group=group, telegram_message_id=data["telegram_message_id"])
        return Response(self.OutputSerializer({"previous_message_id": previous}).data)
