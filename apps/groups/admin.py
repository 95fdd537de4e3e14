from django.contrib import admin

from apps.common.admin import ReadOnlyAdmin

from .models import Group, Membership


@admin.register(Group)
class GroupAdmin(ReadOnlyAdmin):
    list_display = ["title", "telegram_chat_id", "type", "is_active", "created_at"]
    search_fields = ["title", "telegram_chat_id"]
    list_filter = ["type", "is_active"]


@admin.register(Membership)
class MembershipAdmin(ReadOnlyAdmin):
    list_display = ["user", "group", "status", "joined_at"]
    list_filter = ["status"]
    list_select_related = ["user", "group"]
