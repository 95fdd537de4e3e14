"""A group's content rules: locks (per content type), blocklist entries (literal patterns with `*` wildcards),
filters (auto-replies to a trigger) and notes (saved answers by name).

Written only by apps.contentrules.services, which bumps Group.settings_version in the same transaction, so the
bot's cached copy of the group's settings (which carries these rules) goes stale with every change."""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from apps.groups.models import MAX_RESTRICTION_SECONDS, MIN_RESTRICTION_SECONDS

# What a lock or a blocklist entry does to the offender (every mode also deletes the message, as Rose).
MODE_CHOICES = [("delete", "Delete"), ("warn", "Warn"), ("mute", "Mute"), ("tmute", "Tmute"), ("kick", "Kick"),
                ("ban", "Ban"), ("tban", "Tban")]  # as ProtectionSettings.FloodAction's: one enum in the schema
TIMED_MODES = frozenset({"tmute", "tban"})
MEDIA_CHOICES = [("photo", "Photo"), ("sticker", "Sticker"), ("document", "Document"), ("animation", "Animation"),
                 ("video", "Video"), ("audio", "Audio"), ("voice", "Voice")]
MATCH_CHOICES = [("word", "Word or phrase"), ("prefix", "Message starts with"), ("exact", "Whole message")]

MAX_BLOCKLIST_ENTRIES = 5000
MAX_FILTERS = 300
MAX_NOTES = 500
MAX_TEXT = 4096
MAX_PATTERN = 100
MAX_TRIGGER = 100
MAX_REASON = 512
MAX_FILE_ID = 256


def _duration():
    return models.PositiveIntegerField(
        null=True, blank=True,
        validators=[MinValueValidator(MIN_RESTRICTION_SECONDS), MaxValueValidator(MAX_RESTRICTION_SECONDS)])


class Lock(models.Model):
    """A content type locked in a group: a member's message of that type is deleted and `mode` applied."""

    group = models.ForeignKey("groups.Group", on_delete=models.CASCADE, related_name="locks")
    lock_type = models.CharField(max_length=32)
    mode = models.CharField(max_length=8, choices=MODE_CHOICES, default="delete")
    duration_seconds = _duration()
    reason = models.CharField(max_length=MAX_REASON, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["group", "lock_type"], name="contentrules_lock_unique")]

    def __str__(self):
        return f"lock {self.lock_type} in {self.group_id}"


class BlocklistEntry(models.Model):
    """A pattern as typed (literal text, `*` wildcards) and its normalized form (unique per group). `mode` None:
    the group's blocklist_action."""

    group = models.ForeignKey("groups.Group", on_delete=models.CASCADE, related_name="blocklist")
    pattern = models.CharField(max_length=MAX_PATTERN)
    normalized = models.CharField(max_length=4 * MAX_PATTERN)
    mode = models.CharField(max_length=8, choices=MODE_CHOICES, null=True, blank=True)  # noqa: DJ001
    duration_seconds = _duration()
    reason = models.CharField(max_length=MAX_REASON, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["group", "normalized"], name="contentrules_blocklist_unique")]

    def __str__(self):
        return f"blocklist {self.pattern!r} in {self.group_id}"


class ChatFilter(models.Model):
    """An auto-reply: a message matching the trigger (`match`: word, prefix or exact, on the normalized text) is
    answered with `text` (Telegram HTML), a media by file id, and URL buttons ([[{"text", "url"}]])."""

    group = models.ForeignKey("groups.Group", on_delete=models.CASCADE, related_name="chat_filters")
    trigger = models.CharField(max_length=MAX_TRIGGER)
    normalized = models.CharField(max_length=4 * MAX_TRIGGER)
    match = models.CharField(max_length=8, choices=MATCH_CHOICES, default="word")
    text = models.TextField(blank=True, max_length=MAX_TEXT)
    media_type = models.CharField(max_length=16, choices=MEDIA_CHOICES, null=True, blank=True)  # noqa: DJ001
    media_file_id = models.CharField(max_length=MAX_FILE_ID, blank=True)
    buttons = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["group", "normalized", "match"],
                                               name="contentrules_filter_unique")]

    def __str__(self):
        return f"filter {self.trigger!r} in {self.group_id}"


class Note(models.Model):
    """A saved answer, asked for by `#name` or `/get name`."""

    group = models.ForeignKey("groups.Group", on_delete=models.CASCADE, related_name="notes")
    name = models.CharField(max_length=64)
    text = models.TextField(blank=True, max_length=MAX_TEXT)
    media_type = models.CharField(max_length=16, choices=MEDIA_CHOICES, null=True, blank=True)  # noqa: DJ001
    media_file_id = models.CharField(max_length=MAX_FILE_ID, blank=True)
    buttons = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["group", "name"], name="contentrules_note_unique")]

    def __str__(self):
        return f"note #{self.name} in {self.group_id}"
