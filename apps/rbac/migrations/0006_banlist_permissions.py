"""The ban lists' permissions and the built-in roles banlist_owner and banlist_admin (issue 16) in databases made
before them; the admin role gets BAN_LIST_VIEW, the owner role all four."""

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
    dependencies = [("rbac", "0005_protection_permissions")]

    operations = [migrations.RunPython(add_banlist_permissions, migrations.RunPython.noop)]
