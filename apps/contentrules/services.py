"""Every write of a group's content rules: locks, blocklist, filters, notes.

Each write runs in one transaction that checks the caller's expected version (another one: 409 conflict, nothing
written), changes the rows, bumps Group.settings_version (the bot's cached settings go stale) and writes one audit
row (protection.lock, protection.blocklist, protection.filter, protection.note); rules_changed goes out after
commit (signals.py). A write that changes nothing writes nothing, as the settings PATCH. Services take the actor
already authorized (`settings_actor_authorize`, the one check of a settings change's actor, which apps.protection
uses as well); None is the calling service itself.

Patterns and triggers are compared in their normalized form (apps.common.contentrules.normalize: case, accents,
look-alike letters folded), so "Spam" and "spam" written with Cyrillic look-alikes are one entry.
"""

import re
from collections.abc import Callable, Iterable, Mapping

from django.db import transaction

from apps.audit.services import audit_change
from apps.common import audit_actions as actions
from apps.common import fields
from apps.common.db import atomic_attempts
from apps.common.errors import ConflictError, ValidationFailed
from apps.groups.models import MAX_RESTRICTION_SECONDS, MIN_RESTRICTION_SECONDS, Group
from apps.groups.services import group_bump_settings_version
from apps.rbac.selectors import PermissionQuery
from apps.rbac.services import permission_require
from apps.users.models import User

from . import models as m
from . import signals
from .models import BlocklistEntry, ChatFilter, Lock, Note
from .selectors import blocklist_items, filter_view, lock_map, note_view

MANAGE_SETTINGS = "MANAGE_SETTINGS"
MODES = tuple(value for value, _ in m.MODE_CHOICES)
MATCHES = tuple(value for value, _ in m.MATCH_CHOICES)
MEDIA_TYPES = tuple(value for value, _ in m.MEDIA_CHOICES)
NOTE_NAME = re.compile(r"[a-z0-9_-]{1,64}")
RESERVED_NOTE_NAMES = frozenset({"remove", "clear"})
MAX_BUTTONS = 100
MAX_BUTTON_TEXT = 128
MAX_BUTTON_URL = 2048
BUTTON_URL = re.compile(fields.BUTTON_URL)
AUDIT_PATTERNS = 20  # patterns named in one audit row


def _engine():
    """The matching engine (apps.common.contentrules), imported on first use."""
    from apps.common import contentrules

    return contentrules


def settings_actor_authorize(*, group: Group, actor_user_id=None, actor_telegram_user_id: int | None = None,
                             permission: str = MANAGE_SETTINGS) -> User | None:
    """Core's check of a settings change's actor in the group (on the audit trail like any check). Refused: 403
    permission_denied naming the permission, before anything is written. Returns the actor."""
    permission_require(query=PermissionQuery(permission=permission, user_id=actor_user_id,
                                             telegram_user_id=actor_telegram_user_id, group_id=group.pk),
                       message=f"The actor needs the {permission} permission in this group ({{reason}})")
    if actor_user_id is not None:
        return User.objects.get(pk=actor_user_id)
    return User.objects.filter(telegram_user_id=actor_telegram_user_id).first()


def _refuse(field: str, message: str):
    raise ValidationFailed(f"{field}: {message}", details={field: [message]})


def _versioned(*, group: Group, expected_version: int | None, action: str, actor: User | None,
               change: Callable[[Group], tuple[object, dict | None]]) -> tuple[Group, object]:
    """Runs `change(fresh_group)` in one transaction; when it reports details (something changed), bumps the
    version and audits `action` with them. Returns the group as committed and change's result."""
    for attempt in atomic_attempts():
        with attempt:
            fresh = Group.objects.get(pk=group.pk)
            if expected_version is not None and fresh.settings_version != expected_version:
                raise ConflictError(f"The settings changed meanwhile (version {fresh.settings_version}, not "
                                    f"{expected_version}): reload them and try again",
                                    details={"version": fresh.settings_version})
            result, details = change(fresh)
            if details is not None:
                group_bump_settings_version(group=fresh)
                details = {**details, "version": fresh.settings_version}
                audit_change(action=action, actor=actor, target_type="group", target_id=fresh.pk, group=fresh,
                             details=details)
                transaction.on_commit(lambda g=fresh, d=details: signals.rules_changed.send(
                    sender=Group, group=g, actor=actor, action=action, details=d))
    return fresh, result


def _mode(field: str, mode, duration, *, allow_default: bool = False) -> tuple[str | None, int | None]:
    if mode is None and allow_default:
        if duration is not None:
            _refuse(field + ".duration_seconds", "Only with a mode of tmute or tban.")
        return None, None
    if mode not in MODES:
        _refuse(field + ".mode", f"One of {', '.join(MODES)}.")
    if mode in m.TIMED_MODES:
        if duration is None:
            _refuse(field + ".duration_seconds", f"Required when the mode is {mode}.")
        if isinstance(duration, bool) or not isinstance(duration, int) or not (
                MIN_RESTRICTION_SECONDS <= duration <= MAX_RESTRICTION_SECONDS):
            _refuse(field + ".duration_seconds", "Must be 30 seconds to 366 days.")
        return mode, duration
    if duration is not None:
        _refuse(field + ".duration_seconds", "Only with a mode of tmute or tban.")
    return mode, None


def _reason(field: str, reason) -> str:
    reason = reason or ""
    if not isinstance(reason, str) or len(reason) > m.MAX_REASON:
        _refuse(field + ".reason", f"Text of at most {m.MAX_REASON} characters.")
    return reason


# -- locks

def lock_type_canonical(name: str) -> str | None:
    """The lock type a name (or an alias: "stickers", "invite"...) stands for; None if none."""
    engine = _engine()
    name = name.strip().lower()
    name = engine.LOCK_ALIASES.get(name, name)
    return name if name in engine.LOCK_TYPES else None


def locks_update(*, group: Group, locks: Mapping[str, Mapping | None], actor: User | None = None,
                 expected_version: int | None = None) -> tuple[int, dict]:
    """Locks each type given ({"mode", "duration_seconds"?, "reason"?}; a locked type is changed) or unlocks it
    (None). Unknown types: 400 naming the known ones, nothing written. Audited protection.lock {"locked":
    {type: how}, "unlocked": [type]}. Returns (version, every lock of the group)."""
    wanted: dict[str, dict | None] = {}
    for name, how in locks.items():
        lock_type = lock_type_canonical(name) if isinstance(name, str) else None
        if lock_type is None:
            types = ", ".join(_engine().LOCK_TYPES)
            _refuse(f"locks.{name}", f"Unknown lock type; one of {types}.")
        if how is None:
            wanted[lock_type] = None
            continue
        if not isinstance(how, Mapping) or set(how) - {"mode", "duration_seconds", "reason"}:
            _refuse(f"locks.{name}", "An object {mode, duration_seconds, reason}, or null to unlock.")
        mode, duration = _mode(f"locks.{name}", how.get("mode", "delete"), how.get("duration_seconds"))
        wanted[lock_type] = {"mode": mode, "duration_seconds": duration,
                             "reason": _reason(f"locks.{name}", how.get("reason"))}

    def change(fresh: Group):
        current = {row.lock_type: row for row in Lock.objects.filter(group=fresh)}
        locked, unlocked = {}, []
        for lock_type, how in wanted.items():
            row = current.get(lock_type)
            if how is None:
                if row is not None:
                    row.delete()
                    unlocked.append(lock_type)
                continue
            if row is None:
                Lock.objects.create(group=fresh, lock_type=lock_type, **how)
            elif (row.mode, row.duration_seconds, row.reason) != (how["mode"], how["duration_seconds"],
                                                                   how["reason"]):
                row.mode, row.duration_seconds, row.reason = how["mode"], how["duration_seconds"], how["reason"]
                row.save()
            else:
                continue
            locked[lock_type] = how
        return None, ({"locked": locked, "unlocked": unlocked} if locked or unlocked else None)

    fresh, _ = _versioned(group=group, expected_version=expected_version, action=actions.PROTECTION_LOCK,
                          actor=actor, change=change)
    return fresh.settings_version, lock_map(group=fresh)


# -- blocklist

def blocklist_normalize(pattern, *, field: str = "pattern") -> str:
    """The pattern's normalized form, or 400 naming `field` with why it is refused."""
    if not isinstance(pattern, str) or not pattern.strip():
        _refuse(field, "A pattern is required.")
    if len(pattern) > m.MAX_PATTERN:
        _refuse(field, f"At most {m.MAX_PATTERN} characters.")
    engine = _engine()
    problems = engine.pattern_problems(pattern)
    if problems:
        _refuse(field, "; ".join(problems))
    normalized = " ".join(engine.normalize(pattern).split())
    if not normalized or len(normalized) > 4 * m.MAX_PATTERN:
        _refuse(field, "Nothing left to match after normalization.")
    return normalized


def blocklist_add(*, group: Group, entries: Iterable[Mapping], actor: User | None = None,
                  expected_version: int | None = None) -> dict:
    """Adds patterns, or updates the entry of the same normalized pattern (its mode, duration, reason and the
    pattern as typed). A pattern given twice: the last one counts. Refused whole (400 naming the entry) when an
    entry is invalid or the group would hold more than 5,000. Audited protection.blocklist. Returns
    {"version", "added", "updated"}."""
    entries = list(entries)
    if not 1 <= len(entries) <= m.MAX_BLOCKLIST_ENTRIES:
        _refuse("entries", f"1 to {m.MAX_BLOCKLIST_ENTRIES} entries.")
    wanted: dict[str, dict] = {}
    for index, entry in enumerate(entries):
        field = f"entries[{index}]"
        if not isinstance(entry, Mapping):
            _refuse(field, "An object {pattern, mode, duration_seconds, reason}.")
        normalized = blocklist_normalize(entry.get("pattern"), field=field + ".pattern")
        mode, duration = _mode(field, entry.get("mode"), entry.get("duration_seconds"), allow_default=True)
        wanted[normalized] = {"pattern": entry["pattern"].strip(), "mode": mode, "duration_seconds": duration,
                              "reason": _reason(field, entry.get("reason"))}

    def change(fresh: Group):
        current = {row.normalized: row for row in BlocklistEntry.objects.filter(group=fresh)}
        new = [normalized for normalized in wanted if normalized not in current]
        if len(current) + len(new) > m.MAX_BLOCKLIST_ENTRIES:
            _refuse("entries", f"A group's blocklist holds at most {m.MAX_BLOCKLIST_ENTRIES} entries ("
                               f"{len(current)} now, {len(new)} new).")
        BlocklistEntry.objects.bulk_create([BlocklistEntry(group=fresh, normalized=normalized, **wanted[normalized])
                                            for normalized in new])
        updated = []
        for normalized, values in wanted.items():
            row = current.get(normalized)
            if row is None or all(getattr(row, name) == value for name, value in values.items()):
                continue
            for name, value in values.items():
                setattr(row, name, value)
            row.save()
            updated.append(normalized)
        if not new and not updated:
            return (0, 0), None
        named = [wanted[normalized]["pattern"] for normalized in [*new, *updated][:AUDIT_PATTERNS]]
        return (len(new), len(updated)), {"added": len(new), "updated": len(updated), "patterns": named}

    fresh, (added, updated) = _versioned(group=group, expected_version=expected_version,
                                         action=actions.PROTECTION_BLOCKLIST, actor=actor, change=change)
    return {"version": fresh.settings_version, "added": added, "updated": updated}


def _blocklist_delete(*, group: Group, patterns: list[str] | None, actor: User | None,
                      expected_version: int | None) -> dict:
    normalized = None
    if patterns is not None:
        normalized = {blocklist_normalize(pattern, field=f"patterns[{index}]")
                      for index, pattern in enumerate(patterns)}

    def change(fresh: Group):
        rows = BlocklistEntry.objects.filter(group=fresh)
        if normalized is not None:
            rows = rows.filter(normalized__in=list(normalized))
        named = list(rows.order_by("created_at", "pk").values_list("pattern", flat=True))
        if not named:
            return 0, None
        rows.delete()
        return len(named), {"removed": len(named), "cleared": patterns is None, "patterns": named[:AUDIT_PATTERNS]}

    fresh, removed = _versioned(group=group, expected_version=expected_version,
                                action=actions.PROTECTION_BLOCKLIST, actor=actor, change=change)
    return {"version": fresh.settings_version, "removed": removed}


def blocklist_remove(*, group: Group, patterns: Iterable[str], actor: User | None = None,
                     expected_version: int | None = None) -> dict:
    """Removes the entries of these patterns (compared normalized); unknown ones are skipped. Returns
    {"version", "removed"}."""
    patterns = list(patterns)
    if not 1 <= len(patterns) <= m.MAX_BLOCKLIST_ENTRIES:
        _refuse("patterns", f"1 to {m.MAX_BLOCKLIST_ENTRIES} patterns.")
    return _blocklist_delete(group=group, patterns=patterns, actor=actor, expected_version=expected_version)


def blocklist_clear(*, group: Group, actor: User | None = None, expected_version: int | None = None) -> dict:
    """Removes every entry. Returns {"version", "removed"}."""
    return _blocklist_delete(group=group, patterns=None, actor=actor, expected_version=expected_version)


def blocklist_view(*, group: Group) -> dict:
    return {"version": group.settings_version, "items": blocklist_items(group=group)}


# -- replies (filters and notes): text, media by file id, URL buttons

def _buttons(field: str, buttons) -> list[list[dict]]:
    """Rows of {"text", "url"} (http(s):// or tg:// only), at most 100 buttons."""
    if buttons is None:
        return []
    if not isinstance(buttons, list) or not all(isinstance(row, list) for row in buttons):
        _refuse(field, "Rows (lists) of {text, url} buttons.")
    rows, count = [], 0
    for row_index, row in enumerate(buttons):
        clean = []
        for index, button in enumerate(row):
            where = f"{field}[{row_index}][{index}]"
            if not isinstance(button, Mapping) or set(button) - {"text", "url"}:
                _refuse(where, "A button is {text, url}.")
            text, url = button.get("text"), button.get("url")
            if not isinstance(text, str) or not text.strip() or len(text) > MAX_BUTTON_TEXT:
                _refuse(where + ".text", f"1 to {MAX_BUTTON_TEXT} characters.")
            if not isinstance(url, str) or len(url) > MAX_BUTTON_URL or not _button_url_ok(url):
                _refuse(where + ".url", "An http(s):// or tg:// URL.")
            clean.append({"text": text.strip(), "url": url})
            count += 1
        if clean:
            rows.append(clean)
    if count > MAX_BUTTONS:
        _refuse(field, f"At most {MAX_BUTTONS} buttons.")
    return rows


def _button_url_ok(url: str) -> bool:
    return BUTTON_URL.fullmatch(url) is not None


def _reply(field_prefix: str, values: Mapping) -> dict:
    """The reply's stored fields, validated: text (<= 4096), media (type + file id, both or neither), buttons;
    some text or a media is required."""
    text = values.get("text") or ""
    if not isinstance(text, str) or len(text) > m.MAX_TEXT:
        _refuse(field_prefix + "text", f"Text of at most {m.MAX_TEXT} characters.")
    media_type = values.get("media_type") or None
    file_id = values.get("media_file_id") or ""
    if media_type is not None and media_type not in MEDIA_TYPES:
        _refuse(field_prefix + "media_type", f"One of {', '.join(MEDIA_TYPES)}.")
    if not isinstance(file_id, str) or len(file_id) > m.MAX_FILE_ID or any(c.isspace() for c in file_id):
        _refuse(field_prefix + "media_file_id", f"A Telegram file id (at most {m.MAX_FILE_ID} characters).")
    if (media_type is None) != (not file_id):
        _refuse(field_prefix + ("media_file_id" if media_type else "media_type"),
                "media_type and media_file_id go together.")
    if not text.strip() and media_type is None:
        _refuse(field_prefix + "text", "Some text or a media is required.")
    return {"text": text, "media_type": media_type, "media_file_id": file_id,
            "buttons": _buttons(field_prefix + "buttons", values.get("buttons"))}


# -- filters

def filter_normalize(trigger, *, field: str = "trigger") -> str:
    if not isinstance(trigger, str) or not trigger.strip():
        _refuse(field, "A trigger is required.")
    if len(trigger) > m.MAX_TRIGGER:
        _refuse(field, f"At most {m.MAX_TRIGGER} characters.")
    normalized = " ".join(_engine().normalize(trigger).split())
    if not normalized:
        _refuse(field, "Nothing left to match after normalization.")
    return normalized


def filter_save(*, group: Group, trigger: str, match: str = "word", actor: User | None = None,
                expected_version: int | None = None, **reply) -> tuple[int, dict]:
    """Saves the filter of this trigger and match (replacing its reply when it exists). At most 300 per group.
    Audited protection.filter. Returns (version, the filter's view)."""
    if match not in MATCHES:
        _refuse("match", f"One of {', '.join(MATCHES)}.")
    normalized = filter_normalize(trigger)
    values = {"trigger": trigger.strip(), **_reply("", reply)}

    def change(fresh: Group):
        row = ChatFilter.objects.filter(group=fresh, normalized=normalized, match=match).first()
        if row is None:
            if ChatFilter.objects.filter(group=fresh).count() >= m.MAX_FILTERS:
                _refuse("trigger", f"A group holds at most {m.MAX_FILTERS} filters: stop one first.")
            row = ChatFilter.objects.create(group=fresh, normalized=normalized, match=match, **values)
            return row, {"saved": values["trigger"], "match": match, "created": True}
        if all(getattr(row, name) == value for name, value in values.items()):
            return row, None
        for name, value in values.items():
            setattr(row, name, value)
        row.save()
        return row, {"saved": values["trigger"], "match": match, "created": False}

    fresh, row = _versioned(group=group, expected_version=expected_version, action=actions.PROTECTION_FILTER,
                            actor=actor, change=change)
    return fresh.settings_version, filter_view(row)


def _trigger_key(index: int, trigger) -> tuple[str, str | None]:
    """"prefix:x" and "exact:x" name that match only; a bare trigger names every match of it."""
    if isinstance(trigger, str):
        head, sep, rest = trigger.partition(":")
        if sep and head.strip().lower() in ("prefix", "exact") and rest.strip():
            return filter_normalize(rest, field=f"triggers[{index}]"), head.strip().lower()
    return filter_normalize(trigger, field=f"triggers[{index}]"), None


def _filters_delete(*, group: Group, triggers: list | None, actor: User | None,
                    expected_version: int | None) -> dict:
    keys = None if triggers is None else [_trigger_key(index, trigger) for index, trigger in enumerate(triggers)]

    def change(fresh: Group):
        rows = list(ChatFilter.objects.filter(group=fresh).only("pk", "trigger", "normalized", "match"))
        if keys is not None:
            rows = [row for row in rows if any(row.normalized == normalized and match in (None, row.match)
                                               for normalized, match in keys)]
        if not rows:
            return 0, None
        ChatFilter.objects.filter(pk__in=[row.pk for row in rows]).delete()
        return len(rows), {"removed": len(rows), "cleared": triggers is None,
                           "triggers": [row.trigger for row in rows][:AUDIT_PATTERNS]}

    fresh, removed = _versioned(group=group, expected_version=expected_version, action=actions.PROTECTION_FILTER,
                                actor=actor, change=change)
    return {"version": fresh.settings_version, "removed": removed}


def filters_remove(*, group: Group, triggers: Iterable[str], actor: User | None = None,
                   expected_version: int | None = None) -> dict:
    """Stops the filters of these triggers ("prefix:x"/"exact:x": that match only). Returns {"version",
    "removed"}."""
    triggers = list(triggers)
    if not 1 <= len(triggers) <= m.MAX_FILTERS:
        _refuse("triggers", f"1 to {m.MAX_FILTERS} triggers.")
    return _filters_delete(group=group, triggers=triggers, actor=actor, expected_version=expected_version)


def filters_clear(*, group: Group, actor: User | None = None, expected_version: int | None = None) -> dict:
    return _filters_delete(group=group, triggers=None, actor=actor, expected_version=expected_version)


# -- notes

def note_name(name, *, field: str = "name") -> str:
    """The name as kept: without a leading #, lowercase. "remove" and "clear" are the notes API's own paths."""
    name = name.removeprefix("#").lower() if isinstance(name, str) else ""
    if not NOTE_NAME.fullmatch(name):
        _refuse(field, "1 to 64 of a-z, 0-9, _ and -.")
    if name in RESERVED_NOTE_NAMES:
        _refuse(field, f"{name} is reserved; choose another name.")
    return name


def note_save(*, group: Group, name: str, actor: User | None = None, expected_version: int | None = None,
              **reply) -> tuple[int, dict]:
    """Saves the note (replacing it when it exists). At most 500 per group. Audited protection.note. Returns
    (version, the note's view)."""
    name = note_name(name)
    values = _reply("", reply)

    def change(fresh: Group):
        row = Note.objects.filter(group=fresh, name=name).first()
        if row is None:
            if Note.objects.filter(group=fresh).count() >= m.MAX_NOTES:
                _refuse("name", f"A group holds at most {m.MAX_NOTES} notes: clear one first.")
            return Note.objects.create(group=fresh, name=name, **values), {"saved": name, "created": True}
        if all(getattr(row, key) == value for key, value in values.items()):
            return row, None
        for key, value in values.items():
            setattr(row, key, value)
        row.save()
        return row, {"saved": name, "created": False}

    fresh, row = _versioned(group=group, expected_version=expected_version, action=actions.PROTECTION_NOTE,
                            actor=actor, change=change)
    return fresh.settings_version, note_view(row)


def _notes_delete(*, group: Group, names: list | None, actor: User | None, expected_version: int | None) -> dict:
    wanted = None if names is None else {note_name(name, field=f"names[{index}]") for index, name in enumerate(names)}

    def change(fresh: Group):
        rows = Note.objects.filter(group=fresh)
        if wanted is not None:
            rows = rows.filter(name__in=sorted(wanted))
        removed = list(rows.order_by("name").values_list("name", flat=True))
        if not removed:
            return 0, None
        rows.delete()
        return len(removed), {"removed": len(removed), "cleared": names is None, "names": removed[:AUDIT_PATTERNS]}

    fresh, removed = _versioned(group=group, expected_version=expected_version, action=actions.PROTECTION_NOTE,
                                actor=actor, change=change)
    return {"version": fresh.settings_version, "removed": removed}


def notes_remove(*, group: Group, names: Iterable[str], actor: User | None = None,
                 expected_version: int | None = None) -> dict:
    names = list(names)
    if not 1 <= len(names) <= m.MAX_NOTES:
        _refuse("names", f"1 to {m.MAX_NOTES} names.")
    return _notes_delete(group=group, names=names, actor=actor, expected_version=expected_version)


def notes_clear(*, group: Group, actor: User | None = None, expected_version: int | None = None) -> dict:
    return _notes_delete(group=group, names=None, actor=actor, expected_version=expected_version)
