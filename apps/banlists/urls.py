from django.urls import path

from . import apis, ban_apis

# Fixed paths before `banlists/<id>`: "bans", "versions" and "propagations" are not list ids.
urlpatterns = [
    path("banlists", apis.BanListsApi.as_view(), name="banlists"),
    path("banlists/bans", ban_apis.UserBansApi.as_view(), name="banlists-user-bans"),
    path("banlists/versions", ban_apis.BanListVersionsApi.as_view(), name="banlists-versions"),
    path("banlists/propagations/claim", ban_apis.PropagationClaimApi.as_view(), name="banlists-propagation-claim"),
    path("banlists/propagations/release", ban_apis.PropagationReleaseApi.as_view(),
         name="banlists-propagation-release"),
    path("banlists/propagations/<str:propagation_id>/complete", ban_apis.PropagationCompleteApi.as_view(),
         name="banlists-propagation-complete"),
    path("banlists/<str:ban_list_id>", apis.BanListApi.as_view(), name="banlist-detail"),
    path("banlists/<str:ban_list_id>/delete", apis.BanListDeleteApi.as_view(), name="banlist-delete"),
    path("banlists/<str:ban_list_id>/admins", apis.BanListAdminsApi.as_view(), name="banlist-admins"),
    path("banlists/<str:ban_list_id>/admins/remove", apis.BanListAdminRemoveApi.as_view(),
         name="banlist-admins-remove"),
    path("banlists/<str:ban_list_id>/subscriptions", apis.BanListSubscriptionsApi.as_view(),
         name="banlist-subscriptions"),
    path("banlists/<str:ban_list_id>/subscriptions/remove", apis.BanListSubscriptionRemoveApi.as_view(),
         name="banlist-subscriptions-remove"),
    path("banlists/<str:ban_list_id>/follows", apis.BanListFollowsApi.as_view(), name="banlist-follows"),
    path("banlists/<str:ban_list_id>/follows/remove", apis.BanListFollowRemoveApi.as_view(),
         name="banlist-follows-remove"),
    path("banlists/<str:ban_list_id>/bans", ban_apis.BanListBansApi.as_view(), name="banlist-bans"),
    path("banlists/<str:ban_list_id>/bans/remove", ban_apis.BanListUnbanApi.as_view(), name="banlist-bans-remove"),
    path("banlists/<str:ban_list_id>/history", ban_apis.BanListHistoryApi.as_view(), name="banlist-history"),
    path("banlists/<str:ban_list_id>/import", ban_apis.BanListImportApi.as_view(), name="banlist-import"),
    path("banlists/<str:ban_list_id>/export", ban_apis.BanListExportApi.as_view(), name="banlist-export"),
    path("banlists/<str:ban_list_id>/ids", ban_apis.BanListIdsApi.as_view(), name="banlist-ids"),
    path("banlists/<str:ban_list_id>/propagation", ban_apis.BanListPropagationApi.as_view(),
         name="banlist-propagation"),
]
