"""Core's timestamps as the storage keeps them: MongoDB holds milliseconds, so the answer to a create (the saved
object, microseconds) and a later read of it agree to the millisecond only."""

import re
from dataclasses import fields, is_dataclass, replace

_MICROSECONDS = re.compile(r"(\.\d{3})\d{3}(?=Z|[+-]\d\d:\d\d$)")


def to_the_millisecond(value):
    """`value` (a typed answer, or core's JSON object) with every ISO timestamp cut to milliseconds."""
    if is_dataclass(value):
        return replace(value, **{field.name: to_the_millisecond(getattr(value, field.name)) for field in fields(value)
                                 if isinstance(getattr(value, field.name), str)})
    if isinstance(value, dict):
        return {key: to_the_millisecond(item) for key, item in value.items()}
    if isinstance(value, str):
        return _MICROSECONDS.sub(r"\1", value)
    return value
