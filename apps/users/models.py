from django.contrib.auth.models import AbstractUser
from django.db import models


class User(AbstractUser):
    """A person known to the platform: a dashboard login, a Telegram account, or both."""

    telegram_user_id = models.BigIntegerField(null=True, blank=True)
    telegram_username = models.CharField(max_length=32, blank=True, db_index=True)
    display_name = models.CharField(max_length=255, blank=True)
    # Bumped by every change that can alter this user's permission decisions; keys the decision cache.
    rbac_version = models.PositiveBigIntegerField(default=0)

    class Meta:
        # No condition needed: NULLs never collide in a unique index, on SQL backends and on MongoDB (whose
        # backend indexes only documents where the field has its type). Partial indexes on IS NULL / IS NOT
        # NULL are not available on MongoDB.
        constraints = [models.UniqueConstraint(fields=["telegram_user_id"], name="unique_telegram_user_id")]

    def __str__(self):
        return self.username
