from django.contrib import admin

admin.site.site_header = "Centralized API administration"
admin.site.site_title = "Centralized API"
admin.site.index_title = "Users, Telegram groups, roles and the audit trail"
