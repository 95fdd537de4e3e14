"""One JSON object per log line on every role, with the fields of ARCHITECTURE.md; no secret in any of them."""

import io
import json
import logging
import logging.config
from datetime import datetime

import pytest
import uvicorn.config

from apps.common.context import bind_context, reset_context
from apps.common.logging import JsonFormatter
from tests.deploy_models.roles import PASSWORD
from tests.e2e.processes import BOT_KEY, BOT_TOKEN, TEST_KEY, WEB_KEY, WEBHOOK_SECRET

FIELDS = {"timestamp", "service", "level", "event", "request_id"}
LEVELS = {"debug", "info", "warning", "error", "critical"}
SERVICES = {"core": "centralized-api", "bot": "bot", "web": "web"}


def formatted(message: str, *args, exc_info=None, **extra) -> dict:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("tests.observability.format")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.error(message, *args, exc_info=exc_info, extra=extra)
    finally:
        logger.removeHandler(handler)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1
    return json.loads(lines[0])


def test_a_line_has_the_fields_and_the_request_id_of_its_context():
    token = bind_context(request_id="req-42")
    try:
        line = formatted("core call failed", user_id="7", duration_ms=12.5)
    finally:
        reset_context(token)
    assert line.keys() >= FIELDS
    assert (line["event"], line["level"], line["request_id"], line["user_id"], line["duration_ms"]) == (
        "core call failed", "error", "req-42", "7", 12.5)
    assert datetime.fromisoformat(line["timestamp"]).tzinfo is not None


def test_a_plain_line_has_exactly_the_projects_fields():
    """The library's own names (message, levelname, exc_info) never reach the line beside the project's."""
    assert formatted("plain").keys() == FIELDS | {"logger"}
    try:
        raise ValueError("boom")
    except ValueError as exc:
        line = formatted("failed", exc_info=exc)
    assert line.keys() == FIELDS | {"logger", "exception"} and "ValueError: boom" in line["exception"]


def test_uvicorn_lines_are_json_once_django_is_set_up(settings):
    """uvicorn (bot, web) installs plain-text handlers before it imports the application; the settings replace
    them, and its colour-coded copy of each message stays out of the line."""
    logging.config.dictConfig(uvicorn.config.LOGGING_CONFIG)  # what uvicorn does first,
    logging.config.dictConfig(settings.LOGGING)  # then django.setup(), when uvicorn imports the application
    for name in ("uvicorn", "uvicorn.access"):
        logger = logging.getLogger(name)
        assert not logger.propagate and logger.handlers, name
        assert all(isinstance(handler.formatter, JsonFormatter) for handler in logger.handlers), name
    line = formatted("Started server process [%d]", 42, color_message="Started server process [\x1b[36m%d\x1b[0m]")
    assert line["event"] == "Started server process [42]" and "color_message" not in line


def test_secrets_are_kept_out_of_lines():
    url = "POST http://127.0.0.1:8081/bot123456:AAE-secret_Token/sendMessage \"HTTP/1.1 200 OK\""
    line = formatted("HTTP Request: %s", url, api_key="k", password="p", error=f"failed: {url}")
    assert "AAE-secret_Token" not in json.dumps(line)
    assert line["event"] == ("HTTP Request: POST http://127.0.0.1:8081/bot[redacted]/sendMessage "
                             "\"HTTP/1.1 200 OK\"")
    assert (line["api_key"], line["password"]) == ("[redacted]", "[redacted]")
    try:
        raise ValueError("GET http://h/file/bot99:zz/photo.jpg")
    except ValueError as exc:
        line = formatted("download failed", exc_info=exc)
    assert "bot99:zz" not in line["exception"] and "/file/bot[redacted]/photo.jpg" in line["exception"]
    # Paths that merely start with "bot" are left alone.
    assert formatted("GET /api/botgateway/x/y")["event"] == "GET /api/botgateway/x/y"


@pytest.mark.e2e
def test_every_roles_lines_are_json_with_the_fields_and_no_secret(deployment):
    chat = deployment.new_group()
    deployment.say(chat["id"], "alice", "/warn @spammer spam")
    user = deployment.web_user("admin")
    assert deployment.web_login(user["username"], "logs-login").status_code == 200

    secrets = [BOT_TOKEN.split(":")[1], BOT_KEY, TEST_KEY, WEB_KEY, WEBHOOK_SECRET, PASSWORD,
               deployment.private_pem.splitlines()[1]]
    for role, service in SERVICES.items():
        process = getattr(deployment, role)
        text = process.log_path.read_text(errors="replace")
        lines = [json.loads(line) for line in text.splitlines() if line.strip()]  # every line is JSON
        assert lines, f"{role} logged nothing"
        for line in lines:
            assert line.keys() >= FIELDS, line
            assert line["service"] == service and line["level"] in LEVELS and line["event"], line
            datetime.fromisoformat(line["timestamp"])
        if role == "bot":  # the webhook skips Django: the bot's line per command is "update"
            updates = [line for line in lines if line["event"] == "update" and line["command"] == "warn"]
            assert updates and all(line["request_id"].startswith("tg-") for line in updates), updates
            continue
        requests = [line for line in lines if line["event"] == "request"]
        assert requests, f"{role} logged no request line"
        for line in requests:
            assert {"method", "path", "endpoint", "status", "duration_ms"} <= line.keys() and line["request_id"]
    for role in SERVICES:
        text = getattr(deployment, role).log_path.read_text(errors="replace")
        assert not [secret for secret in secrets if secret in text], f"{role}'s log holds a secret"
