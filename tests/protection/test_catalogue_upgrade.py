"""The data migration for databases made before issue 14: MANAGE_SETTINGS and BYPASS_PROTECTION given to the
built-in roles the catalogue gives them to, the role `approved` created, a custom change to a role kept, and cached
decisions made stale (the catalogue version bumped)."""

from apps.rbac.catalogue import install_added_permissions
from apps.rbac.models import CatalogueVersion, Permission, Role
from apps.rbac.selectors import role_permission_codes


def test_an_older_catalogue_gets_the_protection_permissions_and_the_approved_role(db):
    Role.objects.filter(name="approved").delete()
    Permission.objects.filter(code__in=["MANAGE_SETTINGS", "BYPASS_PROTECTION"]).delete()
    moderator = Role.objects.get(name="moderator")
    moderator.permissions.remove(Permission.objects.get(code="BAN_USERS"))  # an operator's own change
    before = CatalogueVersion.objects.get().version

    install_added_permissions(permission_model=Permission, role_model=Role, catalogue_version_model=CatalogueVersion)
    install_added_permissions(permission_model=Permission, role_model=Role, catalogue_version_model=CatalogueVersion)

    codes = {name: set(role_permission_codes(Role.objects.get(name=name)))
             for name in ("owner", "admin", "moderator", "helper", "approved", "member")}
    assert {"MANAGE_SETTINGS", "BYPASS_PROTECTION"} <= codes["owner"] & codes["admin"]
    assert "BYPASS_PROTECTION" in codes["moderator"] & codes["helper"]
    assert "MANAGE_SETTINGS" not in codes["moderator"] | codes["helper"] | codes["member"]
    assert codes["approved"] == {"VIEW_GROUPS", "BYPASS_PROTECTION"}
    assert Role.objects.get(name="approved").rank == 20
    assert "BAN_USERS" not in codes["moderator"]  # left as the operator set it
    assert CatalogueVersion.objects.get().version == before + 2
