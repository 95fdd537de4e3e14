"""SCAFFOLD: every view below is an empty shell (405) until CORE-B builds it (see the contract)."""

from rest_framework.views import APIView


class UserBansApi(APIView):
    pass


class BanListVersionsApi(APIView):
    pass


class PropagationClaimApi(APIView):
    pass


class PropagationCompleteApi(APIView):
    pass


class BanListBansApi(APIView):
    pass


class BanListUnbanApi(APIView):
    pass


class BanListHistoryApi(APIView):
    pass


class BanListImportApi(APIView):
    pass


class BanListExportApi(APIView):
    pass


class BanListIdsApi(APIView):
    pass


class BanListPropagationApi(APIView):
    pass
