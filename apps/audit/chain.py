"""Canonical content and hashing of audit events, and the signature of checkpoints. One definition, used to write
and to verify.

Each writer (a thread of a core process: `streams.py`) appends to its own chain stream, so an event's hash covers
its stream, its place in that stream and its global order key besides its content. Events written before streams
existed form the legacy stream and keep the hash they were written with (no stream fields in it).
"""

import hashlib
import hmac
import json
from datetime import datetime

GENESIS_HASH = "0" * 64
LEGACY_STREAM = "legacy"


def canonical_timestamp(moment: datetime) -> str:
    # Milliseconds: the precision every supported backend stores.
    return moment.isoformat(timespec="milliseconds")


def _digest(content: dict) -> str:
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def event_hash(*, sequence: int, created_at: datetime, service: str, request_id: str, actor_user_id: str,
               action: str, target_type: str, target_id: str, group_id: str, result: str, reason: str,
               details: dict, previous_hash: str, stream: str | None = None, stream_seq: int | None = None) -> str:
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
    if stream is not None and stream != LEGACY_STREAM:
        content["stream"] = stream
        content["stream_seq"] = stream_seq
    return _digest(content)


def checkpoint_message(*, stream: str, stream_seq: int, head_hash: str, created_at: datetime, key_id: str) -> bytes:
    content = {"stream": stream, "stream_seq": stream_seq, "head_hash": head_hash,
               "created_at": canonical_timestamp(created_at), "key_id": key_id}
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def checkpoint_signature(secret: bytes, **fields) -> str:
    return hmac.new(secret, checkpoint_message(**fields), hashlib.sha256).hexdigest()


def checkpoint_signature_valid(keys: dict[str, bytes], *, signature: str, **fields) -> bool:
    """Constant-time comparison; a key id the environment no longer lists fails."""
    secret = keys.get(fields["key_id"])
    if secret is None:
        return False
    return hmac.compare_digest(checkpoint_signature(secret, **fields), signature)
