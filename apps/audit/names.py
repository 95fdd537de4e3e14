"""What the ids on audit rows (and on other rows that copy ids as the trail does) stand for, in words.

The audit app sits below every app that writes to it, so it cannot read their tables. Each app that owns a kind of
target registers how to name a page of its ids, in its AppConfig.ready(): users their display names, groups their
titles (the generic relation, as Django's content types are, without a foreign key the MongoDB profile cannot
have). An unregistered kind is a programming error and fails loudly."""

from collections.abc import Callable, Iterable

Namer = Callable[[set], dict[str, str]]

_namers: dict[str, Namer] = {}


def namer_register(target_type: str, namer: Namer) -> None:
    """`namer` takes a set of ids (strings, maybe not well-formed) and returns {id: name} for those naming a row."""
    _namers[target_type] = namer


def names_for(target_type: str, ids: Iterable) -> dict[str, str]:
    wanted = {value for value in ids if value}
    if not wanted:
        return {}
    return _namers[target_type](wanted)
