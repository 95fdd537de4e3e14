from django.contrib import admin
from django.contrib.auth.models import Group as AuthGroup

from apps.common.admin import ReadOnlyAdmin

from .models import Group, Membership

# "Groups" in this admin are Telegram groups. Django's auth groups are not used (roles and grants live in
# apps/rbac), so their entry is taken out rather than shown under the same name.
admin.site.unregister(AuthGroup)


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
