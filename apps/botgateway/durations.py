"""Restriction lengths as Telegram reads them, shared by the moderation commands and the automated protection."""

from datetime import UTC, datetime, timedelta

TELEGRAM_LONGEST_RESTRICTION = timedelta(days=366)  # Telegram reads anything shorter than 30 s or longer as forever


def restriction_end(seconds: int | None) -> datetime | None:
    """When a restriction of `seconds` ends. A second more than asked, up to Telegram's longest: core and Telegram
    measure from when they receive it, and a "30s" that arrives as 29.99 s is refused by core (Telegram would read
    it as forever). 0 is a duration too ("/tmute @x 0m"): core refuses it as too short, never read as forever."""
    if seconds is None:
        return None
    return datetime.now(UTC) + min(timedelta(seconds=seconds + 1), TELEGRAM_LONGEST_RESTRICTION)


def describe_duration(seconds: int) -> str:
    for unit, size in (("week", 604800), ("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds} seconds"
