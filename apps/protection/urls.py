from django.urls import path

from . import apis

urlpatterns = [
    path("groups/<str:group_id>/protection", apis.GroupProtectionApi.as_view(), name="protection-group"),
    path("groups/<str:group_id>/protection/test", apis.ProtectionTestApi.as_view(), name="protection-test"),
    path("groups/<str:group_id>/protection/raid", apis.ProtectionRaidApi.as_view(), name="protection-raid"),
    path("groups/<str:group_id>/approvals", apis.GroupApprovalListApi.as_view(), name="protection-approvals-list"),
    path("protection/settings", apis.ProtectionByChatApi.as_view(), name="protection-by-chat"),
    path("protection/versions", apis.ProtectionVersionsApi.as_view(), name="protection-versions"),
    path("protection/actions", apis.ProtectionActionApi.as_view(), name="protection-actions"),
    path("protection/approvals", apis.ApprovalGrantApi.as_view(), name="protection-approvals"),
    path("protection/approvals/revoke", apis.ApprovalRevokeApi.as_view(), name="protection-approvals-revoke"),
]
