from django.contrib import admin

from apps.common.admin import ReadOnlyAdmin

from .models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    """Read-only: the trail is append-only for everyone, superusers included."""

    list_display = ["sequence", "created_at", "service", "action", "result", "actor_user_id", "group_id", "reason"]
    list_filter = ["action", "result", "service"]
    search_fields = ["actor_user_id", "target_id", "group_id", "request_id"]
    ordering = ["-sequence"]

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]
