from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet

from .chain import GENESIS_HASH, event_hash
from .models import AuditEvent


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
) -> QuerySet[AuditEvent]:
    """Newest first; oldest first with `after_sequence` (the change feed: what happened since N, in order)."""
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
    return queryset.order_by("sequence" if after_sequence is not None else "-sequence")


def audit_event_list(*, limit: int = 50, **filters) -> tuple[list[AuditEvent], int | None]:
    """One page and the cursor of the next one (None on the last page): newest first, or with `after_sequence`
    oldest first, the cursor then being the next page's `after`."""
    events = list(audit_event_filter(**filters)[: limit + 1])
    has_more = len(events) > limit
    events = events[:limit]
    return events, (events[-1].sequence if has_more else None)


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
