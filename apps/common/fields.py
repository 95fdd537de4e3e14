"""JSON-strict serializer fields: a JSON body must carry the right JSON types, not strings that look like them."""

from rest_framework import serializers

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1


class StrictIntegerField(serializers.IntegerField):
    default_error_messages = {"type": "Must be a JSON integer."}

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("type")
        return super().to_internal_value(data)


class TelegramIdField(StrictIntegerField):
    """Telegram user and chat ids: signed 64-bit JSON integers, kept exact."""

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", INT64_MIN)
        kwargs.setdefault("max_value", INT64_MAX)
        super().__init__(**kwargs)


class StrictBooleanField(serializers.BooleanField):
    default_error_messages = {"type": "Must be a JSON boolean."}

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("type")
        return data


# Text rules for request fields, shared by core's serializers and web's (their OpenAPI schemas must agree): the
# characters str.isspace() and str.strip() count as whitespace, spelled out, since a pattern written with \s means
# other characters in other regular expression engines (the schemas' readers); this class does not.
WHITESPACE = "\\t\\n\\x0b\\x0c\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000"
NO_WHITESPACE = f"[^\\x00-\\x1f\\x7f{WHITESPACE}]"
NON_BLANK = f"^[^\\x00]*[^\\x00{WHITESPACE}][^\\x00]*$"  # some text that str.strip() leaves
# A button's URL: http(s) to a host name or address (ASCII: an international name in its xn-- form), or tg://.
BUTTON_URL = (rf"(?:[Hh][Tt][Tt][Pp][Ss]?://[A-Za-z0-9.-]*[A-Za-z0-9](?::[0-9]{{1,5}})?|[Tt][Gg]://[A-Za-z0-9_]+)"
              rf"(?:[/?#]{NO_WHITESPACE}*)?")


class QueryBooleanField(serializers.BooleanField):
    """A boolean query parameter: true or false (1 or 0); left out, none. An empty value (?is_active=) is refused
    as any other non-boolean, not read as none: the schema says boolean."""

    NULL_VALUES = serializers.BooleanField.NULL_VALUES - {""}


class StrictCharField(serializers.CharField):
    default_error_messages = {"type": "Must be a JSON string."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("type")
        return super().to_internal_value(data)


class StrictRegexField(serializers.RegexField):
    """Text matching a pattern, and a JSON string: 5 is not "5"."""

    default_error_messages = {"type": "Must be a JSON string."}

    def __init__(self, regex, **kwargs):
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(regex, **kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("type")
        return super().to_internal_value(data)


class TelegramUsernameField(StrictCharField):
    """A Telegram username, "@" optional on the wire, kept without it: at most 32 characters once stripped."""

    MAX_LENGTH = 32
    default_error_messages = {"too_long": "A Telegram username has at most 32 characters (besides the \"@\")."}

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", self.MAX_LENGTH + 1)  # room for the "@"
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data).lstrip("@")
        if len(value) > self.MAX_LENGTH:
            self.fail("too_long")
        return value


class ObjectIdField(serializers.CharField):
    """A core object id: a string on the wire whatever the storage backend."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, str | int):
            self.fail("invalid")
        return super().to_internal_value(str(data))

    def to_representation(self, value):
        return str(value)
