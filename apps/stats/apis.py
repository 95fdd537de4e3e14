from datetime import timedelta

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.common.parsing import parse_query
from apps.common.schema import envelope, error_responses
from apps.common.shapes import GroupStatsSerializer, SystemStatsSerializer
from apps.groups.selectors import group_get

from .selectors import BUCKETS, group_stats, system_stats


class GroupStatsApi(APIView):
    acting_user_permissions = {"GET": "VIEW_STATS"}  # in the group read: apps/rbac/permissions.py
    acting_user_group_kwarg = "group_id"

    class FilterSerializer(serializers.Serializer):
        since = serializers.DateTimeField(required=False)
        until = serializers.DateTimeField(required=False)
        bucket = serializers.ChoiceField(choices=list(BUCKETS), default="hour")

        def validate(self, attrs):
            now = timezone.now()
            attrs.setdefault("until", now)
            attrs.setdefault("since", attrs["until"] - (timedelta(days=1) if attrs["bucket"] == "hour"
                                                         else timedelta(days=30)))
            if attrs["since"] >= attrs["until"]:
                raise serializers.ValidationError("since must be before until.")
            return attrs

    @extend_schema(operation_id="stats_group", parameters=[FilterSerializer],
                   responses={200: envelope(GroupStatsSerializer), **error_responses(404)})
    def get(self, request, group_id):
        group = group_get(group_id=group_id)
        filters = parse_query(self.FilterSerializer, request)
        return Response(GroupStatsSerializer(group_stats(group=group, **filters)).data)


class SystemStatsApi(APIView):
    @extend_schema(operation_id="rbac_system_stats",
                   responses={200: envelope(SystemStatsSerializer), **error_responses()})
    def get(self, request):
        return Response(SystemStatsSerializer(system_stats()).data)
