"""The MongoDB tree's counterpart of apps/rbac/migrations/0005_protection_permissions.py."""

from django.db import migrations

from apps.rbac.catalogue import install_added_permissions


def add_protection_permissions(apps, schema_editor):
    install_added_permissions(
        permission_model=apps.get_model("rbac", "Permission"),
        role_model=apps.get_model("rbac", "Role"),
        catalogue_version_model=apps.get_model("rbac", "CatalogueVersion"),
    )


class Migration(migrations.Migration):
    dependencies = [("rbac", "0002_builtin_catalogue")]

    operations = [migrations.RunPython(add_protection_permissions, migrations.RunPython.noop)]
