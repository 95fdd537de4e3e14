from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from apps.common.apis import health_response
from apps.common.health import (
    CONNECTED,
    DISCONNECTED,
    HEALTHY,
    NOT_CONFIGURED,
    UNHEALTHY,
    probe_redis,
)
from apps.coreclient import CoreError, CoreUnavailable

from .core import core


def probe_core() -> str:
    try:
        core().health()
        return CONNECTED
    except (CoreUnavailable, CoreError):
        return DISCONNECTED


WebHealth = inline_serializer("WebHealth", {
    "status": serializers.ChoiceField(choices=[HEALTHY, UNHEALTHY]),
    "service": serializers.CharField(),
    "version": serializers.CharField(),
    "core_api": serializers.ChoiceField(choices=[CONNECTED, DISCONNECTED]),
    "redis": serializers.ChoiceField(choices=[CONNECTED, DISCONNECTED, NOT_CONFIGURED]),
})


class WebHealthApi(APIView):
    """The seed's body, with core's reachability instead of a database: 503 unhealthy while core (whose
    outage web's API answers with 503 core_unavailable) or a configured Redis is unreachable."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(operation_id="health", auth=[], responses={
        200: WebHealth,
        503: OpenApiResponse(WebHealth, description="core or Redis is disconnected: status unhealthy."),
    })
    def get(self, request):
        return health_response({"core_api": probe_core(), "redis": probe_redis()})
