from django.urls import include, path, re_path

from apps.botgateway.health import bot_health
from apps.common.errors import json_not_found

urlpatterns = [
    path("api/health", bot_health, name="health"),
    path("", include("django_prometheus.urls")),
    re_path(r"^api/", json_not_found),
]

handler404 = "apps.common.errors.json_not_found"
handler500 = "apps.common.errors.json_server_error"
