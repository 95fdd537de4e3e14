from django.urls import path

from . import apis, converters  # noqa: F401 (registers <anyid:...>)

urlpatterns = [
    path("auth/login", apis.LoginApi.as_view(), name="auth-login"),
    path("auth/refresh", apis.RefreshApi.as_view(), name="auth-refresh"),
    path("auth/logout", apis.LogoutApi.as_view(), name="auth-logout"),
    path("me", apis.MeApi.as_view(), name="me"),
    path("groups", apis.GroupListApi.as_view(), name="groups"),
    # Members and protection first: "<anyid:...>" would take "1/members" whole.
    path("groups/<anyid:group_id>/members", apis.GroupMemberListApi.as_view(), name="group-members"),
    path("groups/<anyid:group_id>/protection", apis.GroupProtectionApi.as_view(), name="group-protection"),
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
