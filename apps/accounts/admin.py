from django.contrib import admin

from apps.common.admin import ReadOnlyAdmin

from .forms import LimitedAdminLoginForm
from .models import RevokedToken, RevokedTokenFamily

# Every admin login is limited and audited (apps/accounts/views.py answers 429 for a refused one).
admin.site.login_form = LimitedAdminLoginForm


@admin.register(RevokedToken)
class RevokedTokenAdmin(ReadOnlyAdmin):
    list_display = ["jti", "reason", "user_id", "revoked_at", "expires_at"]
    search_fields = ["jti", "user_id"]


@admin.register(RevokedTokenFamily)
class RevokedTokenFamilyAdmin(ReadOnlyAdmin):
    list_display = ["family", "reason", "user_id", "revoked_at", "expires_at"]
    search_fields = ["family", "user_id"]
