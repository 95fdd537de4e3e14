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

    # The global order key (list, CSV, the live feed's cursor): from the writer's clock, its stream's slot and a
    # counter (streams.py), so writers never wait for each other to get one. Legacy events keep their 1..N.
    sequence = models.BigIntegerField(db_index=True)
    # Chain position: each writer appends to its own stream, gap-free within it (stream_seq 1, 2, ...).
    stream = models.CharField(max_length=96, default="legacy")
    stream_seq = models.BigIntegerField(default=0)
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
        constraints = [models.UniqueConstraint(fields=["stream", "stream_seq"], name="audit_stream_position")]

    def __str__(self):
        return f"#{self.sequence} {self.action} {self.result}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("Audit events are append-only")
        # Always an INSERT: a new instance carrying an existing event's primary key must not turn into an UPDATE.
        super().save(*args, **{**kwargs, "force_insert": True})

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Audit events are append-only")


class AuditCheckpoint(models.Model):
    """A stream's head at a moment, signed with a key from the environment (never stored in the database):
    whoever can edit the database can recompute hashes, but not this signature."""

    stream = models.CharField(max_length=96)
    stream_seq = models.BigIntegerField()
    head_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField()
    key_id = models.CharField(max_length=64)
    signature = models.CharField(max_length=64)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["stream", "stream_seq"]
        indexes = [models.Index(fields=["stream", "stream_seq"], name="audit_checkpoint_stream")]

    def __str__(self):
        return f"{self.stream}@{self.stream_seq}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("Audit checkpoints are append-only")
        super().save(*args, **{**kwargs, "force_insert": True})

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Audit checkpoints are append-only")
