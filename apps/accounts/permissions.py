"""Which endpoints each calling service may use (its scope, settings.SERVICE_SCOPES): anything else is refused and
on the audit trail. Core's half of service authentication; the key check itself is apps/common/auth.py."""

import logging

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from rest_framework.permissions import BasePermission

from apps.audit.services import audit_record
from apps.common.audit_actions import SERVICE_FORBIDDEN
from apps.common.auth import ServicePrincipal
from apps.common.errors import ServiceForbiddenError
from apps.common.service_scopes import scope_allows

logger = logging.getLogger(__name__)


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
    path = path[:_PATH_LIMIT]
    logger.warning("service call outside its scope", extra={"caller": service, "method": method, "path": path,
                                                             "route": route})
    audit_record(action=SERVICE_FORBIDDEN, result="denied", target_type="endpoint", target_id=route or "",
                 reason=f"{method} {path}", details={"method": method, "path": path, "route": route})
