"""Log lines: one JSON object each in production (timestamp, service, level, event, request_id and the event's
fields), or one human-readable line each in development (LOG_FORMAT=console; coloured on a terminal)."""

import json
import logging
import os
import re
import sys
from datetime import UTC, datetime
from functools import lru_cache

from django.conf import settings
from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter as _LibraryJsonFormatter

from .context import current_context

# color_message: uvicorn's copy of the message with terminal colour codes.
_STANDARD_ATTRS = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName", "color_message"}
_SECRET_MARKERS = ("key", "secret", "password", "token", "authorization")
# The Bot API puts the bot's token in the URL path (/bot<token>/method); httpx logs request URLs at INFO.
_BOT_TOKEN_IN_URL = re.compile(r"(/(?:file/)?bot)\d+:[^/\s\"']+(?=/)")


def _scrub(text: str) -> str:
    return _BOT_TOKEN_IN_URL.sub(r"\1[redacted]", text)


@lru_cache(maxsize=4096)
def _secret_name(name: str) -> bool:
    """Whether a field's name marks a secret; asked of every field of every line, so remembered by name (the names
    are the code's own: the extras of its log calls)."""
    lowered = name.lower()
    return any(marker in lowered for marker in _SECRET_MARKERS)


def _redact(name, value):
    if isinstance(name, str) and _secret_name(name):
        return "[redacted]"
    return _scrub(value) if isinstance(value, str) and "bot" in value else value


def _service_name() -> str:
    """The role's name, without ever failing: gunicorn's master process logs before (or without) Django's settings,
    and a formatter that raised there printed a "Logging error" traceback for each of its lines."""
    try:
        return settings.SERVICE_NAME
    except Exception:  # not configured, or settings that do not load: the line must still be written
        return "unknown"


def _fields(record: logging.LogRecord) -> dict:
    return {name: _redact(name, value) for name, value in vars(record).items()
            if name not in _STANDARD_ATTRS and not name.startswith("_")}


class JsonFormatter(_LibraryJsonFormatter):
    """python-json-logger's formatter with the project's fields first (timestamp, service, level, event, logger,
    request_id), then the record's extras, the traceback as "exception"; every field goes through the redaction.

    `format` builds the line itself, in the library's order and with its rules (a dict message's keys, then
    exc_info, stack_info, then the record's extras not reserved and not starting with "_"), and encodes it with
    one encoder made once: the library's path (a new encoder per line, the extras merged by several passes) was
    most of the cost of core's line per request."""

    def __init__(self, *args, **kwargs):
        if not args:
            kwargs.setdefault("fmt", ())  # no fields from a format string: add_fields names them
        kwargs.setdefault("reserved_attrs", [*RESERVED_ATTRS, "taskName", "color_message"])
        kwargs.setdefault("rename_fields", {"exc_info": "exception"})
        kwargs.setdefault("json_default", str)
        super().__init__(*args, **kwargs)
        self._encode = (self.json_encoder or json.JSONEncoder)(
            default=self.json_default, ensure_ascii=self.json_ensure_ascii, indent=self.json_indent).encode

    def format(self, record: logging.LogRecord) -> str:
        message_dict: dict = {}
        if isinstance(record.msg, dict):
            message_dict = record.msg.copy()
            record.message = ""
        else:
            record.message = record.getMessage()
        if record.exc_info and not message_dict.get("exc_info"):
            message_dict["exc_info"] = self.formatException(record.exc_info)
        if not message_dict.get("exc_info") and record.exc_text:
            message_dict["exc_info"] = record.exc_text
        if record.stack_info and not message_dict.get("stack_info"):
            message_dict["stack_info"] = self.formatStack(record.stack_info)
        log_data: dict = {}
        self.add_fields(log_data, record, message_dict)
        return self.prefix + self._encode(self.process_log_record(log_data))

    def add_fields(self, log_data: dict, record: logging.LogRecord, message_dict: dict) -> None:
        log_data.update(
            timestamp=datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            service=_service_name(),
            level=record.levelname.lower(),
            event=record.message,
            logger=record.name,
            request_id=current_context().request_id or None,
        )
        if self._required_fields or self.defaults or self.static_fields:  # none of them as configured here
            super().add_fields(log_data, record, message_dict)
            return
        rename, skip = self.rename_fields, self._skip_fields
        for key, value in message_dict.items():
            log_data[rename.get(key, key)] = value
        for key, value in record.__dict__.items():
            if key not in skip and not key.startswith("_"):
                log_data[rename.get(key, key)] = value

    def process_log_record(self, log_data: dict) -> dict:
        return {name: _redact(name, value) for name, value in log_data.items()}


class LineHandler(logging.StreamHandler):
    """A StreamHandler that formats the record before it takes the handler's lock: only the write is serialized.
    The stock handler formats under the lock, so a worker's threads queued behind each other's JSON encoding."""

    def handle(self, record: logging.LogRecord) -> bool:
        rv = self.filter(record)
        if isinstance(rv, logging.LogRecord):
            record = rv
        if rv:
            try:
                line = self.format(record) + self.terminator
            except RecursionError:
                raise
            except Exception:
                self.handleError(record)
                return rv
            with self.lock:
                try:
                    self.stream.write(line)
                    self.flush()
                except RecursionError:
                    raise
                except Exception:
                    self.handleError(record)
        return rv


_LEVEL_COLOURS = {"DEBUG": "2", "INFO": "32", "WARNING": "33", "ERROR": "31", "CRITICAL": "1;31"}


class ConsoleFormatter(logging.Formatter):
    """One line a record for people: `12:04:05.123 INFO  centralized-api apps.request  request method=GET ...`,
    the same fields as the JSON line (secrets redacted alike), a traceback under it. Colours only when the stream
    is a terminal and NO_COLOR is unset."""

    def __init__(self, *args, colour: bool | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if colour is None:
            colour = sys.stderr.isatty() and not os.environ.get("NO_COLOR")
        self.colour = colour

    def _paint(self, text: str, code: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.colour else text

    def format(self, record: logging.LogRecord) -> str:
        when = datetime.fromtimestamp(record.created).strftime("%H:%M:%S.") + f"{int(record.msecs):03d}"
        level = self._paint(f"{record.levelname:<7}", _LEVEL_COLOURS.get(record.levelname, "0"))
        fields = _fields(record)
        request_id = current_context().request_id
        if request_id:
            fields["request_id"] = request_id
        extras = " ".join(f"{name}={value}" for name, value in fields.items() if value is not None)
        line = (f"{self._paint(when, '2')} {level} {_service_name()} {self._paint(record.name, '36')}  "
                f"{_scrub(record.getMessage())}")
        if extras:
            line += "  " + self._paint(extras, "2")
        if record.exc_info:
            line += "\n" + _scrub(self.formatException(record.exc_info))
        return line

