from django.urls import path

from .apis import UserDetailApi, UserListApi

urlpatterns = [
    path("users", UserListApi.as_view(), name="users"),
    path("users/<str:user_id>", UserDetailApi.as_view(), name="user-detail"),
]
