from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from apps.groups.models import MAX_RESTRICTION_SECONDS, MIN_RESTRICTION_SECONDS


class ProtectionSettings(models.Model):
    """A group's protection settings beside the ones Group already holds (welcome_text, rules_text, log_chat_id).

    One per group, created by its first write; a group without one reads as the defaults, every protection off.
    Written only by apps.protection.services, which bumps Group.settings_version in the same transaction."""

    class CaptchaMode(models.TextChoices):
        BUTTON = "button"
        MATH = "math"
        EMOJI = "emoji"

    class CaptchaFailure(models.TextChoices):
        KICK = "kick"
        MUTE = "mute"

    class FloodAction(models.TextChoices):
        DELETE = "delete"
        WARN = "warn"
        MUTE = "mute"
        TMUTE = "tmute"
        KICK = "kick"
        BAN = "ban"
        TBAN = "tban"

    class RaidAction(models.TextChoices):
        CAPTCHA = "captcha"
        MUTE = "mute"
        KICK = "kick"
        BAN = "ban"

    TIMED_FLOOD_ACTIONS = frozenset({FloodAction.TMUTE, FloodAction.TBAN})

    group = models.OneToOneField("groups.Group", on_delete=models.CASCADE, related_name="protection")
    welcome_enabled = models.BooleanField(default=False)
    goodbye_enabled = models.BooleanField(default=False)
    goodbye_text = models.TextField(blank=True, max_length=4096)
    clean_welcome = models.BooleanField(default=False)
    clean_service = models.BooleanField(default=False)
    rules_private = models.BooleanField(default=True)
    captcha_enabled = models.BooleanField(default=False)
    captcha_mode = models.CharField(max_length=8, choices=CaptchaMode.choices, default=CaptchaMode.BUTTON)
    captcha_timeout_seconds = models.PositiveIntegerField(
        default=120, validators=[MinValueValidator(30), MaxValueValidator(86400)])
    captcha_failure_action = models.CharField(max_length=8, choices=CaptchaFailure.choices,
                                              default=CaptchaFailure.KICK)
    captcha_max_attempts = models.PositiveSmallIntegerField(
        default=3, validators=[MinValueValidator(1), MaxValueValidator(10)])
    flood_limit = models.PositiveSmallIntegerField(default=0)  # 0: off; else 3..100 messages
    flood_window_seconds = models.PositiveIntegerField(  # None: consecutive messages
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(3600)])
    flood_action = models.CharField(max_length=8, choices=FloodAction.choices, default=FloodAction.MUTE)
    flood_action_duration_seconds = models.PositiveIntegerField(
        null=True, blank=True,
        validators=[MinValueValidator(MIN_RESTRICTION_SECONDS), MaxValueValidator(MAX_RESTRICTION_SECONDS)])
    flood_delete_messages = models.BooleanField(default=False)
    raid_detection = models.BooleanField(default=False)
    raid_join_limit = models.PositiveIntegerField(default=10, validators=[MinValueValidator(2),
                                                                          MaxValueValidator(1000)])
    raid_window_seconds = models.PositiveIntegerField(default=60, validators=[MinValueValidator(1),
                                                                              MaxValueValidator(3600)])
    raid_duration_minutes = models.PositiveIntegerField(default=360, validators=[MinValueValidator(1),
                                                                                 MaxValueValidator(10080)])
    raid_action = models.CharField(max_length=8, choices=RaidAction.choices, default=RaidAction.KICK)
    raid_until = models.DateTimeField(null=True, blank=True)
    # Content rules (apps.contentrules holds the locks, blocklist, filters and notes themselves).
    lock_warns = models.BooleanField(default=True)  # a delete-mode lock tells the member what was locked
    blocklist_action = models.CharField(max_length=8, choices=FloodAction.choices, default=FloodAction.DELETE)
    blocklist_action_duration_seconds = models.PositiveIntegerField(
        null=True, blank=True,
        validators=[MinValueValidator(MIN_RESTRICTION_SECONDS), MaxValueValidator(MAX_RESTRICTION_SECONDS)])
    blocklist_delete = models.BooleanField(default=True)
    blocklist_joiner_names = models.BooleanField(default=False)
    private_notes = models.BooleanField(default=False)
    # Commands members may not use (lowercase names without "/"); admins still can.
    disabled_commands = models.JSONField(default=list, blank=True)
    disabled_delete = models.BooleanField(default=False)
    clean_commands = models.BooleanField(default=False)
    denials_private = models.BooleanField(default=False)
    reports_enabled = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"protection of {self.group_id}"
