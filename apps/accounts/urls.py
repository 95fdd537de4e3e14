from django.urls import path

from .apis import RevokedFamilyDetailApi, RevokedTokenDetailApi, RevokedTokenListApi, VerifyCredentialsApi

urlpatterns = [
    path("auth/verify-credentials", VerifyCredentialsApi.as_view(), name="auth-verify-credentials"),
    path("auth/revoked-tokens", RevokedTokenListApi.as_view(), name="auth-revoked-tokens"),
    path("auth/revoked-tokens/<str:jti>", RevokedTokenDetailApi.as_view(), name="auth-revoked-token"),
    path("auth/revoked-families/<str:family>", RevokedFamilyDetailApi.as_view(), name="auth-revoked-family"),
]
