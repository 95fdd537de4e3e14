"""One JSON object per log line: timestamp, service, level, event, request_id and the event's fields."""

import json
import logging
import re
from datetime import UTC, datetime

from django.conf import settings

from .context import current_context

# color_message: uvicorn's copy of the message with terminal colour codes.
_STANDARD_ATTRS = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName", "color_message"}
_SECRET_MARKERS = ("key", "secret", "password", "token", "authorization")
# The Bot API puts the bot's token in the URL path (/bot<token>/method); httpx logs request URLs at INFO.
_BOT_TOKEN_IN_URL = re.compile(r"(/(?:file/)?bot)\d+:[^/\s\"']+(?=/)")


def _scrub(text: str) -> str:
    return _BOT_TOKEN_IN_URL.sub(r"\1[redacted]", text)


def _redact(name: str, value):
    if any(marker in name.lower() for marker in _SECRET_MARKERS):
        return "[redacted]"
    return _scrub(value) if isinstance(value, str) else value


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        context = current_context()
        entry = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "service": getattr(settings, "SERVICE_NAME", "unknown"),
            "level": record.levelname.lower(),
            "event": _scrub(record.getMessage()),
            "logger": record.name,
            "request_id": context.request_id or None,
        }
        for name, value in vars(record).items():
            if name not in _STANDARD_ATTRS and not name.startswith("_"):
                entry[name] = _redact(name, value)
        if record.exc_info:
            entry["exception"] = _scrub(self.formatException(record.exc_info))
        return json.dumps(entry, default=str)
