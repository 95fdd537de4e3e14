from django.conf import settings
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.common.health import probe_cache
from apps.common.schema import envelope
from apps.coreclient import CoreError, CoreUnavailable

from .core import core


def probe_core() -> bool:
    try:
        core().health()
        return True
    except (CoreUnavailable, CoreError):
        return False


class WebHealthApi(APIView):
    """Web is up when it answers; core unreachable degrades it (its API answers 503 core_unavailable meanwhile)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(operation_id="health", auth=[], responses={200: envelope(inline_serializer("WebHealth", {
        "status": serializers.ChoiceField(choices=["healthy", "degraded"]),
        "service": serializers.CharField(),
        "version": serializers.CharField(),
        "cache": serializers.ChoiceField(choices=["connected", "unreachable"]),
        "core_api": serializers.ChoiceField(choices=["connected", "unreachable"]),
    }).__class__)})
    def get(self, request):
        cache_ok, core_ok = probe_cache(), probe_core()
        return Response({
            "status": "healthy" if cache_ok and core_ok else "degraded",
            "service": settings.SERVICE_NAME,
            "version": settings.VERSION,
            "cache": "connected" if cache_ok else "unreachable",
            "core_api": "connected" if core_ok else "unreachable",
        })
