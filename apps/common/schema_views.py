"""The OpenAPI schema view, generated once per process: drf-spectacular builds the schema from every view on each
request (seconds of CPU for core's), while it only changes with the code. Served publicly (SERVE_PUBLIC), it is
the same for every caller; it is kept per API version and language, and forgotten when a setting changes (tests)."""

from django.core.signals import setting_changed
from django.utils import translation
from drf_spectacular.views import SpectacularAPIView
from rest_framework.response import Response

_generated: dict[tuple, dict] = {}


def _forget(**_kwargs) -> None:
    _generated.clear()


setting_changed.connect(_forget, dispatch_uid="schema-views-forget")


class CachedSchemaView(SpectacularAPIView):
    def _get_schema_response(self, request):
        if not self.serve_public:  # a schema filtered by the caller's permissions: built for each caller
            return super()._get_schema_response(request)
        version = self.api_version or request.version or self._get_version_parameter(request)
        key = (self.urlconf, tuple(self.patterns or ()), version, translation.get_language())
        schema = _generated.get(key)
        if schema is None:
            generator = self.generator_class(urlconf=self.urlconf, api_version=version, patterns=self.patterns)
            schema = _generated[key] = generator.get_schema(request=request, public=True)
        return Response(data=schema, headers={
            "Content-Disposition": f'inline; filename="{self._get_filename(request, version)}"'})
