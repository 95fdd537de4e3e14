"""Web's REST API for analytics: thin views over apps.dashboard.analytics, which relays core's figures for the token
user. Core owns the rules (a custom period's bounds, the longest period, hour buckets' limit): its 400s, 403s and
404s pass through in the envelope."""

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.common.parsing import parse_query
from apps.common.schema import envelope

from . import analytics, schema
from .analytics_shapes import (
    AnalyticsOverviewQuerySerializer,
    AnalyticsPeriodQuerySerializer,
    GroupAnalyticsSerializer,
    MemberAnalyticsSerializer,
    PlatformOverviewSerializer,
)

PERIOD_RULES = ("Periods are whole days of the group's clock (its time zone). period=custom needs start and end "
                "(inclusive, at most 92 days); start or end without it, end before start, or hour buckets over more "
                "than 31 days are core's 400 validation_error naming the field.")


class GroupAnalyticsApi(APIView):
    @extend_schema(operation_id="groups_analytics", parameters=[AnalyticsPeriodQuerySerializer],
                   description="A group's figures over a period: totals, DAU/WAU/MAU and stickiness, the series, "
                               "member count, weekday x hour heatmap, top members, join-week cohorts, moderation. "
                               "Needs VIEW_STATS in the group (or globally). " + PERIOD_RULES,
                   responses={200: envelope(GroupAnalyticsSerializer), **schema.web_errors(404)})
    def get(self, request, group_id):
        period = parse_query(AnalyticsPeriodQuerySerializer, request)
        return Response(analytics.group_figures(request.user, group_id, **period))


class MemberAnalyticsApi(APIView):
    @extend_schema(operation_id="groups_analytics_member", parameters=[AnalyticsPeriodQuerySerializer],
                   description="One member's figures in a group: first and last seen, lifetime counts, messages "
                               "per day in the period, warnings, actions and reports received. Needs VIEW_STATS in "
                               "the group (or globally). " + PERIOD_RULES,
                   responses={200: envelope(MemberAnalyticsSerializer), **schema.web_errors(404)})
    def get(self, request, group_id, user_id):
        period = parse_query(AnalyticsPeriodQuerySerializer, request)
        return Response(analytics.member_figures(request.user, group_id, user_id, **period))


class PlatformAnalyticsApi(APIView):
    @extend_schema(operation_id="analytics_overview", parameters=[AnalyticsOverviewQuerySerializer],
                   description="The platform's headline figures summed over the groups (each group's own calendar), "
                               "and the groups ranked by messages and by net growth. Needs VIEW_STATS globally "
                               "(platform staff). Days are UTC's. " + PERIOD_RULES.split(". ", 1)[1],
                   responses={200: envelope(PlatformOverviewSerializer)})
    def get(self, request):
        period = parse_query(AnalyticsOverviewQuerySerializer, request)
        return Response(analytics.platform_figures(request.user, **period))
