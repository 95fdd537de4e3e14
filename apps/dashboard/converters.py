"""URL converters of the web role."""

from django.urls import register_converter


class AnyIdConverter:
    """Any text for an id, slashes and line breaks included: the service refuses what is not an id as 400
    invalid_id before core is asked (services.py), instead of a 404 for a route that does not exist."""

    regex = r"(?s:.+)"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value) -> str:
        return str(value)


register_converter(AnyIdConverter, "anyid")
