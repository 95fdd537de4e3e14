"""MemberTotal.activated_on keeps only a first message inside the activation window (the join day and the 6 after):
the cohorts then count activation per join day in the database. Rows written before keep the first message on or
after the join day, wherever it fell: one past the window is cleared (the member was not activated)."""

from datetime import timedelta

from django.db import migrations

ACTIVATION_DAYS = 7


def clear_late_activations(apps, schema_editor):
    MemberTotal = apps.get_model("analytics", "MemberTotal")
    late = [pk for pk, joined_on, activated_on in MemberTotal.objects.filter(
                joined_on__isnull=False, activated_on__isnull=False).values_list("pk", "joined_on", "activated_on")
            if activated_on > joined_on + timedelta(days=ACTIVATION_DAYS - 1)]
    for start in range(0, len(late), 500):
        MemberTotal.objects.filter(pk__in=late[start:start + 500]).update(activated_on=None)


class Migration(migrations.Migration):

    dependencies = [
        ("analytics", "0003_group_week"),
    ]

    operations = [
        migrations.RunPython(clear_late_activations, migrations.RunPython.noop),
    ]
