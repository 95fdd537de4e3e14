"""Canonical content and hashing of audit events. One definition, used to write and to verify."""

import hashlib
import json
from datetime import datetime

GENESIS_HASH = "0" * 64


def canonical_timestamp(moment: datetime) -> str:
    # Milliseconds: the precision every supported backend stores.
    return moment.isoformat(timespec="milliseconds")


def event_hash(*, sequence: int, created_at: datetime, service: str, request_id: str, actor_user_id: str,
               action: str, target_type: str, target_id: str, group_id: str, result: str, reason: str,
               details: dict, previous_hash: str) -> str:
    content = {
        "sequence": sequence,
        "created_at": canonical_timestamp(created_at),
        "service": service,
        "request_id": request_id,
        "actor_user_id": actor_user_id,
        "action": action,
        "target_type": target_type,
        "target_id": target_id,
        "group_id": group_id,
        "result": result,
        "reason": reason,
        "details": details,
        "previous_hash": previous_hash,
    }
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()
