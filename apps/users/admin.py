from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from .models import User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ["username", "telegram_user_id", "telegram_username", "display_name", "is_active", "is_staff"]
    search_fields = ["username", "telegram_username", "display_name", "telegram_user_id"]
    fieldsets = [
        *DjangoUserAdmin.fieldsets,
        ("Telegram", {"fields": ["telegram_user_id", "telegram_username", "display_name"]}),
    ]
    readonly_fields = ["rbac_version"]
