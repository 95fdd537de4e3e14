"""MANAGE_SETTINGS, BYPASS_PROTECTION and the built-in role `approved` (issue 14) in databases made before them."""

from django.db import migrations

from apps.rbac.catalogue import install_added_permissions


def add_protection_permissions(apps, schema_editor):
    install_added_permissions(
        permission_model=apps.get_model("rbac", "Permission"),
        role_model=apps.get_model("rbac", "Role"),
        catalogue_version_model=apps.get_model("rbac", "CatalogueVersion"),
    )


class Migration(migrations.Migration):
    dependencies = [("rbac", "0004_unconditional_uniques")]

    operations = [migrations.RunPython(add_protection_permissions, migrations.RunPython.noop)]
