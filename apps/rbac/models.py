from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models

ROLE_NAME_PATTERN = r"^[a-z][a-z0-9_-]{1,31}$"
MAX_RANK = 1000


class Permission(models.Model):
    code = models.CharField(max_length=64, unique=True)
    description = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["code"]

    def __str__(self):
        return self.code


class Role(models.Model):
    name = models.CharField(max_length=32, unique=True, validators=[RegexValidator(ROLE_NAME_PATTERN)])
    # Higher outranks lower: an actor may only grant, revoke or edit roles ranked below their own.
    rank = models.PositiveIntegerField(validators=[MinValueValidator(1), MaxValueValidator(MAX_RANK)])
    description = models.CharField(max_length=255, blank=True)
    is_builtin = models.BooleanField(default=False)
    permissions = models.ManyToManyField(Permission, related_name="roles", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-rank", "name"]

    def __str__(self):
        return self.name


class RoleAssignment(models.Model):
    """A role held by a user, globally (group is null) or in one group. Kept forever as history."""

    class Source(models.TextChoices):
        MANUAL = "manual"
        TELEGRAM_SYNC = "telegram_sync"

    GLOBAL_SCOPE = "global"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="role_assignments")
    role = models.ForeignKey(Role, on_delete=models.PROTECT, related_name="assignments")
    group = models.ForeignKey("groups.Group", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    # "global" or the group's id.
    scope = models.CharField(max_length=64)
    # `scope` while the assignment is unrevoked, NULL once revoked: a plain unique (user, role, active_scope)
    # then allows one unrevoked assignment per scope on every backend, as NULLs never collide (a condition on
    # `revoked_at IS NULL` would need a partial index MongoDB cannot build). Written by the services only.
    active_scope = models.CharField(max_length=64, null=True, blank=True, editable=False)  # noqa: DJ001
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.MANUAL)
    reason = models.CharField(max_length=255, blank=True)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    revoke_reason = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["user", "role", "active_scope"], name="one_unrevoked_assignment_per_scope")
        ]
        indexes = [
            models.Index(fields=["user", "revoked_at", "scope"], name="assignment_user_active"),
            models.Index(fields=["group", "revoked_at"], name="assignment_group_active"),
        ]

    def __str__(self):
        return f"{self.user} as {self.role} in {self.scope}"

    @staticmethod
    def scope_for(group) -> str:
        return RoleAssignment.GLOBAL_SCOPE if group is None else str(group.pk)


class CatalogueVersion(models.Model):
    """One row, bumped whenever a role's rank or permissions change; part of every decision-cache key."""

    version = models.PositiveBigIntegerField(default=0)

    def __str__(self):
        return f"catalogue v{self.version}"
