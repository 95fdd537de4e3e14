"""A serializer's output for rows read with `values()`, without DRF's per-row field machinery.

`Serializer(instances, many=True).data` deep-copies the serializer's fields, then reads each attribute through
several layers per field and row, and reads the current time zone (behind asgiref's Local) once per timestamp:
about 0.1 ms a row for a group. `PlainRows(SerializerClass)` reads the serializer's fields once, and turns dicts
from `queryset.values(*plain.columns)` into exactly what the serializer gives for the same objects. A field of a
kind it does not know is represented by the serializer's own field, so the result never differs, only the cost
(tests/common/test_plain.py compares the two). The serializer still documents the shape (OpenAPI).
"""

from collections.abc import Iterable

from django.conf import settings
from django.utils import timezone
from rest_framework import ISO_8601, serializers
from rest_framework.settings import api_settings

from .fields import ObjectIdField


def _datetime(field: serializers.DateTimeField):
    iso = getattr(field, "format", api_settings.DATETIME_FORMAT)
    if not settings.USE_TZ or hasattr(field, "timezone") or not isinstance(iso, str) or iso.lower() != ISO_8601:
        return None

    def represent(value, zone):
        if not getattr(value, "tzinfo", None):  # naive or not a datetime: what the field does with it
            return field.to_representation(value)
        text = value.astimezone(zone).isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text

    return represent


def _choice(field: serializers.ChoiceField):
    mapping = field.choice_strings_to_values

    def represent(value, zone):
        if value == "":
            return value
        return mapping.get(str(value), value)

    return represent


def _boolean(field: serializers.BooleanField):
    def represent(value, zone):
        if value is True or value is False:
            return value
        return field.to_representation(value)

    return represent


def _converter(field: serializers.Field):
    kind = type(field)
    if kind is serializers.IntegerField:
        return lambda value, zone: int(value)
    if kind in (serializers.CharField, ObjectIdField):
        return lambda value, zone: str(value)
    if kind is serializers.BooleanField:
        return _boolean(field)
    if kind is serializers.ChoiceField:
        return _choice(field)
    if kind is serializers.DateTimeField:
        represent = _datetime(field)
        if represent is not None:
            return represent
    return lambda value, zone: field.to_representation(value)


class PlainRows:
    """The representation of `values()` rows by `serializer_class`. Fields must read one column of the row's
    own table (`source` a plain attribute name): `columns` lists them, for the `values()` call."""

    def __init__(self, serializer_class: type[serializers.Serializer]):
        fields = [field for field in serializer_class().fields.values() if not field.write_only]
        for field in fields:
            if isinstance(field, serializers.SerializerMethodField | serializers.BaseSerializer) or \
                    not field.source.isidentifier():
                raise TypeError(f"{serializer_class.__name__}.{field.field_name}: PlainRows reads plain columns only")
        self.columns = tuple(field.source for field in fields)
        self._plan = tuple((field.field_name, field.source, _converter(field)) for field in fields)

    def __call__(self, rows: Iterable[dict]) -> list[dict]:
        zone = timezone.get_current_timezone()
        plan = self._plan
        return [
            {name: None if (value := row[source]) is None else represent(value, zone)
             for name, source, represent in plan}
            for row in rows
        ]
