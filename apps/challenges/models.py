from django.conf import settings
from django.db import models


class Challenge(models.Model):
    """A member's join verification in a group: one row per (group, member), reused by each new join.

    The unconditional unique (group, user) keeps "at most one pending challenge per member" on both storage
    profiles (MongoDB cannot index "only where pending"); a new join starts the next `round` in the same row, and
    every round's history is on the audit trail. `answer` never leaves core."""

    class Mode(models.TextChoices):
        BUTTON = "button"
        MATH = "math"
        EMOJI = "emoji"

    class Status(models.TextChoices):
        PENDING = "pending"
        SOLVED = "solved"
        FAILED = "failed"
        EXPIRED = "expired"

    class Reason(models.TextChoices):
        JOIN = "join"
        RAID = "raid"

    class FailureAction(models.TextChoices):
        KICK = "kick"
        MUTE = "mute"

    group = models.ForeignKey("groups.Group", on_delete=models.PROTECT, related_name="challenges")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    round = models.PositiveIntegerField(default=1)
    mode = models.CharField(max_length=8, choices=Mode.choices)
    reason = models.CharField(max_length=8, choices=Reason.choices, default=Reason.JOIN)
    question = models.CharField(max_length=255)
    options = models.JSONField(default=list)
    answer = models.CharField(max_length=64)
    attempts = models.PositiveSmallIntegerField(default=0)
    max_attempts = models.PositiveSmallIntegerField(default=3)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    failure_action = models.CharField(max_length=8, choices=FailureAction.choices, default=FailureAction.KICK)
    expires_at = models.DateTimeField()
    message_ids = models.JSONField(default=list, blank=True)
    # The mute recorded when the round started, and what follows its end: the unmute (solved) or the kick
    # (failed or expired, when the group kicks).
    restrict_action = models.ForeignKey("moderation.ModerationAction", null=True, blank=True,
                                        on_delete=models.PROTECT, related_name="+")
    follow_up_action = models.ForeignKey("moderation.ModerationAction", null=True, blank=True,
                                         on_delete=models.PROTECT, related_name="+")
    started_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    # When the bot last took an expired round to act on (claim-expired); taken again after a lease when its
    # follow-up action is still not completed (the bot stopped in between).
    claimed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["group", "user"], name="one_challenge_per_member")]
        indexes = [
            models.Index(fields=["status", "expires_at"], name="challenge_due"),
            models.Index(fields=["group", "status", "started_at"], name="challenge_group_status"),
        ]

    def __str__(self):
        return f"challenge #{self.pk} round {self.round} ({self.status})"
