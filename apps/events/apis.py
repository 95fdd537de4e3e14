from datetime import timedelta

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.common.derivation import body_shape
from apps.common.fields import ObjectIdField, StrictCharField, TelegramIdField
from apps.common.parsing import parse_body
from apps.common.schema import envelope, error_responses, exactly_one_of
from apps.common.validation import validation_now

from .models import GroupEvent
from .services import MAX_BATCH, events_ingest

_FUTURE_LEEWAY = timedelta(minutes=5)


def _not_in_the_future(event: dict) -> bool:
    return event["occurred_at"] <= validation_now() + _FUTURE_LEEWAY


class EventInputSerializer(serializers.Serializer):
    event_id = StrictCharField(max_length=64)
    type = serializers.ChoiceField(choices=GroupEvent.Type.choices)
    group_id = ObjectIdField(required=False)
    telegram_chat_id = TelegramIdField(required=False)
    telegram_user_id = TelegramIdField(required=False, allow_null=True)
    username = StrictCharField(max_length=33, required=False, allow_blank=True)
    display_name = StrictCharField(max_length=255, required=False, allow_blank=True)
    command = StrictCharField(max_length=64, required=False, allow_blank=True)
    occurred_at = serializers.DateTimeField()

    schema_rules = (exactly_one_of("group_id", "telegram_chat_id"),)
    shape_rules = (_not_in_the_future,)  # relative to the clock: the schema cannot state it

    def validate(self, attrs):
        if ("group_id" in attrs) == ("telegram_chat_id" in attrs):
            raise serializers.ValidationError("Give exactly one of group_id or telegram_chat_id.")
        if attrs["occurred_at"] > timezone.now() + _FUTURE_LEEWAY:
            raise serializers.ValidationError({"occurred_at": "Lies in the future."})
        return attrs


# EventInputSerializer as a plain validator, derived from it (apps.common.derivation): the serializer still
# documents the body and words every error.
EVENT_SHAPE = body_shape(EventInputSerializer)


class EventBatchApi(APIView):
    class InputSerializer(serializers.Serializer):
        events = EventInputSerializer(many=True, min_length=1, max_length=MAX_BATCH)

    class OutputSerializer(serializers.Serializer):
        received = serializers.IntegerField()
        accepted = serializers.IntegerField()
        duplicates = serializers.IntegerField(help_text="Events already stored under the same event_id")

    shape = body_shape(InputSerializer)

    @extend_schema(operation_id="events_batch", request=InputSerializer,
                   responses={200: envelope(OutputSerializer), **error_responses()})
    def post(self, request):
        data = parse_body(self.InputSerializer, request, shape=self.shape)
        return Response(events_ingest(events=data["events"]))
