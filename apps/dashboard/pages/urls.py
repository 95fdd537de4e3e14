from django.urls import path

from apps.dashboard import converters  # noqa: F401 (registers <anyid:...>)

from . import audit, groups, roles, users, views

urlpatterns = [
    path("login", views.login, name="dashboard-login"),
    path("logout", views.logout, name="dashboard-logout"),
    path("", views.overview, name="dashboard-overview"),
    path("groups", groups.group_list, name="dashboard-groups"),
    # The longer paths first: "<anyid:...>" would take "1/protection" whole.
    path("groups/<anyid:group_id>/protection/preview", groups.greeting_preview, name="dashboard-greeting-preview"),
    path("groups/<anyid:group_id>/protection/raid", groups.group_raid, name="dashboard-group-raid"),
    path("groups/<anyid:group_id>/protection", groups.group_protection, name="dashboard-group-protection"),
    path("groups/<anyid:group_id>/approvals/revoke", groups.approval_revoke, name="dashboard-approval-revoke"),
    path("groups/<anyid:group_id>", groups.group_detail, name="dashboard-group"),
    path("users", users.user_list, name="dashboard-users"),
    path("users/<anyid:user_id>", users.user_detail, name="dashboard-user"),
    path("roles", roles.role_list, name="dashboard-roles"),
    path("assignments", roles.assignments, name="dashboard-assignments"),
    path("assignments/<anyid:assignment_id>/revoke", roles.assignment_revoke, name="dashboard-revoke"),
    path("audit", audit.audit, name="dashboard-audit"),
    path("audit.csv", audit.audit_csv, name="dashboard-audit-csv"),
    path("moderation", audit.moderation, name="dashboard-moderation"),
]
