"""Admin pages read RBAC state; changes go through the API's services so they are ranked and audited."""

from django.contrib import admin

from apps.common.admin import ReadOnlyAdmin

from .models import Permission, Role, RoleAssignment


@admin.register(Permission)
class PermissionAdmin(ReadOnlyAdmin):
    list_display = ["code", "description"]


@admin.register(Role)
class RoleAdmin(ReadOnlyAdmin):
    list_display = ["name", "rank", "is_builtin", "description"]
    filter_horizontal = ["permissions"]


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(ReadOnlyAdmin):
    list_display = ["user", "role", "scope", "source", "created_at", "expires_at", "revoked_at"]
    list_filter = ["role", "source"]
    search_fields = ["user__username", "user__telegram_username"]
    list_select_related = ["user", "role"]
