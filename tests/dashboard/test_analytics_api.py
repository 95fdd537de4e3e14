"""Web's REST API for analytics, against real core and web processes: the three endpoints relay core's answer for the
token user (the same JSON core gives for that period), core's 400, 403 and 404 pass through in the envelope, and every
JSON answer is checked against web's own OpenAPI schema. Web's shapes and period query are held to core's serializers
field by field (web cannot import them)."""

import httpx
import pytest
from rest_framework import serializers

from apps.analytics import apis as core_analytics
from apps.dashboard import analytics_shapes as web_shapes
from tests.e2e.test_web_api import Schema, error

from .pages_platform import browser_for, dashboard_platform, unique  # noqa: F401 (fixture)
from .test_analytics_pages import generate_activity

# -- web's declarations are core's


def describe(field) -> object:
    """A field's type and constraints, nested serializers and lists unfolded."""
    if isinstance(field, serializers.ListSerializer):
        return ["many", describe(field.child)]
    if isinstance(field, serializers.Serializer):
        return {name: describe(child) for name, child in field.fields.items()}
    if isinstance(field, serializers.ListField | serializers.DictField):
        return [type(field).__name__, describe(field.child)]
    return {"type": type(field).__name__, "null": field.allow_null, "required": field.required,
            "default": None if field.default is serializers.empty else field.default,
            "choices": sorted(field.choices) if isinstance(field, serializers.ChoiceField) else None,
            "min": getattr(field, "min_value", None), "max": getattr(field, "max_value", None)}


@pytest.mark.parametrize(("web_serializer", "core_serializer"), [
    (web_shapes.GroupAnalyticsSerializer, core_analytics.GroupAnalyticsSerializer),
    (web_shapes.MemberAnalyticsSerializer, core_analytics.MemberAnalyticsSerializer),
    (web_shapes.PlatformOverviewSerializer, core_analytics.PlatformOverviewSerializer),
    (web_shapes.AnalyticsPeriodQuerySerializer, core_analytics.PeriodQuerySerializer),
    (web_shapes.AnalyticsOverviewQuerySerializer, core_analytics.OverviewQuerySerializer),
])
def test_web_declares_core_s_answers_and_queries(web_serializer, core_serializer):
    assert describe(web_serializer()) == describe(core_serializer())


# -- against real processes


@pytest.fixture(scope="module")
def web(dashboard_platform):  # noqa: F811
    return dashboard_platform


@pytest.fixture(scope="module")
def schema(web) -> Schema:
    response = httpx.get(f"{web.url}/api/schema?format=json", timeout=10)
    assert response.status_code == 200
    return Schema(response.json())


@pytest.fixture(scope="module")
def world(web):
    group = web.group(unique("Api stats "))
    activity = generate_activity(web, group)
    admin = web.user("admin", display_name="Api Admin")
    return {"group": group, "admin": admin, **activity}


@pytest.fixture(scope="module")
def admin(web, schema, world):
    return browser_for(web, schema, world["admin"])


def data(response: httpx.Response) -> dict:
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["success"] is True
    return body["data"]


@pytest.mark.e2e
@pytest.mark.parametrize("query", ["", "?period=today", "?period=30d&bucket=day", "?period=7d&bucket=hour"])
def test_a_group_s_figures_are_core_s(web, world, admin, query):
    group_id = world["group"]["id"]
    period = dict(pair.split("=") for pair in query.lstrip("?").split("&") if pair)
    answer = data(admin.get(f"/api/groups/{group_id}/analytics{query}"))
    assert answer == web.api.group_analytics(group_id, **period)
    assert answer["totals"]["messages"] == (18 if period.get("period") != "today" else answer["totals"]["messages"])


@pytest.mark.e2e
def test_a_member_s_figures_and_the_platform_s_are_core_s(web, world, admin):
    group_id = world["group"]["id"]
    anna = world["users"]["Anna Active"]
    member = data(admin.get(f"/api/groups/{group_id}/analytics/members/{anna['user_id']}?period=30d"))
    assert member == web.api.member_analytics(group_id, anna["user_id"], period="30d")
    assert member["period"]["messages"] == 12 and member["warnings"]["total"] == 1
    overview = data(admin.get("/api/analytics/overview?period=7d&limit=5"))
    assert overview == web.api.analytics_overview(period="7d", limit=5)
    assert len(overview["by_activity"]) <= 5


@pytest.mark.e2e
@pytest.mark.parametrize(("path", "field"), [
    ("analytics?period=custom", "start"),
    ("analytics?period=custom&start=2026-01-10", "end"),
    ("analytics?period=custom&start=2026-01-10&end=2026-01-01", "end"),
    ("analytics?period=custom&start=2026-01-01&end=2026-06-01", "end"),
    ("analytics?period=custom&start=2026-01-01&end=2026-03-01&bucket=hour", "bucket"),
    ("analytics?period=7d&start=2026-01-01", "start"),
])
def test_core_s_400s_pass_through_naming_the_field(world, admin, path, field):
    body = error(admin.get(f"/api/groups/{world['group']['id']}/{path}"), 400, "validation_error")
    assert field in body["details"], body


@pytest.mark.e2e
@pytest.mark.parametrize("path", [
    "/api/groups/{group}/analytics?period=week",
    "/api/groups/{group}/analytics?bucket=minute",
    "/api/groups/{group}/analytics?start=yesterday",
    "/api/groups/{group}/analytics?colour=red",
    "/api/analytics/overview?limit=0",
    "/api/analytics/overview?limit=101",
    "/api/analytics/overview?bucket=day",
])
def test_web_refuses_what_no_period_can_be(world, admin, path):
    error(admin.get(path.format(group=world["group"]["id"])), 400, "validation_error")


@pytest.mark.e2e
def test_unknown_and_malformed_ids(world, admin):
    error(admin.get("/api/groups/999999/analytics"), 404, "not_found")
    error(admin.get(f"/api/groups/{world['group']['id']}/analytics/members/999999"), 404, "not_found")
    error(admin.get("/api/groups/not-an-id/analytics"), 400, "invalid_id")
    error(admin.get(f"/api/groups/{world['group']['id']}/analytics/members/x"), 400, "invalid_id")


@pytest.mark.e2e
def test_view_stats_is_core_s_to_grant(web, schema, world):
    group_id = world["group"]["id"]
    anna = world["users"]["Anna Active"]
    member = browser_for(web, schema, web.user("member", group=world["group"]))
    for path in (f"/api/groups/{group_id}/analytics", f"/api/groups/{group_id}/analytics/members/{anna['user_id']}",
                 "/api/analytics/overview"):
        body = error(member.get(path), 403, "permission_denied")
        assert body["details"]["permission"] == "VIEW_STATS", body
    moderator = browser_for(web, schema, web.user("moderator", group=world["group"]))
    assert data(moderator.get(f"/api/groups/{group_id}/analytics"))["group_id"] == group_id
    error(moderator.get("/api/analytics/overview"), 403, "permission_denied")  # the platform's needs it globally
    error(moderator.get("/api/groups/999999/analytics"), 404, "not_found")
    assert error(httpx.get(f"{web.url}/api/analytics/overview"), 401, "unauthenticated")


@pytest.mark.e2e
def test_the_schema_documents_the_three_endpoints(schema):
    document = schema.document
    for path, operation_id in (("/api/groups/{group_id}/analytics", "groups_analytics"),
                               ("/api/groups/{group_id}/analytics/members/{user_id}", "groups_analytics_member"),
                               ("/api/analytics/overview", "analytics_overview")):
        operation = document["paths"][path]["get"]
        assert operation["operationId"] == operation_id
        assert {"200", "400", "401", "403", "503"} <= set(operation["responses"])
        names = {parameter["name"] for parameter in operation["parameters"] if parameter["in"] == "query"}
        assert {"period", "start", "end"} <= names
