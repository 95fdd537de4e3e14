import functools
import zoneinfo

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models


@functools.cache
def _timezone_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def is_timezone_name(name) -> bool:
    """Whether `name` is an IANA time zone name this system knows ("UTC", "Europe/Berlin")."""
    return isinstance(name, str) and name in _timezone_names()


MIN_RESTRICTION_SECONDS = 30  # Telegram treats shorter restrictions as forever
MAX_RESTRICTION_SECONDS = 366 * 24 * 3600  # and longer ones too
MIN_WARN_EXPIRY_SECONDS = 30
MAX_WARN_EXPIRY_SECONDS = 366 * 24 * 3600


class Group(models.Model):
    class Type(models.TextChoices):
        GROUP = "group"
        SUPERGROUP = "supergroup"

    class WarnAction(models.TextChoices):
        BAN = "ban"
        KICK = "kick"
        MUTE = "mute"
        TMUTE = "tmute"

    telegram_chat_id = models.BigIntegerField(unique=True)
    title = models.CharField(max_length=255)
    type = models.CharField(max_length=16, choices=Type.choices, default=Type.SUPERGROUP)
    is_active = models.BooleanField(default=True)
    warn_limit = models.PositiveSmallIntegerField(default=3, validators=[MinValueValidator(1), MaxValueValidator(100)])
    warn_action = models.CharField(max_length=8, choices=WarnAction.choices, default=WarnAction.BAN)
    # For tmute: how long the mute lasts.
    warn_action_duration_seconds = models.PositiveIntegerField(
        null=True, blank=True,
        validators=[MinValueValidator(MIN_RESTRICTION_SECONDS), MaxValueValidator(MAX_RESTRICTION_SECONDS)],
    )
    # Warnings older than this no longer count (toward the limit, nor in /warns); null: they never expire.
    warn_expiry_seconds = models.PositiveIntegerField(
        null=True, blank=True,
        validators=[MinValueValidator(MIN_WARN_EXPIRY_SECONDS), MaxValueValidator(MAX_WARN_EXPIRY_SECONDS)],
    )
    welcome_text = models.TextField(blank=True, max_length=4096)
    rules_text = models.TextField(blank=True, max_length=4096)
    log_chat_id = models.BigIntegerField(null=True, blank=True)
    # The group's clock (an IANA name): its analytics count days, hours and weekdays in it (apps/analytics).
    timezone = models.CharField(max_length=64, default="UTC")
    # The weekly digest (apps.analytics.digests): posted to the log chat when on; digest_sent_week is the Monday of
    # the last week digested (null: none yet), claimed with a conditional update so it is posted once.
    weekly_digest = models.BooleanField(default=False)
    digest_sent_week = models.DateField(null=True, blank=True)
    # Denormalised counters for sorting the group list without a join: kept by the services.
    member_count = models.PositiveIntegerField(default=0)
    message_count = models.PositiveBigIntegerField(default=0)
    # Bumped in the same transaction by every change to the group's settings (apps.groups.services.group_update
    # and apps.protection.services): the bot's cache of them is invalidated by it.
    settings_version = models.PositiveBigIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(fields=["is_active", "title"], name="group_active_title"),
            models.Index(fields=["created_at"], name="group_created"),
            # The due-digest query runs on every log claim: groups with the digest on, by the week last digested.
            models.Index(fields=["weekly_digest", "digest_sent_week"], name="group_digest_due"),
        ]

    def __str__(self):
        return f"{self.title} ({self.telegram_chat_id})"


class ChatIdAlias(models.Model):
    """A chat id a group had before Telegram migrated it to a supergroup: lookups by the old id still find it."""

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="chat_id_aliases")
    telegram_chat_id = models.BigIntegerField(unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"{self.telegram_chat_id} -> {self.group_id}"


class Membership(models.Model):
    class Status(models.TextChoices):
        MEMBER = "member"
        RESTRICTED = "restricted"
        BANNED = "banned"
        LEFT = "left"
        KICKED = "kicked"

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.MEMBER)
    is_admin = models.BooleanField(default=False)
    custom_title = models.CharField(max_length=16, blank=True)
    joined_at = models.DateTimeField(auto_now_add=True)
    left_at = models.DateTimeField(null=True, blank=True)
    restricted_until = models.DateTimeField(null=True, blank=True)
    message_count = models.PositiveBigIntegerField(default=0)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["group", "user"], name="unique_membership")]
        indexes = [
            models.Index(fields=["user", "group"], name="membership_user_group"),
            # The member list: by group, optionally by status, in a stable order.
            models.Index(fields=["group", "status", "id"], name="membership_group_status"),
            models.Index(fields=["group", "id"], name="membership_group_order"),
        ]

    def __str__(self):
        return f"{self.user} in {self.group}: {self.status}"

    # In the group and not banned: the condition for a group-scoped permission.
    PRESENT = frozenset({Status.MEMBER, Status.RESTRICTED})
