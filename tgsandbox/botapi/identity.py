"""Bot API methods about the bot itself: getMe, logOut/close, setMyCommands, getMyCommands, deleteMyCommands."""

from __future__ import annotations

import json
import re
from typing import Any

from ..errors import bad_request
from .params import Call


def get_me(call: Call) -> Any:
    bot = call.bot
    return {
        **bot.user.to_dict(),
        "can_join_groups": bot.can_join_groups,
        "can_read_all_group_messages": bot.can_read_all_group_messages,
        "supports_inline_queries": bot.supports_inline_queries,
        "can_connect_to_business": False,
        "has_main_web_app": False,
    }


def log_out(call: Call) -> Any:
    return True


def _commands_key(call: Call) -> str:
    scope = call.params.json("scope", "scope") or {"type": "default"}
    if not isinstance(scope, dict) or "type" not in scope:
        raise bad_request("can't parse BotCommandScope JSON object")
    return json.dumps(scope, sort_keys=True) + "|" + call.params.str("language_code")


def set_my_commands(call: Call) -> Any:
    commands = call.params.json("commands", "commands")
    if not isinstance(commands, list):
        raise bad_request("can't parse commands JSON object")
    cleaned = []
    for command in commands:
        if not isinstance(command, dict):
            raise bad_request("can't parse BotCommand: expected an Object")
        name = str(command.get("command", "")).lstrip("/")
        description = str(command.get("description", "")).strip()
        if not re.fullmatch(r"[a-z0-9_]{1,32}", name):
            raise bad_request("BOT_COMMAND_INVALID")
        if not 1 <= len(description) <= 256:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        cleaned.append({"command": name, "description": description})
    call.bot.commands[_commands_key(call)] = cleaned
    return True


def get_my_commands(call: Call) -> Any:
    return list(call.bot.commands.get(_commands_key(call), []))


def delete_my_commands(call: Call) -> Any:
    call.bot.commands.pop(_commands_key(call), None)
    return True
