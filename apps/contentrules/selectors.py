"""Reads of a group's content rules, in the wire shapes apps.common.shapes names (LockSerializer,
BlocklistEntrySerializer, ChatFilterSerializer, NoteSerializer)."""

from apps.common.errors import NotFoundError
from apps.groups.models import Group

from .models import BlocklistEntry, ChatFilter, Lock, Note


def lock_map(*, group: Group) -> dict[str, dict]:
    """Locked content types -> {"mode", "duration_seconds", "reason"}."""
    rows = Lock.objects.filter(group=group).order_by("lock_type")
    return {row.lock_type: {"mode": row.mode, "duration_seconds": row.duration_seconds, "reason": row.reason}
            for row in rows}


def blocklist_entry_view(entry: BlocklistEntry) -> dict:
    return {"id": str(entry.pk), "pattern": entry.pattern, "mode": entry.mode,
            "duration_seconds": entry.duration_seconds, "reason": entry.reason}


def blocklist_items(*, group: Group) -> list[dict]:
    """Oldest first."""
    return [blocklist_entry_view(entry)
            for entry in BlocklistEntry.objects.filter(group=group).order_by("created_at", "pk")]


def filter_view(row: ChatFilter) -> dict:
    return {"id": str(row.pk), "trigger": row.trigger, "match": row.match, "text": row.text,
            "media_type": row.media_type, "media_file_id": row.media_file_id, "buttons": row.buttons or []}


def filter_items(*, group: Group) -> list[dict]:
    """By trigger."""
    return [filter_view(row) for row in ChatFilter.objects.filter(group=group).order_by("normalized", "match")]


def note_view(note: Note) -> dict:
    return {"name": note.name, "text": note.text, "media_type": note.media_type,
            "media_file_id": note.media_file_id, "buttons": note.buttons or [], "updated_at": note.updated_at}


def note_items(*, group: Group) -> list[dict]:
    """By name."""
    return [note_view(note) for note in Note.objects.filter(group=group).order_by("name")]


def note_names(*, group: Group) -> list[str]:
    return list(Note.objects.filter(group=group).order_by("name").values_list("name", flat=True))


def note_get(*, group: Group, name: str) -> Note:
    note = Note.objects.filter(group=group, name=name.lower()).first()
    if note is None:
        raise NotFoundError(f"No note #{name.lower()} in this group")
    return note


def content_rules_view(*, group: Group) -> dict:
    """The part of the group's settings view (apps.protection.selectors.protection_view) the bot's matcher and
    the dashboard read: locks, blocklist, filters and the notes' names."""
    return {"locks": lock_map(group=group), "blocklist": blocklist_items(group=group),
            "filters": filter_items(group=group), "notes": note_names(group=group)}
