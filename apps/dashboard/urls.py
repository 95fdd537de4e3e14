from django.urls import path

from . import apis, banlist_apis, content_apis, converters, reply_apis  # noqa: F401 (converters: <anyid:...>)

GROUP = "groups/<anyid:group_id>"
BANLIST = "banlists/<anyid:ban_list_id>"

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
    # Ban lists: "bans" is not a list's id, and a list's own paths come before "<anyid:...>" would take them whole.
    path("banlists", banlist_apis.BanListsApi.as_view(), name="banlists"),
    path("banlists/bans", banlist_apis.UserBansApi.as_view(), name="banlists-user-bans"),
    path(f"{BANLIST}/delete", banlist_apis.BanListDeleteApi.as_view(), name="banlist-delete"),
    path(f"{BANLIST}/admins", banlist_apis.BanListAdminsApi.as_view(), name="banlist-admins"),
    path(f"{BANLIST}/admins/remove", banlist_apis.BanListAdminRemoveApi.as_view(), name="banlist-admins-remove"),
    path(f"{BANLIST}/subscriptions", banlist_apis.BanListSubscriptionsApi.as_view(), name="banlist-subscriptions"),
    path(f"{BANLIST}/subscriptions/remove", banlist_apis.BanListSubscriptionRemoveApi.as_view(),
         name="banlist-subscriptions-remove"),
    path(f"{BANLIST}/follows", banlist_apis.BanListFollowsApi.as_view(), name="banlist-follows"),
    path(f"{BANLIST}/follows/remove", banlist_apis.BanListFollowRemoveApi.as_view(), name="banlist-follows-remove"),
    path(f"{BANLIST}/bans", banlist_apis.BanListBansApi.as_view(), name="banlist-bans"),
    path(f"{BANLIST}/bans/remove", banlist_apis.BanListUnbanApi.as_view(), name="banlist-bans-remove"),
    path(f"{BANLIST}/history", banlist_apis.BanListHistoryApi.as_view(), name="banlist-history"),
    path(f"{BANLIST}/import", banlist_apis.BanListImportApi.as_view(), name="banlist-import"),
    path(f"{BANLIST}/export", banlist_apis.BanListExportApi.as_view(), name="banlist-export"),
    path(f"{BANLIST}/propagation", banlist_apis.BanListPropagationApi.as_view(), name="banlist-propagation"),
    path(BANLIST, banlist_apis.BanListDetailApi.as_view(), name="banlist-detail"),
]
