from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularSwaggerSplitView

from apps.common.errors import json_not_found
from apps.common.favicon import favicon
from apps.common.schema_views import CachedSchemaView
from apps.dashboard.health import WebHealthApi

api = [
    path("health", WebHealthApi.as_view(), name="health"),
    path("", include("apps.dashboard.urls")),
    path("schema", CachedSchemaView.as_view(), name="schema"),
    path("docs", SpectacularSwaggerSplitView.as_view(url_name="schema", template_name="common/swagger_ui.html"),
         name="docs"),
]

urlpatterns = [
    path("favicon.ico", favicon, name="favicon"),
    path("api/", include(api)),
    # Dashboard pages (server-rendered) mount here, outside /api/.
    path("", include("apps.dashboard.pages.urls")),
    path("", include("django_prometheus.urls")),
    re_path(r"^api/", json_not_found),
]

handler400 = "apps.common.errors.json_bad_request"
handler403 = "apps.common.errors.json_forbidden"
handler404 = "apps.dashboard.pages.views.not_found"  # JSON under /api/, a page elsewhere
handler500 = "apps.common.errors.json_server_error"
