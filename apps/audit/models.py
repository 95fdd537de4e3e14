"""The audit trail: append-only, hash-chained events."""

from django.db import models


class AppendOnlyError(Exception):
    pass


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("Audit events are append-only")

    def delete(self):
        raise AppendOnlyError("Audit events are append-only")


class AuditEvent(models.Model):
    class Result(models.TextChoices):
        ALLOWED = "allowed"
        DENIED = "denied"
        SUCCESS = "success"
        FAILURE = "failure"

    # Chain position: gap-free, assigned under the write lock; orders the trail on every backend.
    sequence = models.BigIntegerField(unique=True)
    created_at = models.DateTimeField()
    service = models.CharField(max_length=64)
    request_id = models.CharField(max_length=128, blank=True)
    # Ids are copied, not foreign keys: the trail outlives what it describes.
    actor_user_id = models.CharField(max_length=64, blank=True)
    action = models.CharField(max_length=64)
    target_type = models.CharField(max_length=32, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    group_id = models.CharField(max_length=64, blank=True)
    result = models.CharField(max_length=16, choices=Result.choices)
    reason = models.CharField(max_length=255, blank=True)
    details = models.JSONField(default=dict, blank=True)
    previous_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-sequence"]
        indexes = [
            models.Index(fields=["actor_user_id", "-sequence"], name="audit_actor_seq"),
            models.Index(fields=["group_id", "-sequence"], name="audit_group_seq"),
            models.Index(fields=["action", "created_at"], name="audit_action_time"),
            models.Index(fields=["created_at"], name="audit_time"),
        ]

    def __str__(self):
        return f"#{self.sequence} {self.action} {self.result}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("Audit events are append-only")
        # Always an INSERT: a new instance carrying an existing event's primary key must not turn into an UPDATE.
        super().save(*args, **{**kwargs, "force_insert": True})

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Audit events are append-only")
