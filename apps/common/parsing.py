"""Thin-view helpers: validate a body or a query string with a serializer, or raise the envelope's 400."""

import functools

from django.http import QueryDict
from rest_framework import serializers
from rest_framework.exceptions import ParseError

from .validation import Shape, Unsure, query_shape


def request_json(request):
    """The parsed body. JSON nested too deep for the parser is malformed input, not a server error."""
    try:
        return request.data
    except RecursionError:
        raise ParseError("JSON nested too deeply") from None


def parse_body(serializer_class: type[serializers.Serializer], request, *, shape: Shape | None = None) -> dict:
    """The validated body. With a `shape` (apps.common.validation) that declares the same fields, a body the
    shape vouches for skips the serializer; anything else goes to the serializer, which words the error."""
    data = request_json(request)
    if not isinstance(data, dict):
        raise serializers.ValidationError({"non_field_errors": ["The body must be a JSON object."]})
    if shape is not None and shape.fields.keys() >= data.keys():
        try:
            return shape.validate(data)
        except Unsure:
            pass
    serializer = serializer_class(data=data)
    unknown = sorted(set(data) - set(serializer.fields))
    if unknown:
        # A misspelt field silently ignored is a change silently not made: refuse it instead.
        raise serializers.ValidationError({name: ["Unknown field."] for name in unknown})
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


@functools.cache
def _query_plan(serializer_class: type[serializers.Serializer]) -> tuple[frozenset, tuple[Shape, dict] | None]:
    """The parameter names `serializer_class` reads, and its query-string shape (see `query_shape`)."""
    return frozenset(serializer_class().fields), query_shape(serializer_class)


def parse_query(serializer_class: type[serializers.Serializer], request) -> dict:
    """The validated query string. A query the serializer's derived shape vouches for skips the serializer
    (filled in with the serializer's defaults); anything else goes to the serializer, which words the error."""
    params: QueryDict = request.query_params
    known, shape = _query_plan(serializer_class)
    unknown = sorted(set(params) - known - {"format"})
    if unknown:
        raise serializers.ValidationError({name: ["Unknown query parameter."] for name in unknown})
    repeated = sorted(name for name in params if len(params.getlist(name)) > 1)
    if repeated:
        # Only one of the values would count: which one is the caller's guess, so refuse it.
        raise serializers.ValidationError({name: ["Given more than once."] for name in repeated})
    data = {key: params.get(key) for key in params if key in known}
    if shape is not None:
        try:
            return {**shape[1], **shape[0](data)}
        except Unsure:
            pass
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data
