"""The MongoDB tree's counterpart of apps/rbac/migrations/0003_builtin_catalogue.py."""

from django.db import migrations

from apps.rbac.catalogue import install_builtin_catalogue


def create_catalogue(apps, schema_editor):
    install_builtin_catalogue(
        permission_model=apps.get_model("rbac", "Permission"),
        role_model=apps.get_model("rbac", "Role"),
        catalogue_version_model=apps.get_model("rbac", "CatalogueVersion"),
    )


class Migration(migrations.Migration):
    dependencies = [("rbac", "0001_initial")]

    operations = [migrations.RunPython(create_catalogue, migrations.RunPython.noop)]
