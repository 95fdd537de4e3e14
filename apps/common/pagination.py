"""Page/limit lists: data = {"items": [...], "total": N, "page": p, "limit": l}."""

from rest_framework import serializers

MAX_LIMIT = 200
# Far beyond any real list; keeps the row offset inside what every database accepts.
MAX_PAGE = 1_000_000


class PageQuerySerializer(serializers.Serializer):
    page = serializers.IntegerField(min_value=1, max_value=MAX_PAGE, default=1)
    limit = serializers.IntegerField(min_value=1, max_value=MAX_LIMIT, default=20)


def page_total(queryset, *, offset: int, limit: int, found: int) -> int:
    """A page short of `limit` that has rows (or is the first) ends the list: no COUNT needed."""
    if found < limit and (found or not offset):
        return offset + found
    return queryset.count()


def paginate(queryset, *, page: int, limit: int, serializer_class) -> dict:
    offset = (page - 1) * limit
    items = list(queryset[offset : offset + limit])
    return {
        "items": serializer_class(items, many=True).data,
        "total": page_total(queryset, offset=offset, limit=limit, found=len(items)),
        "page": page,
        "limit": limit,
    }
