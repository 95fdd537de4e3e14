from django.db.models import QuerySet

from apps.common.ids import get_or_404
from apps.groups.models import Group

from .models import Challenge


def challenge_get(*, challenge_id) -> Challenge:
    queryset = Challenge.objects.select_related("group", "user")
    return get_or_404(Challenge, challenge_id, label="Challenge", queryset=queryset)


def challenge_list(*, group: Group, status: str | None = None) -> QuerySet[Challenge]:
    queryset = Challenge.objects.filter(group=group)
    if status is not None:
        queryset = queryset.filter(status=status)
    return queryset.select_related("group", "user").order_by("-started_at", "-id")
