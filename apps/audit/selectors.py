from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q, QuerySet

from apps.common.audit_actions import PERMISSION_CHECK

from .chain import GENESIS_HASH, checkpoint_signature_valid, event_hash
from .models import AuditCheckpoint, AuditEvent
from .names import names_for
from .streams import checkpoint_keys


def audit_event_filter(
    *,
    actor_user_id: str | None = None,
    service: str | None = None,
    action: str | None = None,
    result: str | None = None,
    group_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    before_sequence: int | None = None,
    after_sequence: int | None = None,
    hide_checks_by: str | None = None,
) -> QuerySet[AuditEvent]:
    """Newest first; oldest first with `after_sequence` (the change feed: what happened since N, in order).
    `hide_checks_by` leaves out the permission checks that service asked for (web's reads for its pages)."""
    filters = {
        "actor_user_id": actor_user_id,
        "service": service,
        "action": action,
        "result": result,
        "group_id": group_id,
        "created_at__gte": since,
        "created_at__lt": until,
        "sequence__lt": before_sequence,
        "sequence__gt": after_sequence,
    }
    queryset = AuditEvent.objects.filter(**{key: value for key, value in filters.items() if value is not None})
    if hide_checks_by:
        queryset = queryset.exclude(Q(action=PERMISSION_CHECK) & Q(service=hide_checks_by))
    return queryset.order_by("sequence" if after_sequence is not None else "-sequence")


def audit_event_list(*, limit: int = 50, **filters) -> tuple[list[AuditEvent], int | None]:
    """One page and the cursor of the next one (None on the last page): newest first, or with `after_sequence`
    oldest first, the cursor then being the next page's `after`."""
    events = list(audit_event_filter(**filters)[: limit + 1])
    has_more = len(events) > limit
    events = events[:limit]
    return events, (events[-1].sequence if has_more else None)


def names_by_pk(*, user_ids=(), group_ids=()) -> tuple[dict, dict]:
    """(user pk string -> display name, group pk string -> title) for a page of rows: one query per kind, ids
    that name nothing (or are not ids) left out."""
    return names_for("user", user_ids), names_for("group", group_ids)


def with_names(items: list[dict], *, users: dict[str, str], groups: dict[str, str]) -> list[dict]:
    """Adds to each serialized row the names its ids stand for: `users` maps an id field to the name field it
    gets (actor_user_id -> actor_name), `groups` likewise for group titles. One query per kind for the page."""
    user_names, group_titles = names_by_pk(
        user_ids={item.get(field) for item in items for field in users},
        group_ids={item.get(field) for item in items for field in groups})
    for item in items:
        for field, name in users.items():
            item[name] = user_names.get(item.get(field))
        for field, name in groups.items():
            item[name] = group_titles.get(item.get(field))
    return items


def audit_event_names(events) -> list[dict]:
    """Per event, the names its ids stand for: actor_name, target_name (a user's or a group's), group_title and
    the permission a check was about."""
    user_ids = {event.actor_user_id for event in events}
    user_ids |= {event.target_id for event in events if event.target_type == "user"}
    group_ids = {event.group_id for event in events}
    group_ids |= {event.target_id for event in events if event.target_type == "group"}
    users, groups = names_by_pk(user_ids=user_ids, group_ids=group_ids)
    out = []
    for event in events:
        target = {"user": users, "group": groups}.get(event.target_type, {}).get(event.target_id)
        details = event.details if isinstance(event.details, dict) else {}
        out.append({"actor_name": users.get(event.actor_user_id), "target_name": target,
                    "group_title": groups.get(event.group_id),
                    "permission": details.get("permission") if event.action == PERMISSION_CHECK else None})
    return out


@dataclass(frozen=True)
class ChainReport:
    checked: int
    first_broken_sequence: int | None = None
    problem: str = ""
    stream: str = ""
    streams: int = 0
    checkpoints: int = 0

    @property
    def intact(self) -> bool:
        return not self.problem


def _streams() -> list[str]:
    names = set(AuditEvent.objects.order_by().values_list("stream", flat=True).distinct())
    names |= set(AuditCheckpoint.objects.order_by().values_list("stream", flat=True).distinct())
    return sorted(names)


def _checkpoint_problem(checkpoint: dict, keys: dict[str, bytes], hashes: dict[int, str], last_seq: int) -> str:
    fields = {name: checkpoint[name] for name in ("stream", "stream_seq", "head_hash", "created_at", "key_id")}
    if not checkpoint_signature_valid(keys, signature=checkpoint["signature"], **fields):
        known = "unknown key id" if checkpoint["key_id"] not in keys else "signature does not match"
        return f"checkpoint at {checkpoint['stream_seq']}: {known}"
    if checkpoint["stream_seq"] > last_seq:
        return (f"stream ends at {last_seq}, before its signed checkpoint at {checkpoint['stream_seq']} "
                f"(truncated tail)")
    if hashes.get(checkpoint["stream_seq"]) != checkpoint["head_hash"]:
        return (f"checkpoint at {checkpoint['stream_seq']}: the signed head hash is not the event's (edited and "
                f"rehashed)")
    return ""


def audit_chain_verify(*, batch_size: int = 2000) -> ChainReport:
    """Every stream: recomputes each hash in stream order, checks each link and that positions have no gap, then
    each of its signed checkpoints (signature, head hash, the stream reaching it). Reports the first problem."""
    keys = checkpoint_keys()
    fields = [f.name for f in AuditEvent._meta.concrete_fields if f.name not in {"id", "hash"}]
    checked = checkpoints_checked = 0
    streams = _streams()
    for stream in streams:
        checkpoints = list(AuditCheckpoint.objects.filter(stream=stream).order_by("stream_seq").values())
        wanted = {checkpoint["stream_seq"] for checkpoint in checkpoints}
        hashes: dict[int, str] = {}
        expected_previous, expected_seq = GENESIS_HASH, 1
        rows = AuditEvent.objects.filter(stream=stream).order_by("stream_seq").values_list(*fields, "hash")
        for row in rows.iterator(chunk_size=batch_size):
            values = dict(zip(fields, row[:-1], strict=True))
            stored_hash, sequence, position = row[-1], values["sequence"], values["stream_seq"]
            if position != expected_seq:
                return ChainReport(checked, sequence, f"expected sequence {expected_seq} in stream {stream}, "
                                   f"found {position}", stream, len(streams), checkpoints_checked)
            if values["previous_hash"] != expected_previous:
                return ChainReport(checked, sequence, "previous_hash does not match the preceding event", stream,
                                   len(streams), checkpoints_checked)
            if event_hash(**values) != stored_hash:
                return ChainReport(checked, sequence, "content does not match its hash", stream, len(streams),
                                   checkpoints_checked)
            if position in wanted:
                hashes[position] = stored_hash
            checked += 1
            expected_previous, expected_seq = stored_hash, expected_seq + 1
        for checkpoint in checkpoints:
            problem = _checkpoint_problem(checkpoint, keys, hashes, expected_seq - 1)
            if problem:
                return ChainReport(checked, None, problem, stream, len(streams), checkpoints_checked)
            checkpoints_checked += 1
    return ChainReport(checked, streams=len(streams), checkpoints=checkpoints_checked)
