from datetime import UTC, datetime, timedelta, timezone

import pytest
from django.utils import timezone as django_timezone
from rest_framework import serializers

from apps.common.fields import ObjectIdField
from apps.common.plain import PlainRows


class Sample(serializers.Serializer):
    id = ObjectIdField()
    count = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=[("a", "A"), ("b", "B")])
    flag = serializers.BooleanField()
    at = serializers.DateTimeField()
    maybe = serializers.IntegerField(allow_null=True)
    text_date = serializers.DateTimeField(format="%Y-%m-%d")
    ratio = serializers.FloatField()


ROWS = [
    {"id": 7, "count": 3, "name": "x", "kind": "a", "flag": True, "ratio": 0.5, "maybe": None,
     "at": datetime(2026, 11, 26, 13, 5, 9, 123456, tzinfo=UTC), "text_date": datetime(2026, 1, 2, tzinfo=UTC)},
    {"id": "64b7f0c2a1b2c3d4e5f60718", "count": 0, "name": "", "kind": "b", "flag": False, "ratio": 1, "maybe": 0,
     "at": datetime(2026, 1, 1, tzinfo=timezone(timedelta(hours=5, minutes=30))), "text_date": None},
]


def test_the_same_as_the_serializer():
    assert PlainRows(Sample)(ROWS) == Sample(ROWS, many=True).data


def test_in_another_current_time_zone():
    with django_timezone.override("America/Sao_Paulo"):
        assert PlainRows(Sample)(ROWS) == Sample(ROWS, many=True).data


def test_columns_are_the_fields_sources():
    assert PlainRows(Sample).columns == tuple(Sample().fields)


def test_refuses_what_is_not_a_column():
    class Nested(serializers.Serializer):
        name = serializers.CharField(source="user.username")

    with pytest.raises(TypeError):
        PlainRows(Nested)
