from django.conf import settings
from django.db import models


class Group(models.Model):
    class Type(models.TextChoices):
        GROUP = "group"
        SUPERGROUP = "supergroup"

    telegram_chat_id = models.BigIntegerField(unique=True)
    title = models.CharField(max_length=255)
    type = models.CharField(max_length=16, choices=Type.choices, default=Type.SUPERGROUP)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"{self.title} ({self.telegram_chat_id})"


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
    joined_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["group", "user"], name="unique_membership")]
        indexes = [models.Index(fields=["user", "group"], name="membership_user_group")]

    def __str__(self):
        return f"{self.user} in {self.group}: {self.status}"

    @property
    def counts_as_member(self) -> bool:
        """Present in the group and not banned: the condition for a group-scoped permission."""
        return self.status in {self.Status.MEMBER, self.Status.RESTRICTED}
