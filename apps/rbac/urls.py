from django.urls import path

from . import apis

urlpatterns = [
    path("rbac/permissions", apis.PermissionCatalogueApi.as_view(), name="rbac-permissions"),
    path("rbac/roles", apis.RoleListApi.as_view(), name="rbac-roles"),
    path("rbac/roles/<str:name>", apis.RoleDetailApi.as_view(), name="rbac-role-detail"),
    path("rbac/assignments", apis.AssignmentListApi.as_view(), name="rbac-assignments"),
    path("rbac/assignments/<str:assignment_id>/revoke", apis.AssignmentRevokeApi.as_view(), name="rbac-revoke"),
    path("rbac/check-permission", apis.PermissionCheckApi.as_view(), name="rbac-check"),
    path("rbac/check-permissions", apis.PermissionCheckBatchApi.as_view(), name="rbac-check-batch"),
    # Telegram's administrators mirrored into roles, under the group they belong to.
    path("groups/<str:group_id>/admins/sync", apis.GroupAdminSyncApi.as_view(), name="group-admins-sync"),
    path("groups/<str:group_id>/anonymous-admin", apis.GroupAnonymousAdminApi.as_view(), name="group-anon-admin"),
]
