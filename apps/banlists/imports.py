"""A list's bans in and out as a file: CSV or JSON of (Telegram user id, reason, date).

Import is strict: every row is read first, and one invalid row refuses the whole file (400 validation_error naming
the first MAX_FAULTS rows at fault), nothing written. A valid file lands as ONE change of the list: one version
bump, one Change (kind import, with its counts), one audit row (banlist.import), one post in the list's log chat,
the bans written in bulk. Imported bans are owed only to the groups where core knows the user as a current member
(the others are banned on arrival by the bot's cache), not to every group: that would be 100,000 calls per group.

CSV: an optional header row naming the columns (telegram_user_id, also user_id or id; reason; date; other columns,
such as a Rose export's names, are ignored), else the columns in that order; one id per line is a valid file (CAS's
export is ids). JSON: a list of ids, or of objects {"telegram_user_id" | "user_id" | "id", "reason"?, "date"?}.
A date is ISO 8601 (UTC when it names no offset) or Unix seconds; without one, the time of the import.
"""

import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from django.utils import timezone

from apps.audit.services import audit_change
from apps.common import audit_actions as actions
from apps.common.context import current_context
from apps.common.db import atomic_attempts
from apps.common.errors import ValidationFailed
from apps.users.models import User

from . import propagation
from .bans import MAX_REASON, _locked_list
from .models import Ban, BanList, Change
from .signals import ban_list_logged
from .statements import bans_insert

MAX_ROWS = 1_000_000
MAX_CONTENT_BYTES = 32 * 1024 * 1024
MAX_FAULTS = 20
MAX_TELEGRAM_ID = 2**63 - 1
FORMATS = ("csv", "json")
ID_NAMES = ("telegram_user_id", "user_id", "id")
WRITE_BATCH = 2000
WHOLE_LIST_FROM = 1000  # rows in a file from which the list's bans are read whole rather than looked up by id
EXPORT_BATCH = 2000
# A date this far ahead of the server's clock is a mistake, not clock skew.
FUTURE_SLACK = timedelta(days=1)
# A cell a spreadsheet would run as a formula is exported with a leading quote, taken off again on import.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class Row(NamedTuple):
    telegram_user_id: int
    reason: str
    date: datetime | None


class _Faults:
    def __init__(self):
        self.items: list[dict] = []
        self.count = 0

    def add(self, row: int, error: str) -> None:
        self.count += 1
        if len(self.items) < MAX_FAULTS:
            self.items.append({"row": row, "error": error})

    def raise_if_any(self) -> None:
        if not self.count:
            return
        first = self.items[0]
        noun = "row is" if self.count == 1 else "rows are"
        raise ValidationFailed(
            f"{self.count} {noun} invalid, nothing was imported (row {first['row']}: {first['error']})",
            details={"faults": self.items, "fault_count": self.count})


def _telegram_id(value) -> int:
    if isinstance(value, bool):
        raise ValueError("the Telegram user id must be a whole number")
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        number = int(value.strip())
    elif isinstance(value, str) and not value.strip():
        raise ValueError("the Telegram user id is missing")
    else:
        raise ValueError(f"the Telegram user id must be a whole number, not {str(value)[:40]!r}")
    if not 1 <= number <= MAX_TELEGRAM_ID:
        raise ValueError("the Telegram user id must be a positive 64-bit number")
    return number


def _reason(value) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValueError("the reason must be text")
    if "\x00" in value:
        raise ValueError("the reason contains a NUL character")
    if value[:1] == "'" and value[1:2] in _FORMULA_STARTS and value[1:2]:
        value = value[1:]
    value = value.strip()
    if len(value) > MAX_REASON:
        raise ValueError(f"the reason is longer than {MAX_REASON} characters")
    return value


def _date(value, now: datetime) -> datetime | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise ValueError("the date must be ISO 8601 or Unix seconds")
    try:
        if isinstance(value, int | float):
            moment = datetime.fromtimestamp(value, tz=UTC)
        else:
            text = value.strip()
            if text.replace(".", "", 1).isdigit():
                moment = datetime.fromtimestamp(float(text), tz=UTC)
            else:
                moment = datetime.fromisoformat(text)
                if moment.tzinfo is None:
                    moment = moment.replace(tzinfo=UTC)
    except (ValueError, OverflowError, OSError):
        raise ValueError(f"the date {str(value)[:40]!r} is neither ISO 8601 nor Unix seconds") from None
    if moment > now + FUTURE_SLACK:
        raise ValueError("the date is in the future")
    if moment.year < 2000:
        raise ValueError("the date is before 2000")
    return moment.astimezone(UTC)


def _parse_csv(content: str, now: datetime, faults: _Faults) -> list[Row]:
    rows: list[Row] = []
    columns = {"id": 0, "reason": 1, "date": 2}
    width = 3  # without a header: at most the three columns
    reader = csv.reader(io.StringIO(content, newline=""), strict=True)
    try:
        for cells in reader:
            line = reader.line_num
            if not cells or all(not cell.strip() for cell in cells):
                continue
            if line == 1 and not cells[0].strip().isdigit():
                names = [cell.strip().lower().lstrip("\ufeff") for cell in cells]
                found = [name for name in ID_NAMES if name in names]
                if not found:
                    faults.add(line, "the header names no id column (telegram_user_id, user_id or id)")
                    return rows
                columns = {"id": names.index(found[0]), "reason": names.index("reason") if "reason" in names
                           else None, "date": names.index("date") if "date" in names else None}
                width = len(names)
                continue
            if len(cells) > width:
                faults.add(line, f"{len(cells)} columns, at most {width} expected")
                continue
            try:
                cell = {key: (cells[index] if index is not None and index < len(cells) else None)
                        for key, index in columns.items()}
                rows.append(Row(_telegram_id(cell["id"]), _reason(cell["reason"]), _date(cell["date"], now)))
            except ValueError as exc:
                faults.add(line, str(exc))
            if len(rows) > MAX_ROWS:
                faults.add(line, f"more than {MAX_ROWS:,} rows")
                return rows
    except csv.Error as exc:
        faults.add(reader.line_num, f"not CSV: {exc}")
    return rows


def _parse_json(content: str, now: datetime, faults: _Faults) -> list[Row]:
    try:
        items = json.loads(content)
    except (ValueError, RecursionError) as exc:
        faults.add(getattr(exc, "lineno", 1), f"not JSON: {getattr(exc, 'msg', exc)}")
        return []
    if not isinstance(items, list):
        faults.add(1, "the file must be a JSON list of ids or of objects")
        return []
    if len(items) > MAX_ROWS:
        faults.add(MAX_ROWS + 1, f"more than {MAX_ROWS:,} rows")
        return []
    rows: list[Row] = []
    for number, item in enumerate(items, start=1):
        try:
            if isinstance(item, dict):
                named = [name for name in ID_NAMES if name in item]
                if len(named) != 1:
                    raise ValueError("an object needs exactly one of telegram_user_id, user_id or id")
                rows.append(Row(_telegram_id(item[named[0]]), _reason(item.get("reason")),
                                _date(item.get("date"), now)))
            else:
                rows.append(Row(_telegram_id(item), "", None))
        except ValueError as exc:
            faults.add(number, str(exc))
    return rows


def import_parse(*, format: str, content: str, now: datetime | None = None) -> dict[int, Row]:
    """The file's rows by Telegram id (a repeated id: its last row counts), or ValidationFailed naming the rows at
    fault: "row" is the CSV line, or the JSON list's item (from 1)."""
    now = now or timezone.now()
    if format not in FORMATS:
        raise ValidationFailed(f"Unknown format {format!r}", details={"format": [f"One of {', '.join(FORMATS)}."]})
    if len(content) > MAX_CONTENT_BYTES or len(content.encode("utf-8")) > MAX_CONTENT_BYTES:
        raise ValidationFailed(f"The file is larger than {MAX_CONTENT_BYTES // (1024 * 1024)} MB",
                               details={"content": ["At most 32 MB."]})
    faults = _Faults()
    content = content.removeprefix("\ufeff")  # a byte-order mark some editors write
    rows = (_parse_csv if format == "csv" else _parse_json)(content, now, faults)
    faults.raise_if_any()
    if not rows:
        raise ValidationFailed("The file holds no ids: nothing to import", details={"content": ["No rows."]})
    return {row.telegram_user_id: row for row in rows}


def ban_list_import(*, ban_list: BanList, rows: dict[int, Row], actor: User | None = None,
                    format: str = "csv") -> dict:
    """Writes the parsed rows as the list's bans: new ones (and users unbanned before) are "added", active bans
    whose reason the file changes are "updated" (a row without a reason keeps the one there), the rest
    "unchanged". One transaction. Answers {"added", "updated", "unchanged", "version", "propagations"}."""
    ids = sorted(rows)
    source_service = current_context().service or "internal"
    for attempt in atomic_attempts():
        with attempt:
            fresh = _locked_list(ban_list)
            now = timezone.now()
            # telegram id -> (pk, active, reason, banned_at) of the bans already there (rows, not models: cheap)
            existing: dict[int, tuple] = {}
            columns = ("telegram_user_id", "pk", "active", "reason", "banned_at")
            if len(ids) > WHOLE_LIST_FROM:
                # A large file: one pass over the list's bans (its index) beats many long IN lists, which MongoDB
                # servers may scan for.
                wanted = set(ids)
                existing.update((telegram_user_id, rest) for telegram_user_id, *rest in Ban.objects.filter(
                    ban_list=fresh).values_list(*columns).iterator(chunk_size=EXPORT_BATCH)
                    if telegram_user_id in wanted)
            else:
                existing.update((telegram_user_id, rest) for telegram_user_id, *rest in Ban.objects.filter(
                    ban_list=fresh, telegram_user_id__in=ids).values_list(*columns))
            new, changed, added = [], [], {}
            unchanged = reactivated = 0
            version, source, actor_pk = fresh.version, Ban.Source.IMPORT, actor.pk if actor else None
            for telegram_user_id in ids:
                row = rows[telegram_user_id]
                found = existing.get(telegram_user_id)
                if found is None:
                    new.append((telegram_user_id, row.reason, row.date or now))
                    added[telegram_user_id] = row.reason
                    continue
                pk, active, reason, banned_at = found
                if not active:
                    changed.append(Ban(pk=pk, ban_list_id=fresh.pk, telegram_user_id=telegram_user_id, active=True,
                                       reason=row.reason, source=source, banned_by_id=actor_pk,
                                       banned_at=row.date or now, version=version, updated_at=now))
                    added[telegram_user_id] = row.reason
                    reactivated += 1
                elif row.reason and row.reason != reason:
                    changed.append(Ban(pk=pk, ban_list_id=fresh.pk, telegram_user_id=telegram_user_id, active=True,
                                       reason=row.reason, source=source, banned_by_id=actor_pk,
                                       banned_at=row.date or banned_at, version=version, updated_at=now))
                else:
                    unchanged += 1
            bans_insert(ban_list_id=fresh.pk, rows=new, source=source, banned_by_id=actor_pk, version=version,
                        now=now, batch=WRITE_BATCH)
            Ban.objects.bulk_update(changed, ["active", "reason", "source", "banned_by", "banned_at", "version",
                                              "updated_at"], batch_size=WRITE_BATCH)
            updated = len(changed) - reactivated
            owed = propagation.members_owed(ban_list=fresh, bans=added,
                                            groups=propagation.groups_reached(ban_list=fresh))
            propagation.propagations_write(ban_list=fresh, owed=owed, actor=actor)
            details = {"format": format, "rows": len(rows), "added": len(added), "updated": updated,
                       "unchanged": unchanged, "version": fresh.version, "propagations": len(owed)}
            Change.objects.create(ban_list=fresh, kind=Change.Kind.IMPORT, count=len(added) + updated, actor=actor,
                                  source_service=source_service, details=details)
            audit_change(action=actions.BANLIST_IMPORT, actor=actor, target_type="ban_list", target_id=fresh.pk,
                         details={"ban_list_name": fresh.name, **details})
            ban_list_logged.send(sender=BanList, ban_list=fresh, event="import", actor=actor, details=details)
    return {"added": len(added), "updated": updated, "unchanged": unchanged, "version": fresh.version,
            "propagations": len(owed)}


# -- export

def _csv_cell(text: str) -> str:
    return "'" + text if text[:1] in _FORMULA_STARTS else text


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _active_rows(ban_list: BanList):
    return (Ban.objects.filter(ban_list=ban_list, active=True).order_by("telegram_user_id")
            .values_list("telegram_user_id", "reason", "banned_at").iterator(chunk_size=EXPORT_BATCH))


class _Echo:
    def write(self, value):
        return value


def export_csv(*, ban_list: BanList) -> Iterator[str]:
    """The list's active bans as CSV (telegram_user_id,reason,date; dates ISO 8601 UTC), ids ascending, in chunks."""
    writer = csv.writer(_Echo(), lineterminator="\n")
    yield writer.writerow(["telegram_user_id", "reason", "date"])
    batch = []
    for telegram_user_id, reason, banned_at in _active_rows(ban_list):
        batch.append(writer.writerow([telegram_user_id, _csv_cell(reason), _stamp(banned_at)]))
        if len(batch) == EXPORT_BATCH:
            yield "".join(batch)
            batch = []
    if batch:
        yield "".join(batch)


def export_json(*, ban_list: BanList) -> Iterator[str]:
    """The list's active bans as a JSON list of {"telegram_user_id", "reason", "date"}, ids ascending, in chunks."""
    yield "["
    batch, first = [], True
    for telegram_user_id, reason, banned_at in _active_rows(ban_list):
        batch.append(json.dumps({"telegram_user_id": telegram_user_id, "reason": reason,
                                 "date": _stamp(banned_at)}, ensure_ascii=False))
        if len(batch) == EXPORT_BATCH:
            yield ("" if first else ",") + ",".join(batch)
            batch, first = [], False
    if batch:
        yield ("" if first else ",") + ",".join(batch)
    yield "]\n"
