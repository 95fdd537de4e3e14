from django.contrib import admin
from django.urls import include, path, re_path

from apps.accounts.views import admin_login, api_auth_login
from apps.common.apis import HealthApi
from apps.common.errors import json_not_found
from apps.common.favicon import favicon
from apps.corepages.views import DocsView, SchemaView, landing

api = [
    path("health", HealthApi.as_view(), name="health"),
    path("", include("apps.users.urls")),
    path("", include("apps.groups.urls")),
    path("", include("apps.rbac.urls")),
    path("", include("apps.audit.urls")),
    path("", include("apps.moderation.urls")),
    path("", include("apps.logchannel.urls")),
    path("", include("apps.protection.urls")),
    path("", include("apps.contentrules.urls")),
    path("", include("apps.banlists.urls")),
    path("", include("apps.challenges.urls")),
    path("", include("apps.events.urls")),
    path("", include("apps.stats.urls")),
    path("", include("apps.analytics.urls")),
    path("", include("apps.accounts.urls")),
    path("schema", SchemaView.as_view(), name="schema"),
    path("docs", DocsView.as_view(url_name="schema"), name="docs"),
]

urlpatterns = [
    path("", landing, name="landing"),
    path("favicon.ico", favicon, name="favicon"),
    path("api/", include(api)),
    # Core's session logins, limited and audited (apps/accounts/views.py), ahead of the stock ones.
    path("api-auth/login/", api_auth_login, name="api-auth-login"),
    path("admin/login/", admin_login, name="admin-login"),
    path("api-auth/", include("rest_framework.urls")),
    path("admin/", admin.site.urls),
    path("", include("django_prometheus.urls")),
    # Unknown API paths answer in the envelope even with DEBUG on.
    re_path(r"^api/", json_not_found),
]

handler400 = "apps.common.errors.json_bad_request"
handler403 = "apps.common.errors.json_forbidden"
handler404 = "apps.common.errors.json_not_found"
handler500 = "apps.common.errors.json_server_error"
