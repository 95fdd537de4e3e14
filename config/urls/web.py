from django.urls import include, path, re_path

from apps.common.apis import HealthApi
from apps.common.errors import json_not_found

urlpatterns = [
    path("api/health", HealthApi.as_view(), name="health"),
    path("", include("django_prometheus.urls")),
    re_path(r"^api/", json_not_found),
]

handler404 = "apps.common.errors.json_not_found"
handler500 = "apps.common.errors.json_server_error"
