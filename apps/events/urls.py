from django.urls import path

from .apis import EventBatchApi, GroupStatsApi

urlpatterns = [
    path("events/batch", EventBatchApi.as_view(), name="events-batch"),
    path("stats/groups/<str:group_id>", GroupStatsApi.as_view(), name="stats-group"),
]
