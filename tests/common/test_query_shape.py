"""parse_query's derived shape vouches only for what the serializer reads the same way; the rest, errors
included, is the serializer's."""

import pytest
from django.test import RequestFactory
from rest_framework import serializers
from rest_framework.request import Request

from apps.common import parsing
from apps.common.validation import query_shape
from apps.groups.apis import GroupListApi
from apps.users.apis import UserListApi

QUERIES = [
    "", "limit=20", "page=2&limit=5", "limit=200", "limit=201", "limit=0", "limit=-1", "limit=+5", "limit=05",
    "limit=20.0", "limit= 20", "limit=", "limit=abc", "limit=%EF%BC%92", "page=1000000", "page=1000001",
    "active=true", "active=True", "active=1", "active=0", "active=false", "active=yes", "active=", "active=null",
    "q=abc", "q=%20abc%20", "q=", "q=%20", "q=" + "x" * 101, "q=a%00b", "sort=-title", "sort=Title", "sort=",
    "sort=messages&active=false&q=x&page=3&limit=7", "limit=1&limit=30", "is_active=true&username=bob",
    "telegram_user_id=-5", "telegram_user_id=12",
]


def serializer_answer(serializer_class, query):
    params = Request(RequestFactory().get(f"/x?{query}")).query_params
    serializer = serializer_class(data={key: params.get(key) for key in params})
    return dict(serializer.validated_data) if serializer.is_valid() else ("error", serializer.errors)


def parse_answer(serializer_class, query):
    try:
        return dict(parsing.parse_query(serializer_class, Request(RequestFactory().get(f"/x?{query}"))))
    except serializers.ValidationError as exc:
        return ("error", exc.detail)


@pytest.mark.parametrize("serializer_class", [GroupListApi.FilterSerializer, UserListApi.FilterSerializer])
@pytest.mark.parametrize("query", QUERIES)
def test_same_answer_as_the_serializer(serializer_class, query):
    known = set(serializer_class().fields)
    params = Request(RequestFactory().get(f"/x?{query}")).query_params
    if not set(params) <= known:
        verdict = parse_answer(serializer_class, query)  # refused before the shape or the serializer reads it
        assert verdict[0] == "error" and all(errors == ["Unknown query parameter."] for errors in verdict[1].values())
        return
    if any(len(params.getlist(name)) > 1 for name in params):
        verdict = parse_answer(serializer_class, query)  # a repeated parameter is refused the same way
        assert verdict[0] == "error" and all(errors == ["Given more than once."] for errors in verdict[1].values())
        return
    assert parse_answer(serializer_class, query) == serializer_answer(serializer_class, query)


def test_the_lists_have_a_shape():
    assert query_shape(GroupListApi.FilterSerializer) is not None
    assert query_shape(UserListApi.FilterSerializer) is not None


def test_no_shape_for_what_it_cannot_vouch_for():
    class WithValidate(serializers.Serializer):
        a = serializers.IntegerField(required=False)

        def validate(self, attrs):
            return attrs

    class WithRequired(serializers.Serializer):
        a = serializers.IntegerField()

    class WithDate(serializers.Serializer):
        a = serializers.DateTimeField(required=False)

    assert query_shape(WithValidate) is None
    assert query_shape(WithRequired) is None
    assert query_shape(WithDate) is None
