import importlib

from django.db import migrations

sql_tree = importlib.import_module("apps.analytics.migrations.0004_activation_window")


class Migration(migrations.Migration):

    dependencies = [
        ("analytics", "0003_group_week"),
    ]

    operations = [
        migrations.RunPython(sql_tree.clear_late_activations, migrations.RunPython.noop),
    ]
