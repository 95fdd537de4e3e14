from django.urls import path

from . import apis

urlpatterns = [
    path("groups", apis.GroupListApi.as_view(), name="groups"),
    path("groups/by-chat/<str:telegram_chat_id>", apis.GroupByChatApi.as_view(), name="group-by-chat"),
    path("groups/<str:group_id>", apis.GroupDetailApi.as_view(), name="group-detail"),
    path("groups/<str:group_id>/migrate", apis.GroupMigrateApi.as_view(), name="group-migrate"),
    path("groups/<str:group_id>/members", apis.GroupMemberListApi.as_view(), name="group-members"),
    path("groups/<str:group_id>/members/<str:user_id>", apis.GroupMemberDetailApi.as_view(), name="group-member"),
]
