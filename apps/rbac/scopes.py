"""Scopes beyond global and group, registered by the apps that own their objects (rbac imports none of them).

A role granted in such a scope is held as `RoleAssignment.scope = "<kind>:<pk>"` (group null); a permission asked
in it (PermissionQuery.ban_list_id) counts the grants held there and the global ones, and needs no membership of
anything. Each kind names the roles that belong to it by a prefix: those roles are granted only in its scopes, and
only those roles are granted there (a ban list's admins are not a group's moderators).

    register_scope_kind("banlist", resolve=..., role_prefix="banlist_", label="Ban list")

`resolve(id)` answers the object's pk for an id given on the wire, or None when there is no such active object.
"""

from collections.abc import Callable
from dataclasses import dataclass

from apps.common.errors import NotFoundError, ValidationFailed

BAN_LIST = "banlist"


@dataclass(frozen=True)
class ScopeKind:
    name: str
    resolve: Callable[[object], object | None]
    role_prefix: str
    label: str


_KINDS: dict[str, ScopeKind] = {}


def register_scope_kind(name: str, *, resolve: Callable[[object], object | None], role_prefix: str,
                        label: str) -> None:
    """Called by the owning app's AppConfig.ready(); registering the same kind again replaces it."""
    _KINDS[name] = ScopeKind(name=name, resolve=resolve, role_prefix=role_prefix, label=label)


def scope_kind(name: str) -> ScopeKind:
    try:
        return _KINDS[name]
    except KeyError:
        raise ValidationFailed(f"Unknown kind of scope: {name}") from None


def scope_resolve(kind: str, value) -> str:
    """The scope string ("<kind>:<pk>") of the active object `value` names; 404 not_found when there is none."""
    registered = scope_kind(kind)
    pk = registered.resolve(value)
    if pk is None:
        shown = str(value) if len(str(value)) <= 40 else str(value)[:40] + "..."
        raise NotFoundError(f"{registered.label} {shown} not found")
    return f"{kind}:{pk}"


def scope_kind_of(scope: str) -> str | None:
    """The registered kind of a scope string, or None for global and group scopes."""
    kind, separator, _ = scope.partition(":")
    return kind if separator and kind in _KINDS else None


def scope_object_id(scope: str) -> str | None:
    """The object's id in a registered kind's scope ("banlist:12" -> "12"), else None."""
    return scope.partition(":")[2] if scope_kind_of(scope) else None


def role_scope_kind(role_name: str) -> str | None:
    """The kind of scope a role belongs to (by its name's prefix), or None for global and group roles."""
    for kind in _KINDS.values():
        if role_name.startswith(kind.role_prefix):
            return kind.name
    return None


def role_scope_require(*, role_name: str, scope: str) -> None:
    """Refuses (400) a role granted outside the kind of scope it belongs to, and a role of another kind (or a
    group's role) granted in a registered kind's scope."""
    role_kind, kind = role_scope_kind(role_name), scope_kind_of(scope)
    if role_kind == kind:
        return
    if role_kind is not None:
        label = _KINDS[role_kind].label.lower()
        message = f"The role {role_name} is granted only in a {label}'s scope"
    else:
        label = _KINDS[kind].label.lower()
        message = (f"Only the {_KINDS[kind].role_prefix}* roles are granted in a {label}'s scope; "
                   f"{role_name} is not one")
    raise ValidationFailed(message, details={"role": [message]})
