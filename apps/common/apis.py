from django.conf import settings
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from .envelope import error_body
from .health import CRITICAL, PROBES
from .schema import ErrorEnvelopeSerializer, envelope


class HealthApi(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    class OutputSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=["healthy", "degraded", "unhealthy"])
        service = serializers.CharField()
        version = serializers.CharField()
        database = serializers.ChoiceField(choices=["connected", "unreachable"], required=False)
        cache = serializers.ChoiceField(choices=["connected", "unreachable"], required=False)

    @extend_schema(
        operation_id="health",
        auth=[],
        responses={
            200: envelope(OutputSerializer),
            503: inline_serializer(
                "HealthUnavailable",
                {
                    "success": serializers.BooleanField(),
                    "error": serializers.CharField(),
                    "message": serializers.CharField(),
                    "status_code": serializers.IntegerField(),
                    "details": OutputSerializer(),
                },
            ),
        },
    )
    def get(self, request):
        results = {name: PROBES[name]() for name in settings.HEALTH_CHECKS}
        failed = [name for name, ok in results.items() if not ok]
        critical_failed = [name for name in failed if name in CRITICAL]
        status = "unhealthy" if critical_failed else "degraded" if failed else "healthy"
        report = {
            "status": status,
            "service": settings.SERVICE_NAME,
            "version": settings.VERSION,
            **{name: "connected" if ok else "unreachable" for name, ok in results.items()},
        }
        if critical_failed:
            message = f"{', '.join(critical_failed)} unreachable"
            return Response(error_body("service_unavailable", message, 503, report), status=503)
        return Response(report)


__all__ = ["ErrorEnvelopeSerializer", "HealthApi"]
