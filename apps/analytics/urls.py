from django.urls import path

from .apis import GroupAnalyticsApi, MemberAnalyticsApi, PlatformOverviewApi

urlpatterns = [
    path("groups/<str:group_id>/analytics", GroupAnalyticsApi.as_view(), name="analytics-group"),
    path("groups/<str:group_id>/analytics/members/<str:user_id>", MemberAnalyticsApi.as_view(),
         name="analytics-member"),
    path("analytics/overview", PlatformOverviewApi.as_view(), name="analytics-overview"),
]
