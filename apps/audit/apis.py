import csv
import json

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.common.audit_actions import ALL_ACTIONS
from apps.common.envelope import EnvelopeJSONRenderer
from apps.common.parsing import parse_query
from apps.common.schema import envelope, error_responses
from apps.common.shapes import AuditEventSerializer

from .models import AuditEvent
from .selectors import audit_event_filter, audit_event_list, audit_event_names


class BlankAsNullField(serializers.CharField):
    def to_representation(self, value):
        return value or None


class AuditEventOutputSerializer(AuditEventSerializer):
    id = serializers.CharField(source="sequence", help_text="The event's position in the hash chain")
    actor_user_id = BlankAsNullField(allow_null=True)
    group_id = BlankAsNullField(allow_null=True)
    result = serializers.ChoiceField(choices=AuditEvent.Result.choices)
    actor_name = serializers.CharField(allow_null=True, read_only=True, help_text="The actor's display name")
    target_name = serializers.CharField(allow_null=True, read_only=True,
                                        help_text="The target user's display name or the target group's title")
    group_title = serializers.CharField(allow_null=True, read_only=True)
    permission = serializers.CharField(allow_null=True, read_only=True,
                                       help_text="The permission a permission_check was about")


class AuditEventListApi(APIView):
    acting_user_permissions = {"GET": "VIEW_AUDIT"}  # see apps/rbac/permissions.py

    class FilterSerializer(serializers.Serializer):
        """Shared with the CSV export (which ignores the paging fields)."""

        actor_user_id = serializers.CharField(required=False, max_length=64)
        service = serializers.CharField(required=False, max_length=64)
        action = serializers.ChoiceField(required=False, choices=ALL_ACTIONS)
        result = serializers.ChoiceField(required=False, choices=AuditEvent.Result.choices)
        group_id = serializers.CharField(required=False, max_length=64)
        hide_checks_by = serializers.CharField(
            required=False, max_length=64,
            help_text="Leave out the permission checks this service asked for (web's reads for its own pages)")
        since = serializers.DateTimeField(required=False)
        until = serializers.DateTimeField(required=False)
        cursor = serializers.IntegerField(required=False, min_value=1, help_text="next_cursor of the previous page")
        after = serializers.IntegerField(
            required=False, min_value=0,
            help_text="The change feed: only events with a sequence above this, oldest first; next_cursor is then "
                      "the next page's `after`. Not combined with `cursor`.")
        limit = serializers.IntegerField(required=False, min_value=1, max_value=200, default=50)

        def validate(self, attrs):
            if attrs.get("since") and attrs.get("until") and attrs["since"] >= attrs["until"]:
                raise serializers.ValidationError("since must be before until.")
            if attrs.get("cursor") is not None and attrs.get("after") is not None:
                raise serializers.ValidationError({"after": ["Use either cursor (newest first) or after (oldest "
                                                             "first), not both."]})
            return attrs

    @extend_schema(
        operation_id="audit_events_list",
        parameters=[FilterSerializer],
        responses={
            200: envelope(
                inline_serializer(
                    "AuditEventPage",
                    {
                        "items": AuditEventOutputSerializer(many=True),
                        "next_cursor": serializers.CharField(allow_null=True),
                        "limit": serializers.IntegerField(),
                    },
                ).__class__
            ),
            **error_responses(),
        },
    )
    def get(self, request):
        filters = parse_query(self.FilterSerializer, request)
        cursor = filters.pop("cursor", None)
        after = filters.pop("after", None)
        events, next_cursor = audit_event_list(**filters, before_sequence=cursor, after_sequence=after)
        items = AuditEventOutputSerializer(events, many=True).data
        for item, names in zip(items, audit_event_names(events), strict=True):
            item.update(names)
        return Response(
            {
                "items": items,
                "next_cursor": str(next_cursor) if next_cursor else None,
                "limit": filters["limit"],
            }
        )


CSV_COLUMNS = ["sequence", "created_at", "service", "request_id", "actor_user_id", "action", "target_type",
               "target_id", "group_id", "result", "reason", "details", "previous_hash", "hash"]


CSV_NAME_COLUMNS = ["actor_name", "target_name", "group_title", "permission"]
CSV_BATCH = 2000


def _csv_rows(writer, events):
    """Rows for a batch of events, its names resolved in one query per kind; times in ISO 8601."""
    for event, names in zip(events, audit_event_names(events), strict=True):
        values = [getattr(event, column) for column in CSV_COLUMNS]
        values[CSV_COLUMNS.index("created_at")] = event.created_at.isoformat()
        yield writer.writerow([_csv_cell(value) for value in values + [names[key] for key in CSV_NAME_COLUMNS]])


class _Echo:
    def write(self, value):
        return value


def _csv_cell(value):
    text = "" if value is None else (json.dumps(value, sort_keys=True) if isinstance(value, dict) else str(value))
    # Spreadsheet formula injection: a leading =, +, - or @ would run as a formula when opened.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


class CsvRenderer(EnvelopeJSONRenderer):
    """Lets clients ask for text/csv. Rows are streamed past it; errors are switched back to JSON below."""

    media_type = "text/csv"
    format = "csv"


class AuditEventCsvApi(APIView):
    renderer_classes = [EnvelopeJSONRenderer, CsvRenderer]

    def handle_exception(self, exc):
        response = super().handle_exception(exc)
        self.request.accepted_renderer, self.request.accepted_media_type = EnvelopeJSONRenderer(), "application/json"
        return response

    class FilterSerializer(AuditEventListApi.FilterSerializer):
        pass

    @extend_schema(
        operation_id="audit_events_csv",
        parameters=[FilterSerializer],
        responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.STR,
                                                      description="CSV, newest first (oldest first with after)"),
                   **error_responses()},
    )
    def get(self, request):
        filters = parse_query(self.FilterSerializer, request)
        filters.pop("limit", None)
        cursor = filters.pop("cursor", None)
        after = filters.pop("after", None)
        queryset = audit_event_filter(**filters, before_sequence=cursor, after_sequence=after)
        writer = csv.writer(_Echo())

        def rows():
            yield writer.writerow(CSV_COLUMNS + CSV_NAME_COLUMNS)
            batch = []
            for event in queryset.iterator(chunk_size=CSV_BATCH):
                batch.append(event)
                if len(batch) == CSV_BATCH:
                    yield from _csv_rows(writer, batch)
                    batch = []
            yield from _csv_rows(writer, batch)

        response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="audit-events.csv"'
        return response
