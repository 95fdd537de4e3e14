from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView


class EchoApi(APIView):
    """The baseline: a DRF JSON POST view with the product's parser, renderer, auth and permission classes.

    It parses the same body a permission check receives and answers a payload of the same shape, doing no
    database or cache work. Whatever a check costs on top of this is the RBAC engine and its audit record.
    """

    def post(self, request):
        if not isinstance(request.data, dict):
            raise serializers.ValidationError({"non_field_errors": ["The body must be a JSON object."]})
        return Response({"allowed": "permission" in request.data, "reason": "bench_echo"})
