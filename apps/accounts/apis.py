import re

from django.core.validators import RegexValidator
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.common.client_address import client_address
from apps.common.errors import InvalidIdError
from apps.common.fields import ObjectIdField, StrictCharField
from apps.common.parsing import parse_body
from apps.common.schema import ErrorEnvelopeSerializer, envelope, error_responses

from .models import RevokedToken
from .selectors import revoked_family_get, revoked_token_get
from .services import credentials_verify, token_revoke

JTI_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
_INVALID_CREDENTIALS = OpenApiResponse(
    ErrorEnvelopeSerializer,
    description="Unknown user, wrong password, no usable password or inactive user, all alike "
    "(invalid_credentials); or a missing or unknown X-API-Key (unauthenticated)",
)
_RATE_LIMITED = OpenApiResponse(
    ErrorEnvelopeSerializer,
    description="Too many failed logins for the account or the client address (rate_limited; details: scope, "
    "retry_after; Retry-After header): refused before the password is checked, and audited",
)


class AccountUserOutputSerializer(serializers.Serializer):
    id = ObjectIdField()
    username = serializers.CharField()
    display_name = serializers.CharField()
    is_active = serializers.BooleanField()
    is_staff = serializers.BooleanField()


class VerifyCredentialsApi(APIView):
    """For web's login: the user behind a username and password. Every attempt lands on the audit trail, and
    failures are limited per account and per client address (`client_ip`, else the caller's own address)."""

    class InputSerializer(serializers.Serializer):
        username = StrictCharField(max_length=150)
        password = StrictCharField(max_length=4096, trim_whitespace=False)
        client_ip = serializers.IPAddressField(
            required=False, help_text="The browser's address, for the audit trail and the per-address limit")

    @extend_schema(operation_id="auth_verify_credentials", request=InputSerializer,
                   responses={200: envelope(AccountUserOutputSerializer), 401: _INVALID_CREDENTIALS,
                              429: _RATE_LIMITED, **error_responses()})
    def post(self, request):
        data = parse_body(self.InputSerializer, request)
        user = credentials_verify(username=data["username"], password=data["password"],
                                  client_ip=data.get("client_ip") or client_address(request))
        return Response(AccountUserOutputSerializer(user).data)


class RevokedTokenOutputSerializer(serializers.Serializer):
    jti = serializers.CharField()
    expires_at = serializers.DateTimeField()
    revoked_at = serializers.DateTimeField()
    reason = serializers.CharField()
    already_revoked = serializers.BooleanField(help_text="True when an earlier call had revoked it")
    family_revoked = serializers.BooleanField(
        help_text="True when the token's family (its login session) is revoked: no token of it may be used, "
        "whatever already_revoked says")


class RevokedTokenListApi(APIView):
    class InputSerializer(serializers.Serializer):
        jti = StrictCharField(validators=[RegexValidator(JTI_PATTERN)])
        expires_at = serializers.DateTimeField(help_text="The token's own expiry: the row may be purged after it")
        user_id = ObjectIdField(required=False, max_length=64)
        reason = serializers.ChoiceField(choices=RevokedToken.Reason.choices, required=False, default="")
        family = StrictCharField(
            validators=[RegexValidator(JTI_PATTERN)], required=False,
            help_text="The token's login session (its sid claim). A refresh token "
            "rotated (reason rotated) a second time revokes its whole family (refresh token reuse detection)")
        family_expires_at = serializers.DateTimeField(
            required=False, help_text="When every token of the family will have expired (the family's row may be "
            "purged after it); defaults to expires_at")
        reuse_grace_seconds = serializers.FloatField(
            required=False, default=0, min_value=0, max_value=60,
            help_text="A rotation repeated this soon after the first (concurrent refreshes of one session) is refused "
            "without revoking the family")

    @extend_schema(operation_id="auth_revoked_tokens_create", request=InputSerializer,
                   responses={201: envelope(RevokedTokenOutputSerializer), 200: envelope(RevokedTokenOutputSerializer),
                              **error_responses()})
    def post(self, request):
        data = parse_body(self.InputSerializer, request)
        family = data.get("family", "")
        token, created = token_revoke(jti=data["jti"], expires_at=data["expires_at"],
                                      user_id=data.get("user_id", ""), reason=data["reason"], family=family,
                                      family_expires_at=data.get("family_expires_at"),
                                      reuse_grace_seconds=data["reuse_grace_seconds"])
        body = {"jti": token.jti, "expires_at": token.expires_at, "revoked_at": token.revoked_at,
                "reason": token.reason, "already_revoked": not created,
                "family_revoked": bool(family) and revoked_family_get(family=family) is not None}
        return Response(RevokedTokenOutputSerializer(body).data, status=201 if created else 200)


def _require_token_id(value: str, *, parameter: str) -> None:
    if not re.fullmatch(JTI_PATTERN.strip("^$"), value):
        raise InvalidIdError(f"{parameter} must be 1 to 64 letters, digits, - or _ (got {len(value)} characters)",
                             details={"parameter": parameter})


class RevokedTokenDetailApi(APIView):
    class OutputSerializer(serializers.Serializer):
        jti = serializers.CharField()
        revoked = serializers.BooleanField()
        expires_at = serializers.DateTimeField(allow_null=True)
        revoked_at = serializers.DateTimeField(allow_null=True)

    @extend_schema(operation_id="auth_revoked_tokens_check",
                   responses={200: envelope(OutputSerializer), **error_responses()})
    def get(self, request, jti):
        _require_token_id(jti, parameter="jti")
        token = revoked_token_get(jti=jti)
        body = {"jti": jti, "revoked": token is not None, "expires_at": token.expires_at if token else None,
                "revoked_at": token.revoked_at if token else None}
        return Response(self.OutputSerializer(body).data)


class RevokedFamilyDetailApi(APIView):
    """Whether a login session (a token family, the sid claim) is revoked: web asks for the access tokens it
    accepts, at most every JWT_FAMILY_CHECK_SECONDS per session."""

    class OutputSerializer(serializers.Serializer):
        family = serializers.CharField()
        revoked = serializers.BooleanField()
        revoked_at = serializers.DateTimeField(allow_null=True)
        reason = serializers.CharField(allow_blank=True)

    @extend_schema(operation_id="auth_revoked_families_check",
                   responses={200: envelope(OutputSerializer), **error_responses()})
    def get(self, request, family):
        _require_token_id(family, parameter="family")
        row = revoked_family_get(family=family)
        body = {"family": family, "revoked": row is not None, "revoked_at": row.revoked_at if row else None,
                "reason": row.reason if row else ""}
        return Response(self.OutputSerializer(body).data)
