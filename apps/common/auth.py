"""Service-to-service authentication by X-API-Key, compared in constant time, and each service's scope."""

import hmac
import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import BasePermission

from .context import bind_context
from .errors import ServiceForbiddenError
from .headers import API_KEY_HEADER
from .service_scopes import scope_allows

logger = logging.getLogger(__name__)



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


class ServiceScopePermission(BasePermission):
    """A service calls only the endpoints of its scope (apps/common/service_scopes.py, settings.SERVICE_SCOPES);
    anything else is 403 service_forbidden, on the audit trail. Staff sessions are not services: not concerned.
    Core's profile configures it (only core has the routes scopes name, and the audit trail)."""

    def has_permission(self, request, view):
        service = request.user
        if not isinstance(service, ServicePrincipal):
            return True
        http = request._request  # Django's request: DRF's forwards each attribute read through __getattr__
        match = http.resolver_match
        route = match.url_name if match is not None else None
        if scope_allows(_service_scopes().get(service.name), route, http.method):
            return True
        _record_refusal(service.name, http.method, http.path, route)
        raise ServiceForbiddenError(f"Service {service.name!r} may not call {http.method} {http.path}")


_scopes: dict | None = None


def _service_scopes() -> dict:
    """settings.SERVICE_SCOPES, kept: this runs on every service call, the benchmarked permission check's too."""
    global _scopes
    if _scopes is None:
        _scopes = settings.SERVICE_SCOPES
    return _scopes


@receiver(setting_changed)
def _forget_scopes(*, setting, **kwargs):
    global _scopes
    if setting == "SERVICE_SCOPES":
        _scopes = None


# Request paths are the caller's text: kept to a bounded length on the trail and in logs.
_PATH_LIMIT = 200


def _record_refusal(service: str, method: str, path: str, route: str | None) -> None:
    # Imported here: the audit app is a layer above this one, and installed only in core, where this runs.
    from apps.audit.actions import SERVICE_FORBIDDEN
    from apps.audit.services import audit_record

    path = path[:_PATH_LIMIT]
    logger.warning("service call outside its scope", extra={"caller": service, "method": method, "path": path,
                                                             "route": route})
    audit_record(action=SERVICE_FORBIDDEN, result="denied", target_type="endpoint", target_id=route or "",
                 reason=f"{method} {path}", details={"method": method, "path": path, "route": route})
