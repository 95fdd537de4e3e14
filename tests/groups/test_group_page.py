"""The groups list's lean path (a prepared, paged statement and PlainRows) answers exactly what the ORM and the
serializer answer, for every sort, filter and page."""

import itertools

import pytest
from django.utils import timezone

from apps.common.pagination import paginate
from apps.groups.apis import GROUP_ROWS, GroupOutputSerializer
from apps.groups.models import Group
from apps.groups.selectors import GROUP_SORTS, group_list, group_page
from tests.factories import make_group


@pytest.fixture
def groups(db):
    made = [make_group(title=title) for title in ("beta", "Alpha", "gamma", "alpha", "Delta", "epsilon", "Zeta")]
    Group.objects.filter(pk=made[1].pk).update(is_active=False, log_chat_id=-100123, warn_action_duration_seconds=60)
    Group.objects.filter(pk=made[2].pk).update(member_count=5, message_count=9)
    Group.objects.filter(pk=made[3].pk).update(created_at=timezone.now() - timezone.timedelta(days=3))
    return made


def expected(*, page, limit, **filters):
    return paginate(group_list(**filters), page=page, limit=limit, serializer_class=GroupOutputSerializer)


def lean(*, page, limit, **filters):
    items, total = group_page(columns=GROUP_ROWS.columns, page=page, limit=limit, **filters)
    return {"items": GROUP_ROWS(items), "total": total, "page": page, "limit": limit}


@pytest.mark.parametrize("sort", [*GROUP_SORTS, *(f"-{name}" for name in GROUP_SORTS)])
def test_every_sort_filter_and_page_matches_the_orm_and_serializer(groups, sort):
    for active, q, (page, limit) in itertools.product((None, True, False), (None, "alpha", "ZZ"),
                                                     ((1, 20), (1, 3), (2, 3), (3, 3), (4, 3), (9, 2), (1, 1))):
        filters = {"active": active, "q": q, "sort": sort}
        assert lean(page=page, limit=limit, **filters) == expected(page=page, limit=limit, **filters), filters


def test_an_empty_list(db):
    assert lean(page=1, limit=20) == {"items": [], "total": 0, "page": 1, "limit": 20}
    assert lean(page=3, limit=20)["total"] == 0


def test_the_endpoint_answers_the_same(api, groups):
    body = api.get("/api/groups?limit=3&page=2&sort=-title").json()["data"]
    assert body == expected(page=2, limit=3, sort="-title")
