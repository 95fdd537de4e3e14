from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import BasePermission

from .errors import BEARER_CHALLENGE, TokenRejected
from .tokens import DashboardUser, access_token_user


class JWTBearerAuthentication(BaseAuthentication):
    """`Authorization: Bearer <access token>`. No header: not authenticated (401 unless the view is open);
    a header with a bad token: 401 with the reason's code, never a silent anonymous request."""

    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header:
            return None
        scheme, _, raw = header.strip().partition(" ")
        if scheme.lower() != "bearer":
            raise TokenRejected("The Authorization header must be 'Bearer <access token>'")
        raw = raw.strip()
        if not raw or " " in raw:
            raise TokenRejected("The Authorization header must be 'Bearer <access token>'")
        user = access_token_user(raw)
        return user, user.token

    def authenticate_header(self, request):
        return BEARER_CHALLENGE


class IsDashboardUser(BasePermission):
    def has_permission(self, request, view):
        return isinstance(request.user, DashboardUser)


class JWTBearerScheme(OpenApiAuthenticationExtension):
    target_class = "apps.dashboard.authentication.JWTBearerAuthentication"
    name = "BearerJWT"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                "description": "The access token from POST /api/auth/login (or /api/auth/refresh)"}
