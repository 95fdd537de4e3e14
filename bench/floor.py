"""The floor: the least a DRF request can cost here. A DRF `APIView` with no middleware, no authentication, no
permission classes, only the JSON parser and renderer, served by the same gunicorn settings as core (its own
gunicorn, started by bench.run beside core's and measured by the same wrk load in the same run).

`bench.floor_settings` is the profile it runs under; every product figure in `make bench` is reported as a ratio
to this view's requests/s and p99.
"""

from django.http import HttpResponse
from django.urls import path
from rest_framework import serializers
from rest_framework.parsers import JSONParser
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView


class FloorApi(APIView):
    """POST: parses the body a permission check receives and answers a payload of the same shape, nothing else."""

    authentication_classes: list = []
    permission_classes: list = []
    parser_classes = [JSONParser]
    renderer_classes = [JSONRenderer]

    def post(self, request):
        if not isinstance(request.data, dict):
            raise serializers.ValidationError({"non_field_errors": ["The body must be a JSON object."]})
        return Response({"allowed": "permission" in request.data, "reason": "bench_floor"})

    def get(self, request):
        """The floor for a list (bench.web): a GET answered with a constant payload."""
        return Response({"items": [], "total": 0, "page": 1, "limit": 20})


def ready(request):
    """What bench.run polls until the floor's gunicorn answers."""
    return HttpResponse(b"ok")


urlpatterns = [path("bench/floor", FloorApi.as_view(), name="bench-floor"), path("api/health", ready)]
