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
