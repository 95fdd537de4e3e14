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


def health_response(dependencies: dict[str, str]) -> Response:
    """The health body and status for these dependency states, not enveloped (``raw_body``)."""
    body, status = health_report(dependencies)
    response = Response(body, status=status)
    response.raw_body = True
    return response


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
        return health_response({"database": probe_database(), "redis": probe_redis()})
