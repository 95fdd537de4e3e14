"""The JSON formatter builds its line itself (apps/common/logging.py); its lines are python-json-logger's own path's,
byte for byte: the same fields in the same order, the same redaction. And LineHandler writes whole lines from
many threads at once."""

import io
import json
import logging
import sys
import threading
from datetime import UTC, datetime

import pytest
from pythonjsonlogger.json import JsonFormatter as LibraryJsonFormatter

from apps.common import logging as project_logging
from apps.common.context import bind_context, reset_context
from apps.common.logging import JsonFormatter, LineHandler


class LibraryPathFormatter(JsonFormatter):
    """The project's fields through the library's own format and add_fields (the formatter before it built its
    lines itself)."""

    def format(self, record):
        return LibraryJsonFormatter.format(self, record)

    def add_fields(self, log_data, record, message_dict):
        log_data.update(
            timestamp=datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            service=project_logging._service_name(),
            level=record.levelname.lower(),
            event=record.message,
            logger=record.name,
            request_id=project_logging.current_context().request_id or None,
        )
        LibraryJsonFormatter.add_fields(self, log_data, record, message_dict)


def _exc_info():
    try:
        raise ValueError("GET http://h/file/bot99:zz/photo.jpg")
    except ValueError:
        return sys.exc_info()


RECORDS = [
    ("plain", (), {}),
    ("request", (), {"extra": {"method": "POST", "path": "/api/groups", "endpoint": "api/groups", "status": 201,
                               "duration_ms": 1.25, "caller": None}}),
    ("%s of %d", ("one", 2), {"extra": {"api_key": "k", "Password": "p", "note": "/bot123:AAE-x/sendMessage"}}),
    ("odd values", (), {"extra": {"when": datetime(2026, 1, 2, tzinfo=UTC), "ids": [1, "2"], "nested": {"a": None},
                                  "text": "caf\u00e9", "color_message": "\x1b[36mx\x1b[0m", "_private": 1}}),
    ("failed", (), {"exc_info": True}),
    ("with a stack", (), {"stack_info": True}),
    ({"event_data": "a dict message", "token": "t"}, (), {}),
    ("overrides", (), {"extra": {"service": "not the role", "logger": "other", "request_id": "given"}}),
]


@pytest.mark.parametrize(("message", "args", "options"), RECORDS)
def test_a_line_is_the_library_path_s_line(message, args, options):
    logger = logging.getLogger("tests.common.json_formatter")
    record = logger.makeRecord(logger.name, logging.WARNING, __file__, 1, message, args,
                               _exc_info() if options.get("exc_info") else None,
                               extra=options.get("extra"), sinfo="Stack (most recent call last):\n  x" if options.get(
                                   "stack_info") else None)
    token = bind_context(request_id="req-1")
    try:
        ours = JsonFormatter().format(record)
        record.exc_text = None  # the library's path caches the traceback text on the record like ours
        theirs = LibraryPathFormatter().format(record)
    finally:
        reset_context(token)
    assert ours == theirs
    assert "AAE-x" not in ours and "bot99:zz" not in ours
    assert list(json.loads(ours))[:6] == ["timestamp", "service", "level", "event", "logger", "request_id"]


def test_line_handler_writes_whole_lines_from_many_threads():
    stream = io.StringIO()
    handler = LineHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("tests.common.line_handler")
    logger.addHandler(handler)
    logger.propagate = False

    def write(number):
        for line in range(200):
            logger.warning("line", extra={"thread_number": number, "line": line})

    threads = [threading.Thread(target=write, args=(number,)) for number in range(8)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        logger.removeHandler(handler)
    lines = [json.loads(text) for text in stream.getvalue().splitlines()]
    assert sorted((line["thread_number"], line["line"]) for line in lines) == [
        (number, line) for number in range(8) for line in range(200)]


def test_line_handler_reports_a_line_it_cannot_format(capsys):
    class Broken(logging.Formatter):
        def format(self, record):
            raise RuntimeError("no")

    stream = io.StringIO()
    handler = LineHandler(stream)
    handler.setFormatter(Broken())
    handler.handle(logging.makeLogRecord({"msg": "x"}))
    assert stream.getvalue() == "" and "RuntimeError: no" in capsys.readouterr().err
