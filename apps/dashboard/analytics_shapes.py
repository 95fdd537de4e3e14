"""OpenAPI shapes of core's analytics answers as web passes them on (docs/analytics.md), and the period query both
roles take. Web cannot import core's serializers (apps/analytics/apis.py): tests/dashboard/test_analytics_api.py holds
these to core's, field by field, so the two cannot drift apart unseen."""

from rest_framework import serializers

PERIODS = ("today", "7d", "30d", "custom")
BUCKETS = ("hour", "day")


class AnalyticsPeriodQuerySerializer(serializers.Serializer):
    period = serializers.ChoiceField(choices=PERIODS, default="7d",
                                     help_text="today, the last 7 or 30 days (ending today), or custom")
    start = serializers.DateField(required=False, help_text="custom: the first day (YYYY-MM-DD), in the clock's days")
    end = serializers.DateField(required=False, help_text="custom: the last day, inclusive (at most 92 days)")
    bucket = serializers.ChoiceField(choices=BUCKETS, required=False,
                                     help_text="The series' step; default hour for one day, else day")


class AnalyticsOverviewQuerySerializer(AnalyticsPeriodQuerySerializer):
    bucket = None
    limit = serializers.IntegerField(min_value=1, max_value=100, default=20, help_text="Groups per ranking")


def _nullable(field_class, **kwargs):
    return field_class(allow_null=True, **kwargs)


class AnalyticsCountersSerializer(serializers.Serializer):
    messages = serializers.IntegerField()
    commands = serializers.IntegerField()
    joins = serializers.IntegerField()
    leaves = serializers.IntegerField()


class AnalyticsTotalsSerializer(AnalyticsCountersSerializer):
    net_growth = serializers.IntegerField()
    active_members = serializers.IntegerField(help_text="Distinct members active in the period")
    messages_per_active_member = _nullable(serializers.FloatField)
    member_count_start = _nullable(serializers.IntegerField, help_text="The count on the eve of the period")
    member_count_end = _nullable(serializers.IntegerField)


class AnalyticsActivitySerializer(serializers.Serializer):
    dau = serializers.FloatField(help_text="Mean daily active members over the period's days")
    wau = serializers.IntegerField(help_text="Distinct active members of the 7 days ending on the last day")
    mau = serializers.IntegerField(help_text="Distinct active members of the 30 days ending on the last day")
    dau_30 = serializers.FloatField(help_text="Mean daily active members over those 30 days")
    stickiness = _nullable(serializers.FloatField, help_text="dau_30 / mau")


class AnalyticsPointSerializer(AnalyticsCountersSerializer):
    start = serializers.DateTimeField()
    day = serializers.DateField()
    active_members = _nullable(serializers.IntegerField, help_text="Day buckets only")


class AnalyticsMemberCountSerializer(serializers.Serializer):
    day = serializers.DateField()
    member_count = _nullable(serializers.IntegerField)


class AnalyticsMemberRefSerializer(serializers.Serializer):
    user_id = serializers.CharField()
    username = serializers.CharField()
    display_name = serializers.CharField()
    telegram_user_id = _nullable(serializers.IntegerField)


class AnalyticsTopMemberSerializer(AnalyticsMemberRefSerializer):
    messages = serializers.IntegerField()
    share = _nullable(serializers.FloatField, help_text="Of the group's messages in the period")


class AnalyticsCohortSerializer(serializers.Serializer):
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


class AnalyticsModeratorSerializer(AnalyticsMemberRefSerializer):
    actions = serializers.IntegerField()


class AnalyticsModerationSerializer(serializers.Serializer):
    actions = serializers.IntegerField()
    automated = serializers.IntegerField()
    manual = serializers.IntegerField()
    by_type = serializers.DictField(child=serializers.IntegerField())
    by_rule = serializers.DictField(child=serializers.IntegerField())
    by_moderator = AnalyticsModeratorSerializer(many=True)
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
    totals = AnalyticsTotalsSerializer()
    activity = AnalyticsActivitySerializer()
    series = AnalyticsPointSerializer(many=True)
    member_count = AnalyticsMemberCountSerializer(many=True)
    heatmap = serializers.ListField(child=serializers.ListField(child=serializers.IntegerField()),
                                    help_text="Messages by weekday (0 = Monday) then hour, in the group's clock")
    top_members = AnalyticsTopMemberSerializer(many=True)
    cohorts = AnalyticsCohortSerializer(many=True)
    moderation = AnalyticsModerationSerializer()


class AnalyticsMemberDaySerializer(serializers.Serializer):
    day = serializers.DateField()
    messages = serializers.IntegerField()
    commands = serializers.IntegerField()


class AnalyticsMemberPeriodSerializer(serializers.Serializer):
    messages = serializers.IntegerField()
    commands = serializers.IntegerField()
    active_days = serializers.IntegerField()


class AnalyticsWarningsSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    active = serializers.IntegerField()


class AnalyticsGroupInCommonSerializer(serializers.Serializer):
    group_id = serializers.CharField()
    title = serializers.CharField()
    status = _nullable(serializers.CharField, help_text="The membership's status there (member, left, banned, ...); "
                                                        "null when only events saw the member")
    messages = serializers.IntegerField(help_text="The member's messages there, lifetime")
    last_seen = _nullable(serializers.DateTimeField)


class MemberAnalyticsSerializer(AnalyticsMemberRefSerializer):
    group_id = serializers.CharField()
    timezone = serializers.CharField()
    start = serializers.DateField()
    end = serializers.DateField()
    first_seen = _nullable(serializers.DateTimeField)
    last_seen = _nullable(serializers.DateTimeField)
    joined_at = _nullable(serializers.DateTimeField)
    lifetime = AnalyticsCountersSerializer()
    period = AnalyticsMemberPeriodSerializer()
    series = AnalyticsMemberDaySerializer(many=True)
    warnings = AnalyticsWarningsSerializer()
    actions_received = serializers.DictField(child=serializers.IntegerField())
    reports_received = serializers.IntegerField()
    groups_in_common = AnalyticsGroupInCommonSerializer(
        many=True, help_text="The member's other groups (present or past) where the token user holds VIEW_STATS")


class AnalyticsRankedGroupSerializer(AnalyticsCountersSerializer):
    group_id = serializers.CharField()
    title = serializers.CharField()
    net_growth = serializers.IntegerField()
    daily_active_members = serializers.FloatField()


class AnalyticsPlatformTotalsSerializer(AnalyticsCountersSerializer):
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
    totals = AnalyticsPlatformTotalsSerializer()
    by_activity = AnalyticsRankedGroupSerializer(many=True)
    by_growth = AnalyticsRankedGroupSerializer(many=True)
