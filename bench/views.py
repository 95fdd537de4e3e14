from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.common.parsing import parse_body
from apps.rbac.apis import CHECK_SHAPE, CheckInputSerializer, PermissionCheckBatchApi, decision_body
from apps.rbac.decisions import permission_decide_many
from apps.rbac.selectors import PermissionQuery


class EchoApi(APIView):
    """The baseline: a DRF JSON POST view with the product's parser, renderer, auth and permission classes.

    It parses the same body a permission check receives and answers a payload of the same shape, doing no
    database or cache work. Whatever a check costs on top of this is the RBAC engine and its audit record.
    """

    def post(self, request):
        if not isinstance(request.data, dict):
            raise serializers.ValidationError({"non_field_errors": ["The body must be a JSON object."]})
        return Response({"allowed": "permission" in request.data, "reason": "bench_echo"})


class _Unrecorded(APIView):
    """A bound, not a product endpoint: the permission check's own view, parsing and decision, with its audit
    event left out. What a check costs here is what any design of the audit trail leaves it to cost at best."""

    def _answer(self, request, serializer, shape):
        data = parse_body(serializer, request, shape=shape)
        checks = data.get("checks", [data])
        decisions = permission_decide_many([PermissionQuery(**check) for check in checks])
        return [decision_body(decision) for decision in decisions]


class UnrecordedCheckApi(_Unrecorded):
    def post(self, request):
        (answer,) = self._answer(request, CheckInputSerializer, CHECK_SHAPE)
        return Response(answer)


class UnrecordedCheckBatchApi(_Unrecorded):
    def post(self, request):
        return Response({"results": self._answer(request, PermissionCheckBatchApi.InputSerializer,
                                                 PermissionCheckBatchApi.shape)})
