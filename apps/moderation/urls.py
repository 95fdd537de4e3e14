from django.urls import path

from . import apis

MEMBER = "groups/<str:group_id>/members/<str:user_id>"

urlpatterns = [
    path("moderation/actions", apis.ActionListApi.as_view(), name="moderation-actions"),
    path("moderation/actions/<str:action_id>", apis.ActionDetailApi.as_view(), name="moderation-action"),
    path("moderation/actions/<str:action_id>/complete", apis.ActionCompleteApi.as_view(), name="moderation-complete"),
    path(f"{MEMBER}/warnings", apis.WarningListApi.as_view(), name="warnings"),
    path(f"{MEMBER}/warnings/reset", apis.WarningResetApi.as_view(), name="warnings-reset"),
    path(f"{MEMBER}/warnings/<str:warning_id>/remove", apis.WarningRemoveApi.as_view(), name="warning-remove"),
]
