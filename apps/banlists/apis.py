"""SCAFFOLD: every view below is an empty shell (405) until CORE-A builds it (see the contract)."""

from rest_framework.views import APIView


class BanListsApi(APIView):
    pass


class BanListApi(APIView):
    pass


class BanListDeleteApi(APIView):
    pass


class BanListAdminsApi(APIView):
    pass


class BanListAdminRemoveApi(APIView):
    pass


class BanListSubscriptionsApi(APIView):
    pass


class BanListSubscriptionRemoveApi(APIView):
    pass


class BanListFollowsApi(APIView):
    pass


class BanListFollowRemoveApi(APIView):
    pass
