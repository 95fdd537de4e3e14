"""Request bodies: the Shape (apps.common.validation) derived from the body's serializer, so a field is declared
once, on the serializer, as `query_shape` does for query strings.

Each field's check comes from its class and options (a field class this module does not know, or options beyond
a check, raise NotDerivable at import: a shape never guesses); the cross-field rules come from the serializer's
`schema_rules` (the JSON Schema fragments the OpenAPI schema states, compiled once into plain closures) and its
`shape_rules` (rules over values the schema cannot state, such as "not in the future"). The serializer's
`validate` must enforce nothing beyond those: tests/common/test_validation.py holds each shape to its serializer
on random bodies.
"""


from .fields import INT64_MAX, INT64_MIN
from .validation import (
    _UNSURE,
    Check,
    Rule,
    Shape,
    at_most_one,
    aware_datetime,
    choice,
    deferred,
    exactly_one,
    int64,
    list_of,
    object_id,
    optional,
    telegram_username,
    text,
)

# Methods a field class may override only where this module knows what the override does (see _field_check).
_CONVERSION_METHODS = ("to_internal_value", "run_validation", "validate_empty_values", "run_validators",
                       "get_validators")


def strict_integer(*, min_value: int | None, max_value: int | None) -> Check:
    """StrictIntegerField: a JSON integer (not a bool) within bounds."""
    if (min_value, max_value) == (INT64_MIN, INT64_MAX):
        return int64()

    def check(value):
        if type(value) is not int or (min_value is not None and value < min_value) or (
                max_value is not None and value > max_value):
            raise _UNSURE
        return value

    return check


def nullable(check: Check) -> Check:
    """allow_null=True: null is kept as None (unvalidated, as DRF does); anything else is checked as usual."""

    def nullable_check(value):
        return None if value is None else check(value)

    return nullable_check


def _char_validators(field) -> int:
    """The validators DRF's CharField gives itself: none other may be on the field for a check to stand for it."""
    return 2 + (field.max_length is not None) + (field.min_length is not None)


def _text_check(field) -> Check | None:
    if _char_validators(field) != len(field.validators) or not field.trim_whitespace or field.min_length is not None:
        return None
    return text(max_length=field.max_length, allow_blank=field.allow_blank)


def _username_check(field) -> Check | None:
    if _char_validators(field) != len(field.validators) or field.allow_blank or field.max_length != 33:
        return None
    return telegram_username()


def _object_id_check(field) -> Check | None:
    if _char_validators(field) != len(field.validators) or field.allow_blank or field.max_length is not None:
        return None
    return object_id()


def _integer_check(field) -> Check | None:
    if len(field.validators) != (field.min_value is not None) + (field.max_value is not None):
        return None
    return strict_integer(min_value=field.min_value, max_value=field.max_value)


def _choice_check(field) -> Check | None:
    if field.validators or not all(type(key) is str for key in field.choices):
        return None
    return choice(field.choices)


def _datetime_check(field) -> Check | None:
    from rest_framework.settings import api_settings

    default_formats = getattr(field, "input_formats", None) is None and api_settings.DATETIME_INPUT_FORMATS == [
        "iso-8601"]
    if field.validators or not default_formats or getattr(field, "timezone", None) is not None:
        return None
    return aware_datetime()


def _field_checks():
    """Field class -> how to derive its check (None: the field's options are beyond the check)."""
    from rest_framework import serializers

    from . import fields

    return {
        fields.StrictCharField: _text_check,
        fields.TelegramUsernameField: _username_check,
        fields.ObjectIdField: _object_id_check,
        fields.StrictIntegerField: _integer_check,
        serializers.ChoiceField: _choice_check,
        serializers.DateTimeField: _datetime_check,
        serializers.DictField: lambda field: deferred(),
        serializers.JSONField: lambda field: deferred(),
    }


class NotDerivable(TypeError):
    """A serializer (or a field, or a schema rule of it) whose validation cannot be derived into a Shape."""


def _field_check(field, where: str) -> Check:
    check = _value_check(field, where)
    return nullable(check) if field.allow_null else check


def _value_check(field, where: str) -> Check:
    from rest_framework import serializers

    if isinstance(field, serializers.ListSerializer):
        return _list_check(field, body_shape(type(field.child)))
    if isinstance(field, serializers.ListField):
        if not isinstance(field.child, serializers.Serializer):
            raise NotDerivable(f"{where}: a ListField of {type(field.child).__name__}")
        return _list_check(field, body_shape(type(field.child)))
    if isinstance(field, serializers.Serializer):
        return body_shape(type(field))
    derivations = _field_checks()
    for klass in type(field).__mro__:
        if klass in derivations:
            check = derivations[klass](field)
            if check is None:
                raise NotDerivable(f"{where}: {type(field).__name__} with options no check stands for")
            return check
        if any(name in vars(klass) for name in _CONVERSION_METHODS):
            break
    raise NotDerivable(f"{where}: no check stands for {type(field).__name__}")


def _list_check(field, item: Check) -> Check:
    min_length = field.min_length or 0
    if not field.allow_empty:
        min_length = max(min_length, 1)
    return list_of(item, min_length=min_length, max_length=field.max_length)


def _json_value(value) -> tuple:
    """A value as JSON compares it: true is not 1, 1 is 1.0, a str subclass (a model's choice) is its string."""
    if isinstance(value, bool) or value is None:
        return ("literal", value)
    if isinstance(value, int | float):
        return ("number", value)
    if isinstance(value, str):
        return ("string", str(value))
    return ("other", id(value))


class _Compiler:
    """Compiles schema_rules fragments into one Python expression each over `data` (the present fields), evaluated
    as a lambda: as fast as a rule written by hand."""

    def __init__(self, where: str):
        self.where = where
        self.constants: dict[str, object] = {"_json_value": _json_value}

    def constant(self, value) -> str:
        name = f"_c{len(self.constants)}"
        self.constants[name] = value
        return name

    def rule(self, fragment: dict) -> Rule:
        return eval(f"lambda data: {self.expression(fragment)}", self.constants)  # noqa: S307 (our own source)

    def expression(self, fragment: dict) -> str:
        parts = []
        for key, value in fragment.items():
            if key == "required":
                parts.extend(f"{name!r} in data" for name in value)
            elif key in ("anyOf", "allOf", "oneOf"):
                inner = [f"({self.expression(option)})" for option in value]
                joined = {"anyOf": " or ", "allOf": " and ", "oneOf": " + "}[key].join(inner)
                parts.append(f"({joined}) == 1" if key == "oneOf" else joined)
            elif key == "not":
                parts.append(f"not ({self.expression(value)})")
            elif key == "properties":
                for name, schema in value.items():
                    parts.append(f"{name!r} not in data or ({self.value(schema, f'data[{name!r}]')})")
            else:
                raise NotDerivable(f"{self.where}: the schema rule keyword {key!r}")
        return " and ".join(f"({part})" for part in parts) or "True"

    def value(self, schema: dict, subject: str) -> str:
        """A JSON Schema over one property's value, as far as schema_rules use it: enum, not."""
        if schema.keys() == {"enum"}:
            options = schema["enum"]
            if options and all(isinstance(option, str) for option in options):
                strings = self.constant(frozenset(str(option) for option in options))
                return f"isinstance({subject}, str) and {subject} in {strings}"
            return f"_json_value({subject}) in {self.constant(frozenset(map(_json_value, options)))}"
        if schema.keys() == {"not"}:
            return f"not ({self.value(schema['not'], subject)})"
        raise NotDerivable(f"{self.where}: the value rule {schema!r}")


def _schema_rule(fragment: dict, where: str) -> Rule:
    """A rule over the present fields from a JSON Schema fragment of `schema_rules` (apps.common.schema): required,
    oneOf, anyOf, allOf, not, and properties with enum."""
    if _single_names(fragment.get("oneOf")) and fragment.keys() == {"oneOf"}:  # exactly_one_of
        return exactly_one(*_single_names(fragment["oneOf"]))
    if fragment.keys() == {"not"} and fragment["not"].keys() == {"anyOf"}:  # at_most_one_of: no pair together
        pairs = [option.get("required", ()) for option in fragment["not"]["anyOf"]]
        names = list(dict.fromkeys(name for pair in pairs for name in pair))
        every_pair = [[first, second] for index, first in enumerate(names) for second in names[index + 1:]]
        if all(len(option) == 1 for option in fragment["not"]["anyOf"]) and pairs == every_pair:
            return at_most_one(*names)
    return _Compiler(where).rule(fragment)


def _single_names(options) -> tuple[str, ...]:
    """The names of [{"required": [name]}, ...], or () when the options are anything else."""
    if not isinstance(options, list) or not all(option.keys() == {"required"} and len(option["required"]) == 1
                                                for option in options):
        return ()
    return tuple(option["required"][0] for option in options)


def body_shape(serializer_class) -> Shape:
    """The Shape of a request body, derived from its serializer (which stays the one declaration of the body): a
    check per field from the field's class and options, the serializer's `schema_rules` (the cross-field rules its
    `validate` enforces, as the OpenAPI schema states them) and its `shape_rules` (rules over values that the
    schema cannot state). Fields a check cannot stand for raise NotDerivable, at import: a shape never guesses.

    Derived once per serializer (at import, where the views declare it), so a body costs what a hand-written
    Shape costs."""
    from rest_framework import serializers
    from rest_framework.fields import empty

    name = serializer_class.__qualname__
    own = [klass for klass in serializer_class.__mro__ if klass not in serializers.Serializer.__mro__]
    overridden = sorted({attr for klass in own for attr in vars(klass)
                         if attr.startswith("validate_") or attr in ("to_internal_value", "run_validation")})
    if overridden:
        raise NotDerivable(f"{name}: {', '.join(overridden)} is not derivable; state it in shape_rules instead")
    checks, defaults = {}, {}
    for field_name, field in serializer_class().fields.items():
        where = f"{name}.{field_name}"
        if field.read_only or field.source != field_name:
            raise NotDerivable(f"{where}: read-only, or read into another name")
        check = _field_check(field, where)
        if field.default is not empty:
            if callable(field.default):
                raise NotDerivable(f"{where}: a default computed per request")
            defaults[field_name] = field.default
        elif not field.required:
            check = optional(check)
        checks[field_name] = check
    rules = tuple(_schema_rule(fragment, name) for fragment in getattr(serializer_class, "schema_rules", ()))
    return Shape(checks, rules=(*rules, *getattr(serializer_class, "shape_rules", ())), defaults=defaults)
