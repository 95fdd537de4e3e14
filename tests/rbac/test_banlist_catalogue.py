"""The data migration for databases made before issue 16: the ban-list permissions given to the built-in roles the
catalogue gives them to (owner: all four; admin: BAN_LIST_VIEW), the roles banlist_owner and banlist_admin created,
an operator's own change kept, cached decisions made stale. Both migration trees run the same function."""

import importlib

import pytest

from apps.rbac.catalogue import BAN_LIST_PERMISSIONS, install_added_permissions
from apps.rbac.models import CatalogueVersion, Permission, Role
from apps.rbac.selectors import role_permission_codes


def _install():
    install_added_permissions(permission_model=Permission, role_model=Role, catalogue_version_model=CatalogueVersion,
                              codes=BAN_LIST_PERMISSIONS)


def test_an_older_catalogue_gets_the_ban_list_permissions_and_roles(db):
    Role.objects.filter(name__in=["banlist_owner", "banlist_admin"]).delete()
    Permission.objects.filter(code__in=BAN_LIST_PERMISSIONS).delete()
    helper = Role.objects.get(name="helper")
    helper.permissions.remove(Permission.objects.get(code="WARN_USERS"))  # an operator's own change
    before = CatalogueVersion.objects.get().version

    _install()
    _install()

    codes = {role.name: set(role_permission_codes(role)) for role in Role.objects.all()}
    assert set(BAN_LIST_PERMISSIONS) <= codes["owner"]
    assert codes["admin"] & set(BAN_LIST_PERMISSIONS) == {"BAN_LIST_VIEW"}
    for name in ("moderator", "helper", "approved", "member"):
        assert not codes[name] & set(BAN_LIST_PERMISSIONS), name
    assert codes["banlist_owner"] == {"BAN_LIST_VIEW", "BAN_LIST_BAN", "BAN_LIST_MANAGE", "MANAGE_ROLES"}
    assert codes["banlist_admin"] == {"BAN_LIST_VIEW", "BAN_LIST_BAN"}
    assert (Role.objects.get(name="banlist_owner").rank, Role.objects.get(name="banlist_admin").rank) == (100, 80)
    assert Role.objects.get(name="banlist_owner").is_builtin
    assert "WARN_USERS" not in codes["helper"]  # left as the operator set it
    assert CatalogueVersion.objects.get().version == before + 2


@pytest.mark.parametrize("module", ["apps.rbac.migrations.0006_banlist_permissions",
                                    "mongo_migrations.rbac.0004_banlist_permissions"])
def test_both_trees_migrations_install_them(db, module):
    from django.apps import apps

    Role.objects.filter(name__in=["banlist_owner", "banlist_admin"]).delete()
    Permission.objects.filter(code__in=BAN_LIST_PERMISSIONS).delete()
    importlib.import_module(module).add_banlist_permissions(apps, None)
    assert set(Permission.objects.filter(code__in=BAN_LIST_PERMISSIONS).values_list("code", flat=True)) == set(
        BAN_LIST_PERMISSIONS)
    assert set(role_permission_codes(Role.objects.get(name="banlist_admin"))) == {"BAN_LIST_VIEW", "BAN_LIST_BAN"}
