from django.contrib import admin

from apps.common.admin import ReadOnlyAdmin

from .models import RevokedToken


@admin.register(RevokedToken)
class RevokedTokenAdmin(ReadOnlyAdmin):
    list_display = ["jti", "reason", "user_id", "revoked_at", "expires_at"]
    search_fields = ["jti", "user_id"]
