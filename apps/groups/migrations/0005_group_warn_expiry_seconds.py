import django.core.validators
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('groups', '0004_group_settings_version'),
    ]

    operations = [
        migrations.AddField(
            model_name='group',
            name='warn_expiry_seconds',
            field=models.PositiveIntegerField(blank=True, null=True, validators=[django.core.validators.MinValueValidator(30), django.core.validators.MaxValueValidator(31622400)]),
        ),
    ]
