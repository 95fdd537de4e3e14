"""Core's analytics API: a group's figures, one member's, and the platform's (docs/analytics.md)."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.common.parsing import parse_query
from apps.common.schema import envelope, error_responses
from apps.groups.selectors import group_get
from apps.rbac.permissions import acting_user_id
from apps.users.selectors import user_get

from .selectors import (
    BUCKETS,
    PERIODS,
    UTC_ZONE,
    group_analytics,
    group_zone,
    member_analytics,
    platform_overview,
    window_resolve,
)


class PeriodQuerySerializer(serializers.Serializer):
    period = serializers.ChoiceField(choices=PERIODS, default="7d",
                                     help_text="today, the last 7 or 30 days (ending today), or custom")
    start = serializers.DateField(required=False, help_text="custom: the first day (YYYY-MM-DD), in the clock's days")
    end = serializers.DateField(required=False, help_text="custom: the last day, inclusive (at most 92 days)")
    bucket = serializers.ChoiceField(choices=BUCKETS, required=False,
                                     help_text="The series' step; default hour for one day, else day")


def _nullable(field_class, **kwargs):
    return field_class(allow_null=True, **kwargs)


class _Counters(serializers.Serializer):
    messages = serializers.IntegerField()
    commands = serializers.IntegerField()
    joins = serializers.IntegerField()
    leaves = serializers.IntegerField()


class _Totals(_Counters):
    net_growth = serializers.IntegerField()
    active_members = serializers.IntegerField(help_text="Distinct members active in the period")
    messages_per_active_member = _nullable(serializers.FloatField)
    member_count_start = _nullable(serializers.IntegerField, help_text="The count on the eve of the period")
    member_count_end = _nullable(serializers.IntegerField)


class _Activity(serializers.Serializer):
    dau = serializers.FloatField(help_text="Mean daily active members over the period's days")
    wau = serializers.IntegerField(help_text="Distinct active members of the 7 days ending on the last day")
    mau = serializers.IntegerField(help_text="Distinct active members of the 30 days ending on the last day")
    dau_30 = serializers.FloatField(help_text="Mean daily active members over those 30 days")
    stickiness = _nullable(serializers.FloatField, help_text="dau_30 / mau")


class _Point(_Counters):
    start = serializers.DateTimeField()
    day = serializers.DateField()
    active_members = _nullable(serializers.IntegerField, help_text="Day buckets only")


class _MemberCount(serializers.Serializer):
    day = serializers.DateField()
    member_count = _nullable(serializers.IntegerField)


class _MemberRef(serializers.Serializer):
    user_id = serializers.CharField()
    username = serializers.CharField()
    display_name = serializers.CharField()
    telegram_user_id = _nullable(serializers.IntegerField)


class _TopMember(_MemberRef):
    messages = serializers.IntegerField()
    share = _nullable(serializers.FloatField, help_text="Of the group's messages in the period")


class _Cohort(serializers.Serializer):
    week_start = serializers.DateField(help_text="Monday of the join week")
    joined = serializers.IntegerField()
    activated = serializers.IntegerField(help_text="Sent a message within 7 days of joining")
    activation_rate = _nullable(serializers.FloatField)
    eligible_7d = serializers.IntegerField()
    retained_7d = serializers.IntegerField()
    retention_7d = _nullable(serializers.FloatField)
    eligible_30d = serializers.IntegerField()
    retained_30d = serializers.IntegerField()
    retention_30d = _nullable(serializers.FloatField)


class _Moderator(_MemberRef):
    actions = serializers.IntegerField()


class ModerationFiguresSerializer(serializers.Serializer):
    actions = serializers.IntegerField()
    automated = serializers.IntegerField()
    manual = serializers.IntegerField()
    by_type = serializers.DictField(child=serializers.IntegerField())
    by_rule = serializers.DictField(child=serializers.IntegerField())
    by_moderator = _Moderator(many=True)
    reports = serializers.IntegerField()
    reports_actioned = serializers.IntegerField()
    median_report_to_action_seconds = _nullable(serializers.FloatField)


class GroupAnalyticsSerializer(serializers.Serializer):
    group_id = serializers.CharField()
    timezone = serializers.CharField()
    bucket = serializers.ChoiceField(choices=BUCKETS)
    start = serializers.DateField()
    end = serializers.DateField()
    since = serializers.DateTimeField()
    until = serializers.DateTimeField()
    totals = _Totals()
    activity = _Activity()
    series = _Point(many=True)
    member_count = _MemberCount(many=True)
    heatmap = serializers.ListField(child=serializers.ListField(child=serializers.IntegerField()),
                                    help_text="Messages by weekday (0 = Monday) then hour, in the group's clock")
    top_members = _TopMember(many=True)
    cohorts = _Cohort(many=True)
    moderation = ModerationFiguresSerializer()


class _MemberDayPoint(serializers.Serializer):
    day = serializers.DateField()
    messages = serializers.IntegerField()
    commands = serializers.IntegerField()


class _MemberPeriod(serializers.Serializer):
    messages = serializers.IntegerField()
    commands = serializers.IntegerField()
    active_days = serializers.IntegerField()


class _Warnings(serializers.Serializer):
    total = serializers.IntegerField()
    active = serializers.IntegerField()


class _GroupInCommon(serializers.Serializer):
    group_id = serializers.CharField()
    title = serializers.CharField()
    status = _nullable(serializers.CharField, help_text="The membership's status there (member, left, banned, ...); "
                                                        "null when only events saw the member")
    messages = serializers.IntegerField(help_text="The member's messages there, lifetime")
    last_seen = _nullable(serializers.DateTimeField)


class MemberAnalyticsSerializer(_MemberRef):
    group_id = serializers.CharField()
    timezone = serializers.CharField()
    start = serializers.DateField()
    end = serializers.DateField()
    first_seen = _nullable(serializers.DateTimeField)
    last_seen = _nullable(serializers.DateTimeField)
    joined_at = _nullable(serializers.DateTimeField)
    lifetime = _Counters()
    period = _MemberPeriod()
    series = _MemberDayPoint(many=True)
    warnings = _Warnings()
    actions_received = serializers.DictField(child=serializers.IntegerField())
    reports_received = serializers.IntegerField()
    groups_in_common = _GroupInCommon(
        many=True, help_text="The member's other groups (present or past). For an acting user (X-Acting-User-ID), "
                             "only those where that user holds VIEW_STATS; a service's own read sees all")


class _RankedGroup(_Counters):
    group_id = serializers.CharField()
    title = serializers.CharField()
    net_growth = serializers.IntegerField()
    daily_active_members = serializers.FloatField()


class _PlatformTotals(_Counters):
    net_growth = serializers.IntegerField()
    daily_active_members = serializers.FloatField(help_text="Mean over the days of the groups' active members")
    groups = serializers.IntegerField()
    active_groups = serializers.IntegerField()
    groups_with_activity = serializers.IntegerField()
    members = serializers.IntegerField(help_text="Members of the active groups now")
    moderation_actions = serializers.IntegerField()
    automated_actions = serializers.IntegerField()
    manual_actions = serializers.IntegerField()
    reports = serializers.IntegerField()


class PlatformOverviewSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()
    since = serializers.DateTimeField()
    until = serializers.DateTimeField()
    totals = _PlatformTotals()
    by_activity = _RankedGroup(many=True)
    by_growth = _RankedGroup(many=True)


class GroupAnalyticsApi(APIView):
    acting_user_permissions = {"GET": "VIEW_STATS"}  # in the group read: apps/rbac/permissions.py
    acting_user_group_kwarg = "group_id"

    @extend_schema(operation_id="analytics_group", parameters=[PeriodQuerySerializer],
                   responses={200: envelope(GroupAnalyticsSerializer), **error_responses(404)})
    def get(self, request, group_id):
        group = group_get(group_id=group_id)
        window = window_resolve(zone=group_zone(group), **parse_query(PeriodQuerySerializer, request))
        return Response(GroupAnalyticsSerializer(group_analytics(group=group, window=window)).data)


class MemberAnalyticsApi(APIView):
    acting_user_permissions = {"GET": "VIEW_STATS"}
    acting_user_group_kwarg = "group_id"

    @extend_schema(operation_id="analytics_member", parameters=[PeriodQuerySerializer],
                   responses={200: envelope(MemberAnalyticsSerializer), **error_responses(404)})
    def get(self, request, group_id, user_id):
        group = group_get(group_id=group_id)
        window = window_resolve(zone=group_zone(group), **parse_query(PeriodQuerySerializer, request))
        user = user_get(user_id=user_id)
        figures = member_analytics(group=group, user=user, window=window, acting_user_id=acting_user_id(request))
        return Response(MemberAnalyticsSerializer(figures).data)


class OverviewQuerySerializer(PeriodQuerySerializer):
    bucket = None
    limit = serializers.IntegerField(min_value=1, max_value=100, default=20, help_text="Groups per ranking")


class PlatformOverviewApi(APIView):
    acting_user_permissions = {"GET": "VIEW_STATS"}  # global: platform staff

    @extend_schema(operation_id="analytics_overview", parameters=[OverviewQuerySerializer],
                   responses={200: envelope(PlatformOverviewSerializer), **error_responses()})
    def get(self, request):
        query = dict(parse_query(OverviewQuerySerializer, request))
        limit = query.pop("limit")
        window = window_resolve(zone=UTC_ZONE, **query)
        return Response(PlatformOverviewSerializer(platform_overview(window=window, limit=limit)).data)
