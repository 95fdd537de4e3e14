"""Ban lists shared by many groups (Rose's federations): the list, the groups that follow it, the lists it follows,
its bans (one row per Telegram user, kept after an unban so that a cache can ask what changed since a version),
the history of changes, and the bans owed to each subscribed group (propagation, claimed by a bot under a lease).

Who governs a list is RBAC's business: roles granted in the list's own scope (`banlist:<pk>`, apps.rbac)."""

from django.conf import settings
from django.db import models


class BanList(models.Model):
    name = models.CharField(max_length=64)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # The list's own log chat (/setfedlog): every ban and unban is posted there.
    log_chat_id = models.BigIntegerField(null=True, blank=True)
    # Bumped in the transaction of every change of its bans; an entry carries the version of its last change.
    version = models.PositiveBigIntegerField(default=1)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["owner", "is_active"], name="banlist_owner_active")]

    def __str__(self):
        return f"ban list {self.name!r} (#{self.pk})"

    @property
    def scope(self) -> str:
        return f"banlist:{self.pk}"


class Subscription(models.Model):
    """A group follows a list: the list's bans hold there."""

    ban_list = models.ForeignKey(BanList, on_delete=models.PROTECT, related_name="subscriptions")
    group = models.ForeignKey("groups.Group", on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        # The group's foreign key is indexed already (a second index on the same key is refused by MongoDB).
        constraints = [models.UniqueConstraint(fields=["ban_list", "group"], name="one_subscription_per_group")]

    def __str__(self):
        return f"group {self.group_id} follows ban list {self.ban_list_id}"


class Follow(models.Model):
    """A list follows another list's bans (/subfed): a group following `ban_list` is protected by `source` too."""

    ban_list = models.ForeignKey(BanList, on_delete=models.PROTECT, related_name="follows")
    source = models.ForeignKey(BanList, on_delete=models.PROTECT, related_name="followers")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["ban_list", "source"], name="one_follow_per_source")]

    def __str__(self):
        return f"ban list {self.ban_list_id} follows {self.source_id}"


class Ban(models.Model):
    """A Telegram user on a list; `active` False once unbanned (kept, so a cache's delta can say so)."""

    class Source(models.TextChoices):
        COMMAND = "command"
        API = "api"
        IMPORT = "import"

    ban_list = models.ForeignKey(BanList, on_delete=models.PROTECT, related_name="bans")
    telegram_user_id = models.BigIntegerField()
    reason = models.CharField(max_length=1024, blank=True)
    active = models.BooleanField(default=True)
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.COMMAND)
    banned_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+")
    # When the user was banned: the import's date column when one was given, else the time of the ban.
    banned_at = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveBigIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["ban_list", "telegram_user_id"], name="one_ban_per_user")]
        indexes = [
            models.Index(fields=["ban_list", "version"], name="ban_list_version"),
            models.Index(fields=["telegram_user_id", "active"], name="ban_user_active"),
        ]

    def __str__(self):
        return f"{self.telegram_user_id} on ban list {self.ban_list_id} ({'banned' if self.active else 'unbanned'})"


class Change(models.Model):
    """The ban history of a list: one row per ban, unban or import (an import's count in `count`)."""

    class Kind(models.TextChoices):
        BAN = "ban"
        UNBAN = "unban"
        IMPORT = "import"

    ban_list = models.ForeignKey(BanList, on_delete=models.PROTECT, related_name="changes")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    telegram_user_id = models.BigIntegerField(null=True, blank=True)
    reason = models.CharField(max_length=1024, blank=True)
    count = models.PositiveIntegerField(default=1)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="+")
    source_service = models.CharField(max_length=64, blank=True)
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["ban_list", "created_at"], name="banchange_list_time"),
            models.Index(fields=["telegram_user_id", "created_at"], name="banchange_user_time"),
        ]

    def __str__(self):
        return f"{self.kind} on ban list {self.ban_list_id}"


class Propagation(models.Model):
    """A ban or unban a bot owes one subscribed group: claimed under a lease (a bot that dies holding it does not
    lose it), done or failed with Telegram's error. `notify`: the user is exempt in that group (approved), so the
    group's moderators are told instead."""

    class Action(models.TextChoices):
        BAN = "ban"
        UNBAN = "unban"
        NOTIFY = "notify"

    class Status(models.TextChoices):
        PENDING = "pending"
        DONE = "done"
        FAILED = "failed"

    ban_list = models.ForeignKey(BanList, on_delete=models.PROTECT, related_name="+")
    group = models.ForeignKey("groups.Group", on_delete=models.PROTECT, related_name="+")
    telegram_user_id = models.BigIntegerField()
    action = models.CharField(max_length=16, choices=Action.choices)
    reason = models.CharField(max_length=1024, blank=True)
    moderation_action = models.ForeignKey("moderation.ModerationAction", null=True, blank=True,
                                          on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    error = models.CharField(max_length=1024, blank=True)
    claims = models.PositiveIntegerField(default=0)
    claimed_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["status", "claimed_until"], name="propagation_claimable"),
            models.Index(fields=["ban_list", "status"], name="propagation_list_status"),
        ]

    def __str__(self):
        return f"{self.action} of {self.telegram_user_id} in group {self.group_id} ({self.status})"
