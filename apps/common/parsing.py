"""Thin-view helpers: validate a body or a query string with a serializer, or raise the envelope's 400."""

from django.http import QueryDict
from rest_framework import serializers


def parse_body(serializer_class: type[serializers.Serializer], request) -> dict:
    if not isinstance(request.data, dict):
        raise serializers.ValidationError({"non_field_errors": ["The body must be a JSON object."]})
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def parse_query(serializer_class: type[serializers.Serializer], request) -> dict:
    params: QueryDict = request.query_params
    known = set(serializer_class().fields)
    unknown = sorted(set(params) - known - {"format"})
    if unknown:
        raise serializers.ValidationError({name: ["Unknown query parameter."] for name in unknown})
    serializer = serializer_class(data={key: params.get(key) for key in params if key in known})
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data
