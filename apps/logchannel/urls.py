from django.urls import path

from . import apis

urlpatterns = [
    path("protection/log/claim", apis.LogClaimApi.as_view(), name="protection-log-claim"),
    path("protection/log/<str:entry_id>/result", apis.LogResultApi.as_view(), name="protection-log-result"),
    path("protection/welcome-message", apis.WelcomeMessageApi.as_view(), name="protection-welcome-message"),
]
