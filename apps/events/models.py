from django.conf import settings
from django.db import models


class GroupEvent(models.Model):
    """Something seen in a group, reported by the bot. `event_id` makes a retried report count once."""

    class Type(models.TextChoices):
        MESSAGE = "message"
        JOIN = "join"
        LEAVE = "leave"
        COMMAND = "command"

    event_id = models.CharField(max_length=64, unique=True)
    # No index of its own: event_group_time (group, occurred_at) serves every lookup by group, and each index
    # is one more B-tree written per event at ingest.
    group = models.ForeignKey("groups.Group", on_delete=models.CASCADE, related_name="events", db_index=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+")
    type = models.CharField(max_length=16, choices=Type.choices)
    command = models.CharField(max_length=64, blank=True)
    occurred_at = models.DateTimeField()
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["group", "occurred_at"], name="event_group_time")]

    def __str__(self):
        return f"{self.type} {self.event_id}"


class ActivityBucket(models.Model):
    """Counters of one group for one hour (UTC), kept at ingest so charts never scan raw events."""

    group = models.ForeignKey("groups.Group", on_delete=models.CASCADE, related_name="+")
    start = models.DateTimeField()
    messages = models.PositiveIntegerField(default=0)
    joins = models.PositiveIntegerField(default=0)
    leaves = models.PositiveIntegerField(default=0)
    commands = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["group", "start"], name="unique_activity_bucket")]
        indexes = [models.Index(fields=["start"], name="activity_start")]

    def __str__(self):
        return f"{self.group_id} @ {self.start:%Y-%m-%d %H:00}"


class ActiveMember(models.Model):
    """That a user spoke in a group during an hour: counted (distinct) for the active-members series."""

    group = models.ForeignKey("groups.Group", on_delete=models.CASCADE, related_name="+")
    start = models.DateTimeField()
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["group", "start", "user"], name="unique_active_member")]

    def __str__(self):
        return f"{self.user_id} active in {self.group_id} @ {self.start:%Y-%m-%d %H:00}"
