from django.urls import path

from . import apis

urlpatterns = [
    path("protection/challenges", apis.ChallengeListApi.as_view(), name="challenges"),
    path("protection/challenges/claim-expired", apis.ChallengeClaimExpiredApi.as_view(),
         name="challenges-claim-expired"),
    path("protection/challenges/<str:challenge_id>/messages", apis.ChallengeMessagesApi.as_view(),
         name="challenge-messages"),
    path("protection/challenges/<str:challenge_id>/answer", apis.ChallengeAnswerApi.as_view(),
         name="challenge-answer"),
]
