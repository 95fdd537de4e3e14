"""The Statistics pages: a group's (linked from the group page), one member's in a group (from the top members and
the user page) and the platform's (global staff). Each reads one answer of core's analytics (apps.dashboard.analytics)
and shows it as tables (analytics_tables.py), each charted by static/dashboard/js/analytics_charts.js from the table
itself and downloadable as CSV (?format=csv&table=<name>), built from the same answer."""

from django.http import HttpResponse
from django.views.decorators.http import require_safe
from rest_framework import serializers

from apps.dashboard import analytics, services
from apps.dashboard.analytics_shapes import AnalyticsOverviewQuerySerializer, AnalyticsPeriodQuerySerializer

from .analytics_tables import group_tables, member_tables, platform_tables, table_csv
from .auth import dashboard_page
from .common import optional, query_filters, render_page, url_with

EXPORT = ("format", "table")
PERIOD_CHOICES = [("today", "Today"), ("7d", "Last 7 days"), ("30d", "Last 30 days"), ("custom", "Custom dates")]
BUCKET_CHOICES = [("", "Automatic"), ("hour", "Hours"), ("day", "Days")]
# Headline cards: the summary rows shown big at the top (the rest stay in the table).
GROUP_CARDS = ("messages", "active_members", "dau", "wau", "mau", "stickiness", "joins", "leaves", "net_growth",
               "messages_per_active_member")
PLATFORM_CARDS = ("messages", "daily_active_members", "joins", "leaves", "net_growth", "groups_with_activity",
                  "moderation_actions", "reports")


def _period(request, serializer) -> dict:
    """The picker's query through the API's serializer. Its date fields keep what was typed when another period is
    picked: they count with period=custom only (the API itself refuses them otherwise, as core does)."""
    drop = EXPORT if request.GET.get("period") == "custom" else (*EXPORT, "start", "end")
    return query_filters(serializer, request, drop=drop)


def _picker(request, *, buckets: bool) -> dict:
    return {"period": request.GET.get("period") or "7d", "start": request.GET.get("start", ""),
            "end": request.GET.get("end", ""), "bucket": request.GET.get("bucket", ""),
            "periods": PERIOD_CHOICES, "buckets": BUCKET_CHOICES if buckets else None}


def _same_period(request, path: str) -> str:
    """`path` with this page's period (not its bucket, export or ranking length)."""
    params = request.GET.copy()
    for key in (*EXPORT, "bucket", "limit"):
        params.pop(key, None)
    query = params.urlencode()
    return f"{path}?{query}" if query else path


def _cards(tables, keys) -> list[dict]:
    summary = tables["summary"]
    rows = dict(zip(summary.keys, summary.rows, strict=True))
    return [{"key": key, "label": rows[key][0].shown, "value": rows[key][1].shown} for key in keys if key in rows]


def _answer(request, template: str, context: dict, tables: dict, *, filename: str, nav: str):
    """The page, or one of its tables as CSV when asked (?format=csv&table=<name>)."""
    if "format" in request.GET or "table" in request.GET:
        if request.GET.get("format") != "csv":
            raise serializers.ValidationError({"format": ["Only csv."]})
        table = tables.get(request.GET.get("table", ""))
        if table is None:
            raise serializers.ValidationError({"table": [f"One of: {', '.join(tables)}."]})
        response = HttpResponse(table_csv(table), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{filename}-{table.name}.csv"'
        return response
    for table in tables.values():
        table.csv_url = url_with(request, format="csv", table=table.name)
    return render_page(request, template, {**context, "tables": tables}, nav=nav)


@dashboard_page
@require_safe
def group_statistics(request, group_id):
    user = request.dashboard_user
    figures = analytics.group_figures(user, group_id, **_period(request, AnalyticsPeriodQuerySerializer))
    group, _ = optional(services.group_get, user, group_id)
    tables = group_tables(figures, member_url=lambda member_id: _same_period(
        request, f"/groups/{group_id}/statistics/members/{member_id}"))
    return _answer(request, "analytics_group.html", {
        "group": group or {"id": group_id, "title": group_id}, "figures": figures,
        "picker": _picker(request, buckets=True), "cards": _cards(tables, GROUP_CARDS),
    }, tables, filename=f"group-{group_id}-{figures['start']}-{figures['end']}", nav="groups")


@dashboard_page
@require_safe
def member_statistics(request, group_id, user_id):
    user = request.dashboard_user
    figures = analytics.member_figures(user, group_id, user_id, **_period(request, AnalyticsPeriodQuerySerializer))
    group, _ = optional(services.group_get, user, group_id)
    tables = member_tables(figures, group_url=lambda other_id: _same_period(
        request, f"/groups/{other_id}/statistics/members/{user_id}"))
    return _answer(request, "analytics_member.html", {
        "group": group or {"id": group_id, "title": group_id}, "figures": figures,
        "picker": _picker(request, buckets=False),
    }, tables, filename=f"member-{user_id}-group-{group_id}-{figures['start']}-{figures['end']}", nav="groups")


@dashboard_page
@require_safe
def platform_statistics(request):
    figures = analytics.platform_figures(request.dashboard_user,
                                         **_period(request, AnalyticsOverviewQuerySerializer))
    tables = platform_tables(figures, group_url=lambda group_id: _same_period(
        request, f"/groups/{group_id}/statistics"))
    return _answer(request, "analytics_platform.html", {
        "figures": figures, "picker": _picker(request, buckets=False), "cards": _cards(tables, PLATFORM_CARDS),
    }, tables, filename=f"platform-{figures['start']}-{figures['end']}", nav="statistics")
