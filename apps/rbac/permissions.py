"""Reads a trusted service makes for one of its users, authorized by core in the same request.

A service (web) sends `X-Acting-User-ID: <user id>`; the view declares which permission a read of it needs for
that user (`acting_user_permissions = {"GET": "VIEW_GROUPS"}`). Core checks it with the permission check service,
which puts the decision on the audit trail exactly as POST /api/rbac/check-permission does, and refuses with 403
permission_denied naming the permission before the view runs. The header on a view or method that declares no
permission is a 400: a caller must never believe a read was authorized when nothing checked it. Without the header
nothing changes: the service reads as itself.

A read of one group's data (`acting_user_group_kwarg = "group_id"`) is authorized in that group: core resolves the
group named in the URL first (404 when there is none), then the permission is checked in that group, where a
global grant counts without membership (a platform admin is not a member of every group): one check on the trail. The
decision is taken on the object the view reads, never on an id the caller names elsewhere.

A read of one ban list's data (`acting_user_ban_list_kwarg = "ban_list_id"`) is authorized in that list's scope
the same way: 404 when there is no such active list, then one check there (the list's roles and the global ones).

A view that decides per object itself declares `acting_user_view_checks = {"GET": "BAN_LIST_VIEW"}`: the header is
accepted (from a service, well formed) and nothing is checked here; the view answers only what that user may see
(a filtered list), or checks the permission in the scope it names (a group's, for a subscription).
"""

import re

from rest_framework.permissions import BasePermission

from apps.common.auth import ServicePrincipal
from apps.common.errors import PermissionDeniedError, ValidationFailed
from apps.common.headers import ACTING_USER_HEADER
from apps.groups.selectors import group_get

from .scopes import BAN_LIST, scope_resolve
from .selectors import PermissionQuery
from .services import permission_require

_META_KEY = "HTTP_" + ACTING_USER_HEADER.upper().replace("-", "_")
# Core's ids: integers on SQL, 24 hex digits on MongoDB.
_USER_ID = re.compile(r"[0-9A-Za-z]{1,64}")


def acting_user_permission(view, method: str) -> str | None:
    """The permission `view` requires of the acting user for `method`, if it declares one."""
    declared = getattr(view, "acting_user_permissions", None) or {}
    return declared.get("GET" if method == "HEAD" else method)


def _well_formed(raw: str) -> None:
    if not _USER_ID.fullmatch(raw):
        raise ValidationFailed(f"{ACTING_USER_HEADER} must be a user id",
                               details={ACTING_USER_HEADER: ["Must be a user id."]})


def acting_user_id(request) -> str | None:
    """The acting user's id a service sent (ActingUserPermission has vetted it), or None."""
    return request.META.get(_META_KEY)


class ActingUserPermission(BasePermission):
    def has_permission(self, request, view):
        raw = request.META.get(_META_KEY)
        if raw is None:
            return True
        if not isinstance(request.user, ServicePrincipal):
            raise PermissionDeniedError(f"Only a service may send {ACTING_USER_HEADER}")
        view_checks = getattr(view, "acting_user_view_checks", None) or {}
        if (view_checks.get("GET" if request.method == "HEAD" else request.method)) is not None:
            _well_formed(raw)
            return True
        permission = acting_user_permission(view, request.method)
        if permission is None:
            raise ValidationFailed(
                f"{request.method} {request.path} does not authorize requests for a user; "
                f"leave out {ACTING_USER_HEADER}",
                details={ACTING_USER_HEADER: ["Not accepted by this endpoint and method."]},
            )
        _well_formed(raw)
        message = f"User does not have permission for this action ({permission})"
        ban_list_kwarg = getattr(view, "acting_user_ban_list_kwarg", None)
        if ban_list_kwarg is not None:
            scope_resolve(BAN_LIST, view.kwargs[ban_list_kwarg])  # 404 first, as for a group
            permission_require(query=PermissionQuery(permission=permission, user_id=raw,
                                                     ban_list_id=view.kwargs[ban_list_kwarg]), message=message)
            return True
        group_kwarg = getattr(view, "acting_user_group_kwarg", None)
        if group_kwarg is None:
            permission_require(query=PermissionQuery(permission=permission, user_id=raw), message=message)
            return True
        group = group_get(group_id=view.kwargs[group_kwarg])
        # One check in the group: a global grant counts there without membership, so a platform admin's read of
        # a group they are not in is one allowed event, not a denial beside an allowance.
        permission_require(query=PermissionQuery(permission=permission, user_id=raw, group_id=group.pk),
                           message=message)
        return True
