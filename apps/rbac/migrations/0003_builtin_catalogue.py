from django.db import migrations

from apps.rbac.catalogue import BUILTIN_ROLES, PERMISSIONS


def create_catalogue(apps, schema_editor):
    Permission = apps.get_model("rbac", "Permission")
    Role = apps.get_model("rbac", "Role")
    CatalogueVersion = apps.get_model("rbac", "CatalogueVersion")
    by_code = {}
    for code, description in PERMISSIONS.items():
        by_code[code], _ = Permission.objects.get_or_create(code=code, defaults={"description": description})
    for spec in BUILTIN_ROLES:
        role, _ = Role.objects.get_or_create(
            name=spec["name"],
            defaults={"rank": spec["rank"], "description": spec["description"], "is_builtin": True},
        )
        role.permissions.set([by_code[code] for code in spec["permissions"]])
    if not CatalogueVersion.objects.exists():
        CatalogueVersion.objects.create(version=1)


class Migration(migrations.Migration):
    dependencies = [("rbac", "0002_initial")]

    operations = [migrations.RunPython(create_catalogue, migrations.RunPython.noop)]
