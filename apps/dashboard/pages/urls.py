from django.urls import path

from apps.dashboard import converters  # noqa: F401 (registers <anyid:...>)

from . import analytics, audit, banlists, content, groups, roles, users, views

GROUP = "groups/<anyid:group_id>"
BANLIST = "banlists/<anyid:ban_list_id>"

urlpatterns = [
    path("login", views.login, name="dashboard-login"),
    path("logout", views.logout, name="dashboard-logout"),
    path("", views.overview, name="dashboard-overview"),
    path("groups", groups.group_list, name="dashboard-groups"),
    # The longer paths first: "<anyid:...>" would take "1/protection" whole.
    path("groups/<anyid:group_id>/protection/preview", groups.greeting_preview, name="dashboard-greeting-preview"),
    path("groups/<anyid:group_id>/protection/raid", groups.group_raid, name="dashboard-group-raid"),
    path("groups/<anyid:group_id>/protection", groups.group_protection, name="dashboard-group-protection"),
    path(f"{GROUP}/statistics/members/<anyid:user_id>", analytics.member_statistics,
         name="dashboard-member-statistics"),
    path(f"{GROUP}/statistics", analytics.group_statistics, name="dashboard-group-statistics"),
    path(f"{GROUP}/locks", content.locks, name="dashboard-group-locks"),
    path(f"{GROUP}/blocklist", content.blocklist, name="dashboard-group-blocklist"),
    path(f"{GROUP}/blocklist/import", content.blocklist_import, name="dashboard-group-blocklist-import"),
    path(f"{GROUP}/blocklist.txt", content.blocklist_export, name="dashboard-group-blocklist-export"),
    path(f"{GROUP}/filters", content.filters, name="dashboard-group-filters"),
    path(f"{GROUP}/notes", content.notes, name="dashboard-group-notes"),
    path(f"{GROUP}/replies/preview", content.reply_preview, name="dashboard-reply-preview"),
    path(f"{GROUP}/test", content.test_message, name="dashboard-group-test"),
    path("groups/<anyid:group_id>/approvals/revoke", groups.approval_revoke, name="dashboard-approval-revoke"),
    path("groups/<anyid:group_id>", groups.group_detail, name="dashboard-group"),
    path("statistics", analytics.platform_statistics, name="dashboard-statistics"),
    path("users", users.user_list, name="dashboard-users"),
    path("users/<anyid:user_id>", users.user_detail, name="dashboard-user"),
    path("roles", roles.role_list, name="dashboard-roles"),
    path("assignments", roles.assignments, name="dashboard-assignments"),
    path("assignments/<anyid:assignment_id>/revoke", roles.assignment_revoke, name="dashboard-revoke"),
    path("audit", audit.audit, name="dashboard-audit"),
    path("audit.csv", audit.audit_csv, name="dashboard-audit-csv"),
    path("moderation", audit.moderation, name="dashboard-moderation"),
    path("banlists", banlists.banlist_list, name="dashboard-banlists"),
    path(f"{BANLIST}/bans", banlists.banlist_bans, name="dashboard-banlist-bans"),
    path(f"{BANLIST}/history", banlists.banlist_history, name="dashboard-banlist-history"),
    path(f"{BANLIST}/import", banlists.BanListImportPage.as_view(), name="dashboard-banlist-import"),
    path(f"{BANLIST}/export.<str:format>", banlists.banlist_export, name="dashboard-banlist-export"),
    path(BANLIST, banlists.banlist_detail, name="dashboard-banlist"),
]
