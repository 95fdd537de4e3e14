from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from .health import (
    CONNECTED,
    DISCONNECTED,
    HEALTHY,
    NOT_CONFIGURED,
    UNHEALTHY,
    health_report,
    probe_database,
    probe_redis,
)


class HealthApi(APIView):
    """The seed's body, not enveloped: probes and people read it as is."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    class OutputSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=[HEALTHY, UNHEALTHY])
        service = serializers.CharField()
        version = serializers.CharField()
        database = serializers.ChoiceField(choices=[CONNECTED, DISCONNECTED])
        redis = serializers.ChoiceField(choices=[CONNECTED, DISCONNECTED, NOT_CONFIGURED])

    @extend_schema(
        operation_id="health",
        auth=[],
        responses={
            200: OutputSerializer,
            503: OpenApiResponse(OutputSerializer, description="A dependency is disconnected: status unhealthy."),
        },
    )
    def get(self, request):
        body, status = health_report({"database": probe_database(), "redis": probe_redis()})
        response = Response(body, status=status)
        response.raw_body = True
        return response
