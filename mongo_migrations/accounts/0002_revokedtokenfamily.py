import django_mongodb_backend.fields
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0001_initial'),
    ]

    operations = [
        migrations.CreateModel(
            name='RevokedTokenFamily',
            fields=[
                ('id', django_mongodb_backend.fields.ObjectIdAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('family', models.CharField(max_length=64, unique=True)),
                ('expires_at', models.DateTimeField(db_index=True)),
                ('revoked_at', models.DateTimeField()),
                ('user_id', models.CharField(blank=True, max_length=64)),
                ('reason', models.CharField(choices=[('reused', 'Reused'), ('admin', 'Admin')], max_length=16)),
            ],
            options={
                'ordering': ['-revoked_at'],
            },
        ),
    ]
