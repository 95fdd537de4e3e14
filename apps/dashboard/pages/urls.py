from django.urls import path

from apps.dashboard import converters  # noqa: F401 (registers <anyid:...>)

from . import views

urlpatterns = [
    path("login", views.login, name="dashboard-login"),
    path("logout", views.logout, name="dashboard-logout"),
    path("", views.overview, name="dashboard-overview"),
    path("groups", views.group_list, name="dashboard-groups"),
    path("groups/<anyid:group_id>", views.group_detail, name="dashboard-group"),
    path("users", views.user_list, name="dashboard-users"),
    path("users/<anyid:user_id>", views.user_detail, name="dashboard-user"),
    path("roles", views.role_list, name="dashboard-roles"),
    path("assignments", views.assignments, name="dashboard-assignments"),
    path("assignments/<anyid:assignment_id>/revoke", views.assignment_revoke, name="dashboard-revoke"),
    path("audit", views.audit, name="dashboard-audit"),
    path("audit.csv", views.audit_csv, name="dashboard-audit-csv"),
    path("moderation", views.moderation, name="dashboard-moderation"),
]
