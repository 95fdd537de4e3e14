from django.urls import path

from .apis import GroupStatsApi, SystemStatsApi

urlpatterns = [
    path("stats/groups/<str:group_id>", GroupStatsApi.as_view(), name="stats-group"),
    # Under /rbac/ since the first release; the route's name is what service scopes refer to.
    path("rbac/system/stats", SystemStatsApi.as_view(), name="rbac-system-stats"),
]
