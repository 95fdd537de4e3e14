from django.urls import path

from .apis import GroupDetailApi, GroupListApi, GroupMemberListApi

urlpatterns = [
    path("groups", GroupListApi.as_view(), name="groups"),
    path("groups/<str:group_id>", GroupDetailApi.as_view(), name="group-detail"),
    path("groups/<str:group_id>/members", GroupMemberListApi.as_view(), name="group-members"),
]
