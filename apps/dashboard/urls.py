from django.urls import path

from . import apis, content_apis, converters, reply_apis  # noqa: F401 (converters registers <anyid:...>)

GROUP = "groups/<anyid:group_id>"

urlpatterns = [
    path("auth/login", apis.LoginApi.as_view(), name="auth-login"),
    path("auth/refresh", apis.RefreshApi.as_view(), name="auth-refresh"),
    path("auth/logout", apis.LogoutApi.as_view(), name="auth-logout"),
    path("me", apis.MeApi.as_view(), name="me"),
    path("groups", apis.GroupListApi.as_view(), name="groups"),
    # Members and protection first: "<anyid:...>" would take "1/members" whole.
    path("groups/<anyid:group_id>/members", apis.GroupMemberListApi.as_view(), name="group-members"),
    path("groups/<anyid:group_id>/protection", apis.GroupProtectionApi.as_view(), name="group-protection"),
    path(f"{GROUP}/protection/test", content_apis.GroupProtectionTestApi.as_view(), name="group-protection-test"),
    path(f"{GROUP}/locks", content_apis.GroupLocksApi.as_view(), name="group-locks"),
    path(f"{GROUP}/blocklist", content_apis.GroupBlocklistApi.as_view(), name="group-blocklist"),
    path(f"{GROUP}/blocklist.txt", content_apis.GroupBlocklistExportApi.as_view(), name="group-blocklist-export"),
    path(f"{GROUP}/blocklist/import", content_apis.GroupBlocklistImportApi.as_view(), name="group-blocklist-import"),
    path(f"{GROUP}/blocklist/remove", content_apis.GroupBlocklistRemoveApi.as_view(), name="group-blocklist-remove"),
    path(f"{GROUP}/blocklist/clear", content_apis.GroupBlocklistClearApi.as_view(), name="group-blocklist-clear"),
    path(f"{GROUP}/filters", reply_apis.GroupFiltersApi.as_view(), name="group-filters"),
    path(f"{GROUP}/filters/remove", reply_apis.GroupFiltersRemoveApi.as_view(), name="group-filters-remove"),
    path(f"{GROUP}/filters/clear", reply_apis.GroupFiltersClearApi.as_view(), name="group-filters-clear"),
    path(f"{GROUP}/notes", reply_apis.GroupNotesApi.as_view(), name="group-notes"),
    path(f"{GROUP}/notes/remove", reply_apis.GroupNotesRemoveApi.as_view(), name="group-notes-remove"),
    path(f"{GROUP}/notes/clear", reply_apis.GroupNotesClearApi.as_view(), name="group-notes-clear"),
    path(f"{GROUP}/notes/<str:name>", reply_apis.GroupNoteDetailApi.as_view(), name="group-note"),
    path("groups/<anyid:group_id>", apis.GroupDetailApi.as_view(), name="group-detail"),
    path("users", apis.UserListApi.as_view(), name="users"),
    path("users/<anyid:user_id>", apis.UserDetailApi.as_view(), name="user-detail"),
    path("roles", apis.RoleListApi.as_view(), name="roles"),
    path("assignments", apis.AssignmentListApi.as_view(), name="assignments"),
    path("assignments/<anyid:assignment_id>/revoke", apis.AssignmentRevokeApi.as_view(), name="assignment-revoke"),
    path("audit", apis.AuditListApi.as_view(), name="audit"),
    path("audit.csv", apis.AuditCsvApi.as_view(), name="audit-csv"),
    path("moderation", apis.ModerationListApi.as_view(), name="moderation"),
    path("stats", apis.StatsApi.as_view(), name="stats"),
]
