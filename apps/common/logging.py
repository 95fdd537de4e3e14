"""One JSON object per log line: timestamp, service, level, event, request_id and the event's fields."""

import json
import logging
from datetime import UTC, datetime

from django.conf import settings

from .context import current_context

_STANDARD_ATTRS = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}
_SECRET_MARKERS = ("key", "secret", "password", "token", "authorization")


def _redact(name: str, value):
    return "[redacted]" if any(marker in name.lower() for marker in _SECRET_MARKERS) else value


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        context = current_context()
        entry = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "service": getattr(settings, "SERVICE_NAME", "unknown"),
            "level": record.levelname.lower(),
            "event": record.getMessage(),
            "logger": record.name,
            "request_id": context.request_id or None,
        }
        for name, value in vars(record).items():
            if name not in _STANDARD_ATTRS and not name.startswith("_"):
                entry[name] = _redact(name, value)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)
