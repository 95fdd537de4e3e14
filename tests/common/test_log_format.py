"""Log lines: JSON in production (the default), one human-readable line per record with LOG_FORMAT=console (`make
run`), coloured only on a terminal; and a formatter that never fails, even where Django's settings are not set up
(gunicorn's master process)."""

import io
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

from apps.common.context import bind_context, reset_context
from apps.common.logging import ConsoleFormatter

ROOT = Path(__file__).resolve().parents[2]


def console_line(formatter: ConsoleFormatter, message: str, *args, exc_info=None, **extra) -> str:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    logger = logging.getLogger("tests.common.console")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning(message, *args, exc_info=exc_info, extra=extra)
    finally:
        logger.removeHandler(handler)
    return stream.getvalue()


def test_a_console_line_is_one_readable_line_with_the_fields_and_no_secret():
    token = bind_context(request_id="req-7")
    try:
        text = console_line(ConsoleFormatter(colour=False), "core call failed after %d ms", 12, user_id="7",
                            api_key="k-secret", url="POST http://h/bot123:AAE-tok/sendMessage")
    finally:
        reset_context(token)
    assert text.count("\n") == 1 and not text.lstrip().startswith("{")
    assert "WARNING" in text and "tests.common.console" in text and "core call failed after 12 ms" in text
    assert "user_id=7" in text and "request_id=req-7" in text
    assert "k-secret" not in text and "AAE-tok" not in text and "api_key=[redacted]" in text
    assert "\x1b[" not in text


def test_colours_only_when_asked_or_on_a_terminal():
    assert "\x1b[33m" in console_line(ConsoleFormatter(colour=True), "careful")
    # Under pytest stderr is no terminal: the default is plain text.
    assert "\x1b[" not in console_line(ConsoleFormatter(), "careful")


def test_a_traceback_goes_under_its_line():
    try:
        raise ValueError("boom")
    except ValueError as exc:
        text = console_line(ConsoleFormatter(colour=False), "failed", exc_info=exc)
    first, *rest = text.splitlines()
    assert first.endswith("failed") and rest[-1] == "ValueError: boom"


def _log_through_settings(env: dict) -> str:
    """What a role process prints for one warning, with the settings the environment gives."""
    clean = {key: value for key, value in os.environ.items()
             if key not in {"DJANGO_SETTINGS_MODULE", "APP_ENV", "LOG_FORMAT", "SECRET_KEY", "ALLOWED_HOSTS"}}
    code = ("import django, logging; django.setup(); "
            "logging.getLogger('apps.demo').warning('denied', extra={'permission': 'BAN_USERS'})")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**clean, **env}, capture_output=True,
                            text=True, timeout=60, check=True)
    return result.stderr


def test_production_logs_json_and_development_under_make_run_logs_lines(tmp_path):
    production = _log_through_settings({"DJANGO_SETTINGS_MODULE": "config.settings.bot", "APP_ENV": "production",
                                        "SECRET_KEY": "x" * 50, "ALLOWED_HOSTS": "example.org",
                                        "TELEGRAM_BOT_TOKEN": "1:x", "CORE_API_KEY": "k",
                                        "TELEGRAM_WEBHOOK_SECRET": "s", "DATA_DIR": str(tmp_path)})
    [line] = production.splitlines()
    entry = json.loads(line)
    assert (entry["event"], entry["permission"], entry["service"]) == ("denied", "BAN_USERS", "bot")
    development = _log_through_settings({"DJANGO_SETTINGS_MODULE": "config.settings.bot", "APP_ENV": "development",
                                         "LOG_FORMAT": "console", "DATA_DIR": str(tmp_path)})
    [line] = development.splitlines()
    assert " bot apps.demo  denied  permission=BAN_USERS" in line


def test_the_json_formatter_writes_its_line_without_settings():
    """gunicorn's master logs through the formatter before any settings exist (`make run-core` sets no
    DJANGO_SETTINGS_MODULE): the line is written, never a "Logging error" traceback."""
    code = ("import logging, sys; from apps.common.logging import JsonFormatter; "
            "handler = logging.StreamHandler(sys.stdout); handler.setFormatter(JsonFormatter()); "
            "logging.getLogger('gunicorn.error').addHandler(handler); "
            "logging.getLogger('gunicorn.error').warning('Listening at: %s', 'http://127.0.0.1:8000')")
    clean = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True,
                            timeout=60, check=True)
    assert "Logging error" not in result.stderr, result.stderr
    entry = json.loads(result.stdout)
    assert (entry["event"], entry["service"]) == ("Listening at: http://127.0.0.1:8000", "unknown")
