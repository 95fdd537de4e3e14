"""Plain validators for the hottest request bodies (permission checks, event batches, moderation records),
derived from their serializers: `body_shape` (apps.common.derivation) for a body, `query_shape` for a query string.

A DRF serializer builds and deep-copies its fields on every request and runs each value through several layers
of validators: about 0.2 ms for a single check, 0.15 ms per event of a batch. A `Shape` holds a plain check per
field, compiled once from the serializer's fields and rules, and checks a valid body in a few microseconds. The
serializer stays the one declaration of the body; a field or rule no check can stand for refuses derivation
(NotDerivable, at import) instead of being guessed.

It only ever says yes or "not sure": a `Shape` accepts exactly the values its serializer would accept *and
convert the same way*; anything else (a wrong type, a blank, an id out of range, a missing field, a broken
cross-field rule, or merely an unusual but valid spelling) raises `Unsure`, and `parse_body` then hands the body
to the serializer, which accepts it or raises its own error. So the 400 envelopes (field paths, messages) are
DRF's by construction, the OpenAPI schema still comes from the serializer, and a rule missing here costs
speed, never correctness. tests/common/test_validation.py checks each shape against its serializer.
"""

import re
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from datetime import datetime, tzinfo

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from .fields import INT64_MAX, INT64_MIN


class Unsure(Exception):
    """The shape cannot vouch for the value: let the serializer decide (and word the error)."""


_UNSURE = Unsure()
_SURROGATES = re.compile("[\ud800-\udfff]")

Check = Callable[[object], object]

# Read once per body by Shape.validate instead of once per value (the current zone sits behind asgiref's Local,
# about 7 µs a read: a third of an event's validation).
_moment: ContextVar[tuple[datetime, tzinfo] | None] = ContextVar("validation_moment", default=None)


def _now_and_zone() -> tuple[datetime, tzinfo]:
    return _moment.get() or (timezone.now(), timezone.get_current_timezone())


def validation_now() -> datetime:
    """Now, as of the start of the body's validation (for rules such as "not in the future")."""
    return _now_and_zone()[0]


def _clean_text(value: str, max_length: int | None, allow_blank: bool) -> str:
    """What DRF's CharField makes of a str: stripped; refused blank, too long, with NUL or surrogates."""
    value = value.strip()
    if not value:
        if allow_blank:
            return ""
        raise _UNSURE
    if (max_length is not None and len(value) > max_length) or "\x00" in value:
        raise _UNSURE
    if not value.isascii() and _SURROGATES.search(value):
        raise _UNSURE
    return value


def text(*, max_length: int | None = None, allow_blank: bool = False) -> Check:
    """StrictCharField: a JSON string."""

    def check(value):
        if type(value) is not str:
            raise _UNSURE
        return _clean_text(value, max_length, allow_blank)

    return check


def object_id() -> Check:
    """ObjectIdField: a string (or a JSON integer), kept as a string."""

    def check(value):
        kind = type(value)
        if kind is int:
            return str(value)
        if kind is not str:
            raise _UNSURE
        return _clean_text(value, None, False)

    return check


def int64(*, allow_null: bool = False) -> Check:
    """TelegramIdField: a JSON integer within signed 64 bits."""

    def check(value):
        if type(value) is int and INT64_MIN <= value <= INT64_MAX:
            return value
        if value is None and allow_null:
            return None
        raise _UNSURE

    return check


def choice(choices: Iterable[str]) -> Check:
    """ChoiceField over strings, given exactly."""
    allowed = frozenset(choices)

    def check(value):
        if type(value) is str and value in allowed:
            return value
        raise _UNSURE

    return check


def telegram_username() -> Check:
    """TelegramUsernameField: a JSON string of at most 33 characters, kept without its leading "@"s, then at most
    32 long."""
    strict = text(max_length=33)

    def check(value):
        name = strict(value).lstrip("@")
        if len(name) > 32:
            raise _UNSURE
        return name

    return check


def deferred() -> Check:
    """A field always left to the serializer (a rare one whose checks are not worth repeating here)."""

    def check(value):
        raise _UNSURE

    return check


def aware_datetime() -> Check:
    """DateTimeField (ISO 8601, USE_TZ): a string with an explicit offset, in the current time zone.

    A time without an offset is left to the serializer (it makes it aware, and may refuse a time that does
    not exist in the zone)."""

    def check(value):
        if type(value) is not str:
            raise _UNSURE
        try:
            parsed = parse_datetime(value)
        except ValueError:
            raise _UNSURE from None
        if parsed is None or parsed.utcoffset() is None:
            raise _UNSURE
        try:
            return parsed.astimezone(_now_and_zone()[1])
        except OverflowError:
            raise _UNSURE from None

    return check


def optional(check: Check) -> Check:
    """A field that may be left out (required=False). Present, it is checked as usual."""
    check.optional = True
    return check


Rule = Callable[[dict], bool]


def exactly_one(*names: str) -> Rule:
    return lambda data: sum(name in data for name in names) == 1


def at_most_one(*names: str) -> Rule:
    return lambda data: sum(name in data for name in names) <= 1


class Shape:
    """A JSON object: declared fields (each a check, `optional(...)` when it may be absent) and rules over the
    present fields (each returns False when broken). Keys not declared are ignored, as a nested DRF serializer
    ignores them; `parse_body` refuses them at the top level before a shape sees the body."""

    def __init__(self, fields: dict[str, Check], rules: tuple[Rule, ...] = (), defaults: dict | None = None):
        self.fields = fields
        self.required = frozenset(name for name, check in fields.items()
                                  if not getattr(check, "optional", False) and name not in (defaults or {}))
        self.items = tuple(fields.items())
        self.rules = rules
        self.defaults = tuple((defaults or {}).items())  # filled in for absent fields, as the serializer does

    def __call__(self, value) -> dict:
        if type(value) is not dict or not self.required.issubset(value):
            raise _UNSURE
        data = {name: check(value[name]) for name, check in self.items if name in value}
        for name, default in self.defaults:
            if name not in data:
                data[name] = default
        for rule in self.rules:
            if not rule(data):
                raise _UNSURE
        return data

    def validate(self, value) -> dict:
        """The validated body, or Unsure. Reads the clock and the current time zone once for the whole body."""
        token = _moment.set((timezone.now(), timezone.get_current_timezone()))
        try:
            return self(value)
        finally:
            _moment.reset(token)


def list_of(child: Check, *, min_length: int = 0, max_length: int | None = None) -> Check:
    """A JSON array of `child` items (ListField / many=True), its length within bounds."""

    def check(value):
        if type(value) is not list or len(value) < min_length or (max_length is not None and len(value) > max_length):
            raise _UNSURE
        return [child(item) for item in value]

    return check



# -- query strings: every value is a string; a serializer reads "20" as 20 and "true" as True


def query_int(*, min_value: int | None, max_value: int | None) -> Check:
    """IntegerField in a query string: plain ASCII digits within bounds (no sign, no spaces, no "20.0")."""

    def check(value):
        if type(value) is not str or not value.isascii() or not value.isdigit() or len(value) > 15:
            raise _UNSURE
        number = int(value)
        if (min_value is not None and number < min_value) or (max_value is not None and number > max_value):
            raise _UNSURE
        return number

    return check


_QUERY_BOOLEANS = {"true": True, "True": True, "1": True, "false": False, "False": False, "0": False}


def query_bool() -> Check:
    def check(value):
        try:
            return _QUERY_BOOLEANS[value]
        except (KeyError, TypeError):
            raise _UNSURE from None

    return check


def _query_check(field) -> Check | None:
    """The check standing for `field` in a query string, or None when this module has none for it."""
    from rest_framework import serializers

    from .fields import QueryBooleanField

    kind = type(field)
    validators = len(field.validators)
    if kind is serializers.IntegerField:
        expected = (field.min_value is not None) + (field.max_value is not None)
        if validators == expected:
            return query_int(min_value=field.min_value, max_value=field.max_value)
    elif kind is serializers.BooleanField or kind is QueryBooleanField:  # an empty value: the serializer's to judge
        if not validators:
            return query_bool()
    elif kind is serializers.ChoiceField:
        if not validators and not field.allow_blank and all(type(key) is str for key in field.choices):
            return choice(field.choices)
    elif kind is serializers.CharField:
        # DRF's own: max_length, no NUL, no surrogates.
        expected = 2 + (field.max_length is not None)
        if validators == expected and field.trim_whitespace and field.min_length is None:
            return text(max_length=field.max_length, allow_blank=field.allow_blank)
    return None


def query_shape(serializer_class) -> tuple[Shape, dict] | None:
    """A Shape for `serializer_class` reading a query string, and the values it fills in for absent parameters;
    None when a field (or the serializer's own validation) is beyond what the checks here can vouch for."""
    from rest_framework import serializers
    from rest_framework.fields import empty

    own = [klass for klass in serializer_class.__mro__ if klass not in serializers.Serializer.__mro__]
    if any(name.startswith("validate") for klass in own for name in vars(klass)):
        return None
    fields = serializer_class().fields
    checks = {}
    for name, field in fields.items():
        if field.read_only or field.source != name or (field.default is not empty and callable(field.default)):
            return None
        check = _query_check(field)
        if check is None:
            return None
        checks[name] = optional(check)
    empty = serializer_class(data={})
    if not empty.is_valid():
        return None  # a required parameter: left to the serializer
    return Shape(checks), dict(empty.validated_data)
