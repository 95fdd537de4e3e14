from django.conf import settings
from django.db import models


class ModerationAction(models.Model):
    """One moderation command, from request to outcome: requested, then executed or failed (with Telegram's error)."""

    class Type(models.TextChoices):
        BAN = "ban"
        UNBAN = "unban"
        KICK = "kick"
        MUTE = "mute"
        UNMUTE = "unmute"
        WARN = "warn"
        UNWARN = "unwarn"
        PROMOTE = "promote"
        DEMOTE = "demote"
        PIN = "pin"
        UNPIN = "unpin"
        DELETE = "delete"
        PURGE = "purge"
        # A member's /report of a message: recorded (and told in the log channel) like an action, executed at once.
        REPORT = "report"

    class Status(models.TextChoices):
        REQUESTED = "requested"
        EXECUTED = "executed"
        FAILED = "failed"

    TARGETS_A_USER = frozenset({Type.BAN, Type.UNBAN, Type.KICK, Type.MUTE, Type.UNMUTE, Type.WARN, Type.UNWARN,
                                Type.PROMOTE, Type.DEMOTE})
    MAY_BE_TEMPORARY = frozenset({Type.BAN, Type.MUTE})

    type = models.CharField(max_length=16, choices=Type.choices)
    group = models.ForeignKey("groups.Group", on_delete=models.PROTECT, related_name="moderation_actions")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="+")
    target = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                               related_name="+")
    reason = models.CharField(max_length=1024, blank=True)
    until = models.DateTimeField(null=True, blank=True)
    telegram_message_id = models.BigIntegerField(null=True, blank=True)
    source_service = models.CharField(max_length=64)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.REQUESTED)
    error = models.CharField(max_length=1024, blank=True)
    details = models.JSONField(default=dict, blank=True)
    # "" for a manual action; else the automated protection that asked for it (actor None, "system:<rule>").
    rule = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["group", "created_at"], name="modaction_group_time"),
            models.Index(fields=["target", "created_at"], name="modaction_target_time"),
            models.Index(fields=["actor", "created_at"], name="modaction_actor_time"),
            # Covering: the analytics overview counts a period's executed actions by kind from this index alone.
            models.Index(fields=["created_at", "status", "type", "rule"], name="modaction_time_kind"),
        ]

    def __str__(self):
        return f"{self.type} #{self.pk} ({self.status})"


class Warning(models.Model):
    group = models.ForeignKey("groups.Group", on_delete=models.PROTECT, related_name="warnings")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="warnings")
    action = models.ForeignKey(ModerationAction, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+")
    reason = models.CharField(max_length=1024, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    removed_at = models.DateTimeField(null=True, blank=True)
    removed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    remove_reason = models.CharField(max_length=255, blank=True)

    class Meta:
        indexes = [models.Index(fields=["group", "user", "removed_at"], name="warning_active")]

    def __str__(self):
        return f"warning #{self.pk} for {self.user_id} in {self.group_id}"
