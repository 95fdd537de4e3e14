from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q, QuerySet

from apps.common.audit_actions import PERMISSION_CHECK

from .chain import GENESIS_HASH, event_hash
from .models import AuditEvent
from .names import names_for


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

    @property
    def intact(self) -> bool:
        return self.first_broken_sequence is None


def audit_chain_verify(*, batch_size: int = 2000) -> ChainReport:
    """Recomputes every hash in sequence order; reports the first event that does not fit the chain."""
    expected_previous = GENESIS_HASH
    expected_sequence = 1
    checked = 0
    fields = [f.name for f in AuditEvent._meta.concrete_fields if f.name not in {"id", "hash"}]
    rows = AuditEvent.objects.order_by("sequence").values_list(*fields, "hash")
    for row in rows.iterator(chunk_size=batch_size):
        values = dict(zip(fields, row[:-1], strict=True))
        stored_hash = row[-1]
        sequence = values["sequence"]
        if sequence != expected_sequence:
            return ChainReport(checked, sequence, f"expected sequence {expected_sequence}, found {sequence}")
        if values["previous_hash"] != expected_previous:
            return ChainReport(checked, sequence, "previous_hash does not match the preceding event")
        if event_hash(**values) != stored_hash:
            return ChainReport(checked, sequence, "content does not match its hash")
        checked += 1
        expected_previous = stored_hash
        expected_sequence += 1
    return ChainReport(checked)
