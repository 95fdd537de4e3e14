"""Service-to-service authentication by X-API-Key, compared in constant time. Which endpoints each service may call
is core's to enforce: apps/accounts/permissions.py."""

import hmac
from dataclasses import dataclass

from django.conf import settings
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import BasePermission

from .context import bind_context
from .headers import API_KEY_HEADER


@dataclass(frozen=True)
class ServicePrincipal:
    """The authenticated caller of a service-to-service request."""

    name: str
    is_authenticated: bool = True
    is_staff: bool = False
    is_active: bool = True
    pk = None


def service_for_key(presented: str) -> str | None:
    """The service owning `presented`. Every configured key is compared, so timing reveals nothing."""
    found = None
    presented_bytes = presented.encode()
    for name, keys in settings.SERVICE_API_KEYS.items():
        for key in keys:
            if hmac.compare_digest(presented_bytes, key.encode()):
                found = name
    return found


class ServiceAPIKeyAuthentication(BaseAuthentication):
    def authenticate(self, request):
        presented = request.headers.get(API_KEY_HEADER)
        if presented is None:
            return None
        service = service_for_key(presented)
        if service is None:
            raise AuthenticationFailed("Unknown API key")
        bind_context(service=service)
        return ServicePrincipal(name=service), service

    def authenticate_header(self, request):
        return API_KEY_HEADER


class IsServiceOrStaff(BasePermission):
    """A known service, or a staff user logged in to the browsable API with a session."""

    def has_permission(self, request, view):
        if isinstance(request.user, ServicePrincipal):
            return True
        user = request.user
        if user is not None and user.is_authenticated and user.is_staff and user.is_active:
            bind_context(service="browsable-api")
            return True
        return False
