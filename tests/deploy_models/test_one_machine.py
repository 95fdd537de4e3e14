"""One machine: core (gunicorn, 2 workers), the bot (uvicorn), web, the Telegram sandbox and Redis as real
processes on loopback. A Telegram command goes through the bot to core and back, a browser logs in to web and
lists groups; then core's audit trail and logs show both flows under the request ids the test saw."""

import re
import uuid
from datetime import UTC, datetime

import pytest

from .roles import log_lines, wait_for_log

pytestmark = pytest.mark.e2e


def test_a_command_and_a_browser_flow_are_traced_to_cores_audit_trail(one_machine):
    platform = one_machine
    since = datetime.now(UTC).isoformat()

    # Telegram -> bot -> core -> bot -> Telegram
    chat = platform.new_group()
    platform.say(chat["id"], "spammer", "cheap followers here")
    command, replies = platform.say(chat["id"], "alice", "/warn @spammer selling followers")
    assert len(replies) == 1 and replies[0].startswith("@spammer has been warned (1/"), replies
    update = wait_for_log(platform.bot, lambda line: line.get("event") == "update" and line.get("command") == "warn"
                          and line.get("chat_id") == chat["id"] and line.get("message_id") == command["message_id"],
                          "the /warn update")
    bot_request_id = update["request_id"]
    assert re.fullmatch(rf"tg-{update['update_id']}-[0-9a-f]{{12}}", bot_request_id), update

    # Browser -> web -> core
    user = platform.web_user("admin")
    login_id, groups_id = f"login-{uuid.uuid4().hex}", f"groups-{uuid.uuid4().hex}"
    login = platform.web_login(user["username"], login_id)
    assert login.status_code == 200, login.text
    assert login.headers["X-Request-ID"] == login_id
    groups = platform.web_request("GET", "/api/groups?limit=100", groups_id, token=login.json()["data"]["access"])
    assert groups.status_code == 200, groups.text
    assert groups.headers["X-Request-ID"] == groups_id
    group_id = platform.core_group_id(chat["id"])
    assert group_id in {group["id"] for group in groups.json()["data"]}

    # Core's audit trail: the same ids, with the service that sent them.
    events = platform.audit_since(since)
    by_request: dict[str, list[dict]] = {}
    for event in events:
        by_request.setdefault(event["request_id"], []).append(event)
    warn = by_request.get(bot_request_id, [])
    assert {event["service"] for event in warn} == {"bot"}, warn
    assert {"permission.check", "moderation.request"} <= {event["action"] for event in warn}
    assert any(event["action"] == "permission.check" and event["details"].get("permission") == "WARN_USERS"
               and event["result"] == "allowed" for event in warn), warn
    assert [(event["service"], event["action"], event["result"]) for event in by_request.get(login_id, [])] == [
        ("web", "auth.login", "success")]
    assert [(event["service"], event["action"], event["details"].get("permission"))
            for event in by_request.get(groups_id, [])] == [("web", "permission.check", "VIEW_GROUPS")]

    # Core's own log lines for those requests carry the same ids, and name the caller.
    core_lines = log_lines(platform.core)
    warn_paths = {line["path"] for line in core_lines if line.get("request_id") == bot_request_id
                  and line.get("event") == "request" and line.get("caller") == "bot"}
    assert "/api/moderation/actions" in warn_paths, warn_paths  # the /warn's permission is checked within it
    assert any(line.get("request_id") == groups_id and line.get("path") == "/api/groups"
               and line.get("caller") == "web" and line.get("status") == 200 for line in core_lines)
    # ... and so do web's.
    assert any(line.get("request_id") == groups_id and line.get("path") == "/api/groups"
               and line.get("status") == 200 for line in log_lines(platform.web))
