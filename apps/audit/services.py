"""The only writer of audit events. Call it inside the atomic block of the change it describes."""

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone

from apps.common.context import current_context
from apps.common.db import atomic_attempts

from .chain import GENESIS_HASH, event_hash
from .models import AuditEvent

logger = logging.getLogger(__name__)


@dataclass
class AuditEntry:
    action: str
    result: str
    actor_user_id: object = None
    target_type: str = ""
    target_id: object = None
    group_id: object = None
    reason: str = ""
    details: dict = field(default_factory=dict)


def _now_ms() -> datetime:
    now = timezone.now()
    return now.replace(microsecond=now.microsecond - now.microsecond % 1000)


def _as_id(value) -> str:
    return "" if value is None else str(value)


def _chain_head() -> tuple[int, str]:
    head = AuditEvent.objects.order_by("-sequence").values_list("sequence", "hash").first()
    return head if head else (0, GENESIS_HASH)


def audit_record_many(entries: list[AuditEntry]) -> list[AuditEvent]:
    """Appends `entries` to the chain, in order. Joins the caller's transaction when there is one."""
    if not entries:
        return []
    context = current_context()
    service = context.service or "internal"
    created_at = _now_ms()
    for attempt in atomic_attempts():
        with attempt:
            sequence, previous_hash = _chain_head()
            events = []
            for entry in entries:
                sequence += 1
                # A JSON round trip stores exactly what verification will later read back.
                details = json.loads(json.dumps(entry.details, default=str))
                values = {
                    "sequence": sequence,
                    "created_at": created_at,
                    "service": service,
                    "request_id": context.request_id,
                    "actor_user_id": _as_id(entry.actor_user_id),
                    "action": entry.action,
                    "target_type": entry.target_type,
                    "target_id": _as_id(entry.target_id),
                    "group_id": _as_id(entry.group_id),
                    "result": entry.result,
                    "reason": entry.reason[:255],
                    "details": details,
                    "previous_hash": previous_hash,
                }
                previous_hash = event_hash(**values)
                events.append(AuditEvent(**values, hash=previous_hash))
            AuditEvent.objects.bulk_create(events)
    return events


def audit_record(**kwargs) -> AuditEvent:
    (event,) = audit_record_many([AuditEntry(**kwargs)])
    if event.action != "permission.check":
        logger.info(
            "audit",
            extra={
                "action": event.action,
                "result": event.result,
                "user_id": event.actor_user_id or None,
                "target": f"{event.target_type}:{event.target_id}" if event.target_type else None,
                "group_id": event.group_id or None,
            },
        )
    return event
