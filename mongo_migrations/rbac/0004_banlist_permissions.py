"""The MongoDB tree's counterpart of apps/rbac/migrations/0006_banlist_permissions.py."""

from django.db import migrations

from apps.rbac.catalogue import BAN_LIST_PERMISSIONS, install_added_permissions


def add_banlist_permissions(apps, schema_editor):
    install_added_permissions(
        permission_model=apps.get_model("rbac", "Permission"),
        role_model=apps.get_model("rbac", "Role"),
        catalogue_version_model=apps.get_model("rbac", "CatalogueVersion"),
        codes=BAN_LIST_PERMISSIONS,
    )


class Migration(migrations.Migration):
    dependencies = [("rbac", "0003_protection_permissions")]

    operations = [migrations.RunPython(add_banlist_permissions, migrations.RunPython.noop)]
