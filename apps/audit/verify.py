"""GET /api/audit/verify: the hash chain's integrity, for the dashboard's audit page (read-only)."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.common.schema import envelope, error_responses

from .selectors import audit_chain_verify


class AuditVerifyApi(APIView):
    class OutputSerializer(serializers.Serializer):
        intact = serializers.BooleanField()
        checked = serializers.IntegerField(help_text="Events that fit the chain, from the first one on")
        first_broken = serializers.IntegerField(allow_null=True, help_text="Sequence of the first event that "
                                                "does not fit, if any")
        problem = serializers.CharField(help_text="What is wrong with it (empty when intact)")
        stream = serializers.CharField(help_text="The writer's stream the problem is in (empty when intact)")
        streams = serializers.IntegerField(help_text="Streams verified")
        checkpoints = serializers.IntegerField(help_text="Signed checkpoints verified")

    @extend_schema(operation_id="audit_verify", responses={200: envelope(OutputSerializer), **error_responses()},
                   description="Verifies every writer's stream and every signed checkpoint (the audit_verify command).")
    def get(self, request):
        report = audit_chain_verify()
        return Response({"intact": report.intact, "checked": report.checked,
                         "first_broken": report.first_broken_sequence, "problem": report.problem,
                         "stream": report.stream, "streams": report.streams, "checkpoints": report.checkpoints})
