"""Helpers for statements compiled once: padded IN lists, and timestamps converted as the ORM converts them."""

import random
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from apps.common.prepared import aware_datetime_adapter, in_list_size, padded
from apps.events.models import GroupEvent


@pytest.mark.parametrize(("count", "size"), [(0, 1), (1, 1), (2, 2), (3, 4), (4, 4), (5, 8), (500, 512), (1000, 1024)])
def test_in_lists_are_compiled_for_powers_of_two(count, size):
    assert in_list_size(count) == size


def test_padding_repeats_the_last_value():
    assert padded({7}, 4) == [7, 7, 7, 7]
    assert padded([1, 2, 3], 4) == [1, 2, 3, 3]
    assert padded([1, 2], 2) == [1, 2]


@pytest.mark.django_db
def test_timestamps_convert_exactly_as_the_field_converts_them():
    field = GroupEvent._meta.get_field("occurred_at")
    adapt = aware_datetime_adapter(field, connection)
    zones = [UTC, ZoneInfo("Europe/Berlin"), ZoneInfo("America/New_York"), ZoneInfo("Asia/Kolkata"),
             timezone(timedelta(hours=-11)), timezone(timedelta(hours=14))]
    shuffle = random.Random(7)
    moments = [datetime(2026, 3, 29, 1, 30, tzinfo=UTC), datetime(2026, 10, 25, 0, 59, 59, 999999, tzinfo=UTC)]
    moments += [datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=shuffle.uniform(0, 2_000_000_000))
                for _ in range(2000)]
    for moment in moments:
        local = moment.astimezone(shuffle.choice(zones))
        assert adapt(local) == field.get_db_prep_save(local, connection=connection), local


# Each hand-compiled statement of the check and list paths, run both ways: prepared, and switched off (its
# caller's ORM path). The rows (and the answers built from them) must be the same. The kept ones are those that
# buy at least 15% on the benchmark (bench/prepared_seam.py, docs/benchmarks.md).

def _both_ways(name, operation):
    from django.db import DEFAULT_DB_ALIAS, connections

    from apps.common.prepared import PreparedQuery, statement_name, switched_off

    if connection.vendor != "sqlite":
        pytest.skip("prepared statements run on SQLite only")
    prepared = operation()
    compiled = PreparedQuery._by_connection.get(connections[DEFAULT_DB_ALIAS], {})
    assert any(statement_name(key) == name for key in compiled), name  # the prepared way was taken
    with switched_off(name):
        orm = operation()
    return prepared, orm


@pytest.fixture
def rbac_world(db):
    from tests.factories import grant, make_group, make_member, make_user

    users = [make_user() for _ in range(6)]
    groups = [make_group() for _ in range(3)]
    for index, user in enumerate(users):
        make_member(user, groups[index % 3])
    grant(users[0], "moderator", groups[0])
    grant(users[1], "admin")
    grant(users[2], "moderator", groups[1])
    users[3].is_active = False
    users[3].save(update_fields=["is_active"])
    return users, groups


def _queries(users, groups):
    from apps.rbac.selectors import PermissionQuery

    queries = []
    for user in users:
        for group in (*groups, None):
            for permission in ("BAN_USERS", "MANAGE_ROLES"):
                queries.append(PermissionQuery(user_id=str(user.pk), permission=permission,
                                               group_id=str(group.pk) if group else None))
                queries.append(PermissionQuery(telegram_user_id=user.telegram_user_id, permission=permission,
                                               telegram_chat_id=group.telegram_chat_id if group else None))
    queries.append(PermissionQuery(user_id="999999", permission="BAN_USERS", group_id=str(groups[0].pk)))
    queries.append(PermissionQuery(telegram_user_id=42, permission="BAN_USERS", telegram_chat_id=-100424242))
    return queries


def test_the_single_check_statement_decides_as_the_orm_path(rbac_world):
    from apps.rbac.decisions import permission_decide_many

    queries = _queries(*rbac_world)
    prepared, orm = _both_ways("rbac:subject", lambda: [permission_decide_many([query]) for query in queries])
    assert prepared == orm
    assert {decision.reason for (decision,) in prepared} >= {"granted_by_role:moderator", "granted_by_role:admin",
                                                             "user_inactive", "user_not_found"}


def test_the_groups_page_statement_reads_the_rows_the_orm_reads(db):
    from apps.groups.apis import GROUP_ROWS
    from apps.groups.models import Group
    from apps.groups.selectors import GROUP_SORTS, group_page
    from tests.factories import make_group

    made = [make_group(title=title) for title in ("beta", "Alpha", "gamma", "alpha", "Delta")]
    Group.objects.filter(pk=made[1].pk).update(is_active=False, member_count=3)

    def pages():
        return [group_page(columns=GROUP_ROWS.columns, page=page, limit=limit, active=active, sort=sort)
                for sort in (*GROUP_SORTS, *(f"-{name}" for name in GROUP_SORTS))
                for active in (None, True, False) for page, limit in ((1, 20), (1, 2), (2, 2), (3, 2), (9, 2))]

    prepared, orm = _both_ways("groups:page", pages)
    assert prepared == orm
    assert prepared[0][1] == 5 and len(prepared[0][0]) == 5
