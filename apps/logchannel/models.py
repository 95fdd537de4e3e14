from django.db import models


class LogEntry(models.Model):
    """One post owed to a group's log chat (or a ban list's: no group), the text rendered by core when the thing it
    tells happened, then claimed by a bot (a lease, so a bot that dies holding it does not lose it) and reported
    sent or failed."""

    class Kind(models.TextChoices):
        ACTION = "action"
        SETTINGS = "settings"
        RAID = "raid"
        BANLIST = "banlist"  # a ban list's ban, unban or import, in the list's own log chat (no group)
        DIGEST = "digest"  # the group's weekly analytics digest (apps.analytics.digests)

    class Status(models.TextChoices):
        PENDING = "pending"
        SENT = "sent"
        FAILED = "failed"

    group = models.ForeignKey("groups.Group", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    log_chat_id = models.BigIntegerField()
    kind = models.CharField(max_length=16, choices=Kind.choices)
    action = models.ForeignKey("moderation.ModerationAction", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="+")
    text = models.TextField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    error = models.CharField(max_length=1024, blank=True)
    claims = models.PositiveIntegerField(default=0)
    claimed_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "claimed_until"], name="logentry_claimable")]

    def __str__(self):
        return f"log entry #{self.pk} to {self.log_chat_id} ({self.status})"


class LogFailureReport(models.Model):
    """A failed post to this log chat has been reported in the group: said once, until the log chat is set again."""

    group = models.ForeignKey("groups.Group", on_delete=models.PROTECT, related_name="+")
    log_chat_id = models.BigIntegerField()
    error = models.CharField(max_length=1024, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["group", "log_chat_id"], name="logfailure_once")]

    def __str__(self):
        return f"log chat {self.log_chat_id} failing, said in group {self.group_id}"


class WelcomeMessage(models.Model):
    """The group's last welcome message, so that clean-welcome deletes it when the next one is sent, whichever bot
    process (a restarted one, another replica) sends the next."""

    group = models.ForeignKey("groups.Group", on_delete=models.PROTECT, related_name="+")
    telegram_message_id = models.BigIntegerField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["group"], name="welcomemessage_one_per_group")]

    def __str__(self):
        return f"welcome message {self.telegram_message_id} in group {self.group_id}"
