"""Looking objects up by the string ids the API exposes, whatever the backend's primary key type."""

from django.core.exceptions import ValidationError
from django.db.models import Model

from .errors import NotFoundError


def parse_pk(model: type[Model], value):
    """The primary key value for `value`, or None when it cannot be one of `model`'s ids."""
    try:
        return model._meta.pk.to_python(value)
    except (ValidationError, TypeError, ValueError):
        return None


def get_or_404(model: type[Model], value, *, label: str | None = None, queryset=None):
    label = label or model._meta.verbose_name.capitalize()
    pk = parse_pk(model, value)
    if pk is None:
        raise NotFoundError(f"{label} {value} not found")
    try:
        return (queryset if queryset is not None else model.objects).get(pk=pk)
    except model.DoesNotExist:
        raise NotFoundError(f"{label} {value} not found") from None
