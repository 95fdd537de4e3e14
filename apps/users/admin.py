from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from apps.audit.services import audit_record
from apps.common import audit_actions as actions
from apps.common.context import bind_context

from .models import User
from .services import user_bump_rbac_version


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ["username", "telegram_user_id", "telegram_username", "display_name", "is_active", "is_staff"]
    search_fields = ["username", "telegram_username", "display_name", "telegram_user_id"]
    list_filter = ["is_staff", "is_superuser", "is_active"]
    # Django's permission flags without its auth groups (not used: roles and grants live in apps/rbac).
    fieldsets = [
        *((name, {**options, "fields": tuple(f for f in options["fields"] if f != "groups")})
          for name, options in DjangoUserAdmin.fieldsets),
        ("Telegram", {"fields": ["telegram_user_id", "telegram_username", "display_name"]}),
    ]
    readonly_fields = ["rbac_version"]

    def save_model(self, request, obj, form, change):
        """Admin edits are changes like any other: the decision cache is invalidated and the change audited."""
        bind_context(service="admin")
        super().save_model(request, obj, form, change)
        if change:
            user_bump_rbac_version(user_id=obj.pk)
        audit_record(
            action=actions.USER_UPDATE if change else actions.USER_CREATE,
            result="success",
            actor_user_id=request.user.pk,
            target_type="user",
            target_id=obj.pk,
            details={"changed": sorted(form.changed_data), "via": "admin"},
        )

    def has_delete_permission(self, request, obj=None):
        return False  # users are deactivated, never deleted: assignments and the audit trail refer to them
