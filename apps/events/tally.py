"""Events tallied by what they count towards and their UTC minute: how ingest plans a batch's counters before the
writer's turn and hands the rollups what it stored (signals.py). A minute is the finest grain any count needs: every
time zone's offset is whole minutes, so all moments of one UTC minute share a group's local hour and date."""

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MILLISECOND = timedelta(milliseconds=1)


def from_epoch_ms(value: int | None) -> datetime | None:
    """A time as the tallies and the rollups keep it (whole milliseconds since the Unix epoch) as a datetime."""
    return None if value is None else EPOCH + value * _MILLISECOND


def tally(items: Iterable[tuple[tuple, datetime]]) -> dict[tuple, list]:
    """(key, moment) pairs -> {(*key, UTC minute since the epoch): [events, first ms, last ms]}."""
    tallied: dict[tuple, list] = {}
    for key, moment in items:
        ms = (moment - EPOCH) // _MILLISECOND
        key = (*key, ms // 60_000)
        entry = tallied.get(key)
        if entry is None:
            tallied[key] = [1, ms, ms]
        else:
            entry[0] += 1
            if ms < entry[1]:
                entry[1] = ms
            elif ms > entry[2]:
                entry[2] = ms
    return tallied


def tallies_merged(tallies: Iterable[dict[tuple, list]]) -> dict[tuple, list]:
    merged: dict[tuple, list] = {}
    for each in tallies:
        for key, (count, first, last) in each.items():
            entry = merged.get(key)
            if entry is None:
                merged[key] = [count, first, last]
            else:
                entry[0] += count
                entry[1] = min(entry[1], first)
                entry[2] = max(entry[2], last)
    return merged
