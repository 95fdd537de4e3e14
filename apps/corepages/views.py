"""Core's pages for people: the landing page at /, the API docs (Swagger UI from this instance's static files)
with a login link for a visitor without credentials, and the schema readable in the browsable API."""

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import get_user
from django.template.response import TemplateResponse
from django.views.decorators.http import require_safe
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.exceptions import NotAuthenticated, PermissionDenied
from rest_framework.renderers import BrowsableAPIRenderer

from apps.common.schema_views import CachedSchemaView

LINKS = [
    ("API docs", "docs", "Swagger UI of every endpoint (staff session or service key)."),
    ("Browsable API", "groups", "The API in the browser, starting at the Telegram groups."),
    ("OpenAPI schema", "schema", "The machine-readable description (YAML; JSON with ?format=json)."),
    ("Admin", "admin:index", "Users, Telegram groups, roles and the audit trail."),
    ("Health", "health", "The service and its dependencies, for probes."),
    ("Metrics", "prometheus-django-metrics", "Prometheus text format."),
]


def _page_context(request, title: str) -> dict:
    """The admin's own context (header, user tools), so these pages look like it; no sidebar."""
    return {**admin.site.each_context(request), "title": title, "is_nav_sidebar_enabled": False}


@require_safe
def landing(request):
    context = {**_page_context(request, "Centralized API"), "links": LINKS, "version": settings.VERSION,
               "service": settings.SERVICE_NAME}
    return TemplateResponse(request, "corepages/landing.html", context)


class DocsView(SpectacularSwaggerSplitView):
    """Swagger UI for staff and services; a browser without credentials gets a page with a login link instead of
    a bare 401, and a signed-in non-staff user one saying why (403)."""

    template_name = "common/swagger_ui.html"

    def handle_exception(self, exc):
        request = self.request._request
        for_a_browser = "script" not in request.GET and "X-API-Key" not in request.headers
        if for_a_browser and isinstance(exc, NotAuthenticated | PermissionDenied):
            request.user = get_user(request)  # the session's user: DRF left its own verdict (None) there
            user = request.user if request.user.is_authenticated else None
            context = {**_page_context(request, "API docs"), "signed_in_user": user}
            return TemplateResponse(request, "corepages/docs_login.html", context, status=200 if user is None else 403)
        return super().handle_exception(exc)


class SchemaView(CachedSchemaView):
    """The schema (YAML by default); a browser asking for HTML gets it inside the browsable API."""

    renderer_classes = [*SpectacularAPIView.renderer_classes, BrowsableAPIRenderer]
