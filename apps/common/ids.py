"""Looking objects up by the string ids the API exposes, whatever the backend's primary key type."""

from django.core.exceptions import ValidationError
from django.db.models import Model

from .errors import NotFoundError

# What a SQL store's integer key can hold (SQLite raises OverflowError beyond it).
_INT64 = range(-(2**63), 2**63)


def parse_pk(model: type[Model], value):
    """The primary key value for `value`, or None when it cannot be one of `model`'s ids.

    A string must be the id's own spelling: int() and ObjectId() also take " 1", "+1", "1\\n", Arabic-Indic or
    full-width digits, or upper-case hex, which would make many strings name one object."""
    try:
        pk = model._meta.pk.to_python(value)
    except (ValidationError, TypeError, ValueError):
        return None
    if pk is None or (isinstance(value, str) and str(pk) != value):
        return None
    if isinstance(pk, int) and pk not in _INT64:
        return None
    return pk


def _shown(value, limit: int = 40) -> str:
    text = str(value)
    return text if len(text) <= limit else text[:limit] + "..."


def get_or_404(model: type[Model], value, *, label: str | None = None, queryset=None):
    label = label or model._meta.verbose_name.capitalize()
    pk = parse_pk(model, value)
    if pk is None:
        raise NotFoundError(f"{label} {_shown(value)} not found")
    try:
        return (queryset if queryset is not None else model.objects).get(pk=pk)
    except model.DoesNotExist:
        raise NotFoundError(f"{label} {_shown(value)} not found") from None
