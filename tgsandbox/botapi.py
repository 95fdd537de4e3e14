"""The Bot API methods: Telegram's rules, result shapes and error texts, over a :class:`World`.

Parameters arrive the way the Bot API server receives them (form fields are strings, objects
JSON-encoded; a JSON body carries native values), and are read with Telegram's leniency:
``"true"``/``"1"`` are true, a malformed integer is 0, a missing ``user_id`` is
``invalid user_id specified``.

Error texts follow the Bot API server and TDLib (what a bot really receives); where Telegram has
several paths the sandbox models the one a moderation bot meets: see :data:`METHODS` and the
package README for what is covered.
"""

from __future__ import annotations

import contextlib
import json
import re
import time
from dataclasses import dataclass
from typing import Any

from .entities import render_text, utf16_len
from .errors import BotApiError, bad_request, conflict, forbidden, not_found, unauthorized
from .state import ADMIN_RIGHTS, MEDIA_PERMISSIONS, PERMISSION_FIELDS, Bot, Chat, Member, Message, World

TOKEN_RE = re.compile(r"^\d+:[\w-]+$")
MAX_TEXT_LENGTH = 4096
DELETE_WINDOW = 48 * 3600
LONG_POLL_MAX_TIMEOUT = 50
CALLBACK_QUERY_TTL = 15 * 60
CHAT_ACTIONS = {
    "typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
    "upload_document", "choose_sticker", "find_location", "record_video_note", "upload_video_note",
}
WEBHOOK_CONFLICT = (
    "can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"
)
POLL_CONFLICT = "terminated by other getUpdates request; make sure that only one bot instance is running"


@dataclass
class Answer:
    """A successful result with the optional ``description`` Telegram adds (e.g. "Webhook was set")."""

    result: Any
    description: str | None = None


class Params:
    """Request parameters with the Bot API server's parsing rules."""

    def __init__(self, data: dict[str, Any]):
        self.data = data

    def has(self, name: str) -> bool:
        value = self.data.get(name)
        return value is not None and value != ""

    def str(self, name: str, default: str = "") -> str:
        value = self.data.get(name)
        if value is None:
            return default
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, dict | list):
            return json.dumps(value)
        return str(value)

    def int(self, name: str, default: int = 0) -> int:
        value = self.data.get(name)
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, int):
            return value
        if isinstance(value, float):
            return int(value)
        if isinstance(value, str) and re.fullmatch(r"\s*[-+]?\d+\s*", value):
            return int(value)
        return default

    def bool(self, name: str) -> bool:
        value = self.data.get(name)
        if isinstance(value, bool):
            return value
        if isinstance(value, int | float):
            return value != 0
        if isinstance(value, str):
            return value.strip().lower() in ("true", "yes", "1")
        return False

    def json(self, name: str, what: str) -> Any:
        value = self.data.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                raise bad_request(f"can't parse {what} JSON object") from None
        return value


@dataclass
class Call:
    world: World
    bot: Bot
    params: Params


# --- shared checks ------------------------------------------------------------------------------


def _user_id(p: Params) -> int:
    user_id = p.int("user_id")
    if user_id <= 0:
        raise bad_request("invalid user_id specified")
    return user_id


def _message_id(p: Params, name: str = "message_id") -> int:
    return p.int(name)


def resolve_chat(call: Call, access: str = "write", name: str = "chat_id") -> Chat:
    """Find the chat as the bot sees it and check the bot may read it / act in it."""
    world, bot, p = call.world, call.bot, call.params
    raw = p.str(name).strip()
    if not raw:
        raise bad_request("chat_id is empty")
    chat: Chat | None = None
    if raw.startswith("@"):
        wanted = raw[1:].lower()
        chat = next((c for c in world.chats.values() if (c.username or "").lower() == wanted), None)
        if chat is None:
            raise bad_request("chat not found")
    else:
        try:
            chat_id = int(raw)
        except ValueError:
            raise bad_request("chat not found") from None
        if chat_id > 0:
            return _private_chat(call, chat_id, access)
        chat = world.chats.get(chat_id)
    if chat is None:
        raise bad_request("chat not found")
    me = chat.members.get(bot.id)
    if me is None and not chat.username:
        raise bad_request("chat not found")  # the bot never was there: the chat is invisible to it
    me = world.member(chat, bot.id)
    if chat.type == "group":
        if chat.migrated_to and access == "write":
            raise bad_request("group chat was upgraded to a supergroup chat",
                              {"migrate_to_chat_id": chat.migrated_to})
        if access == "write" and me.status == "kicked":
            raise forbidden("bot was kicked from the group chat")
        if access == "write" and not me.present:
            raise forbidden("bot is not a member of the group chat")
    else:
        if me.status == "kicked":
            raise forbidden("bot was kicked from the supergroup chat")
        if access == "write" and not me.present:
            raise forbidden("bot is not a member of the supergroup chat")
    return chat


def _private_chat(call: Call, user_id: int, access: str) -> Chat:
    world, bot = call.world, call.bot
    if user_id == bot.id:
        raise bad_request("chat not found")
    chat = world.private.get((bot.id, user_id))
    user = world.users.get(user_id)
    if chat is None:
        if user is None:
            raise bad_request("chat not found")
        if user.is_bot:
            raise forbidden("bot can't send messages to bots")
        if access == "write":
            raise forbidden("bot can't initiate conversation with a user")
        raise bad_request("chat not found")
    if access == "write" and chat.blocked:
        raise forbidden("bot was blocked by the user")
    return chat


def _known_user(call: Call, user_id: int, error: str = "user not found"):
    user = call.world.users.get(user_id)
    if user is None:
        raise bad_request(error)
    return user


def _rights(call: Call, chat: Chat) -> dict[str, bool]:
    return call.world.rights_of(chat, call.world.member(chat, call.bot.id))


def _can_edit_admin(call: Call, target: Member) -> bool:
    return target.status == "administrator" and target.promoted_by == call.bot.id


def _message(chat: Chat, message_id: int, what: str) -> Message:
    message = chat.messages.get(message_id)
    if message is None:
        raise bad_request(f"{what} not found")
    return message


def _set_member(call: Call, chat: Chat, user_id: int, new: Member) -> None:
    world = call.world
    old = world.member(chat, user_id).copy()
    chat.members[user_id] = new
    world._member_changed(chat, user_id, old, new, call.bot.id)
    if old.present and not new.present:
        world._service(chat, call.bot.id, skip=call.bot.id, left_chat_member=user_id)


def _text_and_entities(call: Call, text_param: str = "text") -> tuple[str, list[dict[str, Any]]]:
    p = call.params
    text = p.str(text_param)
    entities = p.json("entities", "entities")
    if entities is not None and not isinstance(entities, list):
        raise bad_request("can't parse entities JSON object")
    plain, found = render_text(text, p.str("parse_mode") or None, entities)
    if not plain:
        raise bad_request("message text is empty")
    if utf16_len(plain) > MAX_TEXT_LENGTH:
        raise bad_request("message is too long")
    return plain, found


def _reply_to(call: Call, chat: Chat) -> int | None:
    p = call.params
    params = p.json("reply_parameters", "reply parameters")
    if isinstance(params, dict):
        message_id = int(params.get("message_id") or 0)
        allow_without = bool(params.get("allow_sending_without_reply"))
        if params.get("chat_id") not in (None, "", chat.id, str(chat.id)):
            raise bad_request("replies to messages in other chats are not supported by the sandbox")
    else:
        message_id = p.int("reply_to_message_id")
        allow_without = p.bool("allow_sending_without_reply")
    if not message_id:
        return None
    if message_id not in chat.messages:
        if allow_without:
            return None
        raise bad_request("message to be replied not found")
    return message_id


def _reply_markup(call: Call) -> dict[str, Any] | None:
    markup = call.params.json("reply_markup", "reply markup")
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise bad_request("can't parse inline keyboard button: InlineKeyboardMarkup must be an Array of "
                              "Arrays of InlineKeyboardButton")
        return markup
    return None  # reply keyboards and ForceReply are not part of the Message object


def _check_can_send(call: Call, chat: Chat) -> None:
    if chat.is_group:
        me = call.world.member(chat, call.bot.id)
        if not call.world.permissions_of(chat, me)["can_send_messages"]:
            raise bad_request("not enough rights to send text messages to the chat")


def _deliver_bot_message(call: Call, chat: Chat, **fields: Any) -> Message:
    world = call.world
    world.check_rate(call.bot, chat)
    message = world.add_message(chat, from_id=call.bot.id, **fields)
    world.count_sent(call.bot, chat)
    return message


# --- methods: the bot itself ----------------------------------------------------------------------


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


def _allowed_updates(call: Call) -> None:
    p = call.params
    if "allowed_updates" not in p.data:
        return
    value = p.json("allowed_updates", "allowed updates")
    if value is None:
        return
    if not isinstance(value, list):
        raise bad_request("can't parse allowed updates JSON object")
    call.bot.allowed_updates = [str(v) for v in value] or None


def set_webhook(call: Call) -> Any:
    bot, p = call.bot, call.params
    url = p.str("url").strip()
    if not url:
        return delete_webhook(call)
    if not re.match(r"^https?://[^/\s:]+(:\d+)?(/\S*)?$", url):
        raise bad_request("bad webhook: invalid webhook URL specified")
    secret = p.str("secret_token") or None
    if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
        raise bad_request("secret token contains unallowed characters")
    drop = p.bool("drop_pending_updates")
    _allowed_updates(call)
    max_connections = p.int("max_connections", 40) or 40
    if drop:
        bot.updates.clear()
    if url == bot.webhook_url and secret == bot.webhook_secret and not drop:
        return Answer(True, "Webhook is already set")
    bot.webhook_url, bot.webhook_secret = url, secret
    bot.webhook_max_connections = max(1, min(100, max_connections))
    bot.webhook_generation += 1
    bot.webhook_last_error_date = bot.webhook_last_error_message = None
    bot.poll_generation += 1  # a pending getUpdates is cut off
    call.world.notifier.notify()
    return Answer(True, "Webhook was set")


def delete_webhook(call: Call) -> Any:
    bot = call.bot
    if call.params.bool("drop_pending_updates"):
        bot.updates.clear()
    if not bot.webhook_url:
        return Answer(True, "Webhook is already deleted")
    bot.webhook_url, bot.webhook_secret = "", None
    bot.webhook_generation += 1
    call.world.notifier.notify()
    return Answer(True, "Webhook was deleted")


def get_webhook_info(call: Call) -> Any:
    bot = call.bot
    info: dict[str, Any] = {"url": bot.webhook_url, "has_custom_certificate": False,
                            "pending_update_count": len(bot.updates)}
    if bot.webhook_url:
        info["max_connections"] = bot.webhook_max_connections
        info["ip_address"] = "127.0.0.1"
        if bot.allowed_updates:
            info["allowed_updates"] = list(bot.allowed_updates)
    if bot.webhook_last_error_date:
        info["last_error_date"] = bot.webhook_last_error_date
        info["last_error_message"] = bot.webhook_last_error_message
    return info


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


# --- methods: messages ----------------------------------------------------------------------------


def send_message(call: Call) -> Any:
    chat = resolve_chat(call, "write")
    _check_can_send(call, chat)
    text, entities = _text_and_entities(call)
    reply_to = _reply_to(call, chat)
    markup = _reply_markup(call)
    message = _deliver_bot_message(call, chat, text=text, entities=entities, reply_to=reply_to,
                                   reply_markup=markup)
    return call.world.message_dict(message)


def send_chat_action(call: Call) -> Any:
    chat = resolve_chat(call, "write")
    if call.params.str("action") not in CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")
    _check_can_send(call, chat)
    return True


def _copy_source(call: Call, what: str) -> tuple[Chat, Message]:
    source_chat = resolve_chat(call, "read", name="from_chat_id")
    message_id = _message_id(call.params)
    if not message_id:
        raise bad_request("message identifier is not specified")
    return source_chat, _message(source_chat, message_id, what)


def forward_message(call: Call) -> Any:
    _, original = _copy_source(call, "message to forward")
    chat = resolve_chat(call, "write")
    _check_can_send(call, chat)
    if original.is_service or original.text is None:
        raise bad_request("message can't be forwarded")
    world = call.world
    if original.forward_origin:
        origin = original.forward_origin
    elif original.sender_chat_id is not None:
        origin = {"type": "chat", "date": original.date,
                  "sender_chat": world.chats[original.sender_chat_id].short_dict(world)}
    else:
        origin = {"type": "user", "date": original.date, "sender_user": world.user_dict(original.from_id)}
    message = _deliver_bot_message(call, chat, text=original.text, entities=list(original.entities),
                                   forward_origin=origin)
    return world.message_dict(message)


def copy_message(call: Call) -> Any:
    _, original = _copy_source(call, "message to copy")
    chat = resolve_chat(call, "write")
    _check_can_send(call, chat)
    if original.is_service or original.text is None:
        raise bad_request("message can't be copied")
    reply_to = _reply_to(call, chat)
    message = _deliver_bot_message(call, chat, text=original.text, entities=list(original.entities),
                                   reply_to=reply_to, reply_markup=_reply_markup(call))
    return {"message_id": message.message_id}


def edit_message_text(call: Call) -> Any:
    p = call.params
    if p.has("inline_message_id") and not p.has("chat_id"):
        raise bad_request("inline messages are not supported by the sandbox")
    chat = resolve_chat(call, "write")
    message_id = _message_id(p)
    if not message_id:
        raise bad_request("message identifier is not specified")
    message = _message(chat, message_id, "message to edit")
    if message.from_id != call.bot.id or message.is_service:
        raise bad_request("message can't be edited")
    text, entities = _text_and_entities(call)
    markup = _reply_markup(call)
    if text == message.text and entities == message.entities and markup == message.reply_markup:
        raise bad_request("message is not modified: specified new message content and reply markup are exactly "
                          "the same as a current content and reply markup of the message")
    message.text, message.entities, message.reply_markup = text, entities, markup
    message.edit_date = call.world.now()
    call.world.notifier.notify()
    return call.world.message_dict(message)


def edit_message_reply_markup(call: Call) -> Any:
    chat = resolve_chat(call, "write")
    message_id = _message_id(call.params)
    if not message_id:
        raise bad_request("message identifier is not specified")
    message = _message(chat, message_id, "message to edit")
    if message.from_id != call.bot.id:
        raise bad_request("message can't be edited")
    markup = _reply_markup(call)
    if markup == message.reply_markup:
        raise bad_request("message is not modified: specified new message content and reply markup are exactly "
                          "the same as a current content and reply markup of the message")
    message.reply_markup = markup
    message.edit_date = call.world.now()
    return call.world.message_dict(message)


def _check_deletable(call: Call, chat: Chat, message: Message) -> None:
    """Who may delete what (Bot API docs + TDLib): 48 h limit, admin rights, own messages."""
    world = call.world
    age = world.now() - message.date
    own = message.from_id == call.bot.id
    if set(message.service) & {"group_chat_created", "supergroup_chat_created", "migrate_to_chat_id",
                               "migrate_from_chat_id"}:
        raise bad_request("message can't be deleted")
    if chat.type == "private":
        if age > DELETE_WINDOW:
            raise bad_request("message can't be deleted")
        return
    me = world.member(chat, call.bot.id)
    if chat.type == "supergroup":
        if not (own or world.rights_of(chat, me)["can_delete_messages"]):
            raise bad_request("message can't be deleted")
        if age > DELETE_WINDOW:
            raise bad_request("message can't be deleted")
        return
    # basic group: any appointed admin may delete anything; others only their own, for 48 h
    if not me.is_admin and (not own or age > DELETE_WINDOW):
        raise bad_request("message can't be deleted for everyone")
    if age > DELETE_WINDOW:
        raise bad_request("message can't be deleted")


def _delete(call: Call, chat: Chat, message: Message) -> None:
    chat.messages.pop(message.message_id, None)
    if message.message_id in chat.pinned:
        chat.pinned.remove(message.message_id)
    call.world.notifier.notify()


def delete_message(call: Call) -> Any:
    chat = resolve_chat(call, "write")
    message_id = _message_id(call.params)
    if not message_id:
        raise bad_request("message identifier is not specified")
    message = _message(chat, message_id, "message to delete")
    _check_deletable(call, chat, message)
    _delete(call, chat, message)
    return True


def delete_messages(call: Call) -> Any:
    chat = resolve_chat(call, "write")
    ids = call.params.json("message_ids", "message identifiers")
    if not isinstance(ids, list) or not ids:
        raise bad_request("message_ids must be non-empty")
    if len(ids) > 100:
        raise bad_request("too many message identifiers specified")
    found = [chat.messages[int(i)] for i in ids if str(i).lstrip("-").isdigit() and int(i) in chat.messages]
    for message in found:
        _check_deletable(call, chat, message)
    for message in found:
        _delete(call, chat, message)
    return True


def _check_pin_rights(call: Call, chat: Chat) -> None:
    if chat.type == "private":
        return
    world = call.world
    me = world.member(chat, call.bot.id)
    if chat.type == "group":
        allowed = me.is_admin  # bots must be appointed admins in basic groups
    else:
        allowed = world.rights_of(chat, me)["can_pin_messages"] or (
            not me.is_admin and world.permissions_of(chat, me)["can_pin_messages"] and not chat.username)
    if not allowed:
        raise bad_request("not enough rights to manage pinned messages in the chat")


def pin_chat_message(call: Call) -> Any:
    chat = resolve_chat(call, "write")
    message = _message(chat, _message_id(call.params), "message to pin")
    _check_pin_rights(call, chat)
    if message.is_service:
        raise bad_request("message can't be pinned")
    if message.message_id in chat.pinned:
        chat.pinned.remove(message.message_id)
    chat.pinned.append(message.message_id)
    call.world._service(chat, call.bot.id, skip=call.bot.id, pinned_message=message.message_id)
    return True


def unpin_chat_message(call: Call) -> Any:
    chat = resolve_chat(call, "write")
    _check_pin_rights(call, chat)
    message_id = _message_id(call.params)
    if not message_id:
        if not chat.pinned:
            raise bad_request("message to unpin not found")
        message_id = chat.pinned[-1]
    if message_id not in chat.messages:
        raise bad_request("message to unpin not found")
    if message_id in chat.pinned:
        chat.pinned.remove(message_id)
    return True


def unpin_all_chat_messages(call: Call) -> Any:
    chat = resolve_chat(call, "write")
    _check_pin_rights(call, chat)
    chat.pinned.clear()
    return True


def answer_callback_query(call: Call) -> Any:
    query_id = call.params.str("callback_query_id")
    query = call.world.callback_queries.get(query_id)
    if (query is None or query["bot_id"] != call.bot.id or query["answered"]
            or call.world.now() - query["date"] > CALLBACK_QUERY_TTL):
        raise bad_request("query is too old and response timeout expired or query ID is invalid")
    query["answered"] = True
    query["answer"] = {"text": call.params.str("text"), "show_alert": call.params.bool("show_alert"),
                       "url": call.params.str("url") or None}
    return True


# --- methods: chats and members -------------------------------------------------------------------


def get_chat(call: Call) -> Any:
    chat = resolve_chat(call, "read")
    return call.world.chat_full_dict(chat, call.bot)


def get_chat_member(call: Call) -> Any:
    chat = resolve_chat(call, "read")
    user_id = _user_id(call.params)
    _known_user(call, user_id)
    world = call.world
    if chat.type == "private":
        status = "member" if user_id in (chat.user_id, call.bot.id) else "left"
        return {"user": world.user_dict(user_id), "status": status}
    return world.member_dict(chat, world.member(chat, user_id), call.bot)


def get_chat_administrators(call: Call) -> Any:
    chat = resolve_chat(call, "read")
    if chat.type == "private":
        raise bad_request("there are no administrators in the private chat")
    world = call.world
    admins = []
    for user_id in list(chat.members):
        member = world.member(chat, user_id)
        if not member.is_admin:
            continue
        if world.users[user_id].is_bot and user_id != call.bot.id:
            continue  # other bots are not listed
        admins.append(world.member_dict(chat, member, call.bot))
    admins.sort(key=lambda m: m["status"] != "creator")
    return admins


def get_chat_member_count(call: Call) -> Any:
    chat = resolve_chat(call, "read")
    world = call.world
    if chat.type == "private":
        return 1 + (chat.user_id != call.bot.id)
    if chat.type == "group" and not world.member(chat, call.bot.id).present:
        raise forbidden("bot is not a member of the group chat")
    return sum(1 for user_id in list(chat.members) if world.member(chat, user_id).present)


def leave_chat(call: Call) -> Any:
    chat = resolve_chat(call, "read")
    if chat.type == "private":
        raise bad_request("chat member status can't be changed in private chats")
    world = call.world
    me = world.member(chat, call.bot.id)
    if not me.present:
        raise forbidden(f"bot is not a member of the {'group' if chat.type == 'group' else 'supergroup'} chat")
    _set_member(call, chat, call.bot.id, Member(user_id=call.bot.id, status="left"))
    return True


def ban_chat_member(call: Call) -> Any:
    chat = resolve_chat(call, "write")
    p, world = call.params, call.world
    user_id = _user_id(p)
    until_date = p.int("until_date")
    if chat.type == "private":
        raise bad_request("chat member status can't be changed in private chats")
    target_user = _known_user(call, user_id, "PARTICIPANT_ID_INVALID")
    old = world.member(chat, user_id)
    me = world.member(chat, call.bot.id)
    if chat.type == "group":
        if user_id == call.bot.id:
            raise bad_request("can't restrict self")
        if old.present and old.is_admin:
            raise bad_request("only the creator of a basic group can kick group administrators")
        if not me.is_admin and old.invited_by != call.bot.id:
            raise bad_request("need to be inviter of a user to kick it from a basic group")
        if not old.present:
            raise bad_request("USER_NOT_PARTICIPANT")
        status = "kicked" if target_user.is_bot else "left"
        _set_member(call, chat, user_id, Member(user_id=user_id, status=status))
        return True
    if old.status == "creator":
        raise bad_request("can't remove chat owner")
    if user_id == call.bot.id:
        raise bad_request("can't restrict self")
    if not world.rights_of(chat, me)["can_restrict_members"]:
        raise bad_request("not enough rights to restrict/unrestrict chat member")
    if old.status == "administrator" and not _can_edit_admin(call, old):
        raise bad_request("user is an administrator of the chat")
    _set_member(call, chat, user_id,
                Member(user_id=user_id, status="kicked", until_date=world.normalize_until(until_date)))
    return True


def unban_chat_member(call: Call) -> Any:
    chat = resolve_chat(call, "write")
    p, world = call.params, call.world
    user_id = _user_id(p)
    if chat.type != "supergroup":
        raise bad_request("method is available for supergroup and channel chats only")
    old = world.member(chat, user_id)
    if p.bool("only_if_banned") and old.status != "kicked":
        return True
    _known_user(call, user_id, "PARTICIPANT_ID_INVALID")
    if old.status == "left":
        return True
    if old.status == "creator":
        raise bad_request("can't remove chat owner")
    if not _rights(call, chat)["can_restrict_members"] and user_id != call.bot.id:
        raise bad_request("not enough rights to restrict/unrestrict chat member")
    if old.status == "administrator" and not _can_edit_admin(call, old) and user_id != call.bot.id:
        raise bad_request("user is an administrator of the chat")
    # Telegram's well-known trap: unbanning someone who is in the chat removes them from it.
    _set_member(call, chat, user_id, Member(user_id=user_id, status="left"))
    return True


def _permissions(call: Call) -> dict[str, bool]:
    p = call.params
    raw = p.json("permissions", "permissions")
    if raw is None:
        raw = {name: p.bool(name) for name in PERMISSION_FIELDS if name in p.data}
    if not isinstance(raw, dict):
        raise bad_request("can't parse permissions JSON object")
    permissions = {name: bool(raw.get(name, False)) for name in PERMISSION_FIELDS}
    if not p.bool("use_independent_chat_permissions"):
        if permissions["can_send_other_messages"] or permissions["can_add_web_page_previews"]:
            permissions["can_send_messages"] = True
            for name in MEDIA_PERMISSIONS:
                permissions[name] = True
        if permissions["can_send_polls"]:
            permissions["can_send_messages"] = True
    return permissions


def restrict_chat_member(call: Call) -> Any:
    chat = resolve_chat(call, "write")
    p, world = call.params, call.world
    user_id = _user_id(p)
    until_date = p.int("until_date")
    permissions = _permissions(call)
    if chat.type != "supergroup":
        raise bad_request("method is available only for supergroups")
    _known_user(call, user_id)
    old = world.member(chat, user_id)
    if old.status == "creator":
        raise bad_request("can't remove chat owner")
    if user_id == call.bot.id:
        raise bad_request("can't restrict self")
    if not _rights(call, chat)["can_restrict_members"]:
        raise bad_request("not enough rights to restrict/unrestrict chat member")
    if old.status == "administrator" and not _can_edit_admin(call, old):
        raise bad_request("user is an administrator of the chat")
    present = old.present
    if all(permissions.values()):
        new = Member(user_id=user_id, status="member" if present else "left", invited_by=old.invited_by)
    else:
        new = Member(user_id=user_id, status="restricted", is_member=present, permissions=permissions,
                     until_date=world.normalize_until(until_date), invited_by=old.invited_by)
    _set_member(call, chat, user_id, new)
    return True


def set_chat_permissions(call: Call) -> Any:
    chat = resolve_chat(call, "write")
    permissions = _permissions(call)
    if chat.type == "private":
        raise bad_request("method is not available for private chats")
    if not _rights(call, chat)["can_restrict_members"]:
        raise bad_request("not enough rights to change chat permissions")
    chat.permissions = permissions
    return True


def promote_chat_member(call: Call) -> Any:
    chat = resolve_chat(call, "write")
    p, world = call.params, call.world
    user_id = _user_id(p)
    wanted = {name: p.bool(name) for name in ADMIN_RIGHTS}
    is_anonymous = p.bool("is_anonymous")
    if chat.type != "supergroup":
        raise bad_request("method is available for supergroup and channel chats only")
    _known_user(call, user_id)
    old = world.member(chat, user_id)
    promoting = any(wanted.values()) or is_anonymous
    if old.status == "creator":
        raise bad_request("can't remove chat owner")
    if user_id == call.bot.id:
        if promoting:
            raise bad_request("can't promote self")
    else:
        mine = _rights(call, chat)
        if not mine["can_promote_members"]:
            raise bad_request("not enough rights")
        if old.status == "administrator" and not _can_edit_admin(call, old):
            raise bad_request("CHAT_ADMIN_REQUIRED")
        if not old.present:
            raise bad_request("USER_NOT_PARTICIPANT")
        if any(value and not mine.get(right) for right, value in wanted.items()):
            raise bad_request("RIGHT_FORBIDDEN")
    if not promoting:
        new = Member(user_id=user_id, status="member", invited_by=old.invited_by)
    else:
        if any(v for k, v in wanted.items() if k != "can_manage_chat"):
            wanted["can_manage_chat"] = True
        new = Member(user_id=user_id, status="administrator", rights=wanted, is_anonymous=is_anonymous,
                     custom_title=old.custom_title if old.status == "administrator" else None,
                     promoted_by=call.bot.id, invited_by=old.invited_by)
    _set_member(call, chat, user_id, new)
    return True


def set_chat_administrator_custom_title(call: Call) -> Any:
    chat = resolve_chat(call, "write")
    p, world = call.params, call.world
    user_id = _user_id(p)
    if chat.type != "supergroup":
        raise bad_request("method is available only for supergroups")
    _known_user(call, user_id)
    old = world.member(chat, user_id)
    if old.status == "creator":
        raise bad_request("only creator can edit their custom title")
    if old.status != "administrator":
        raise bad_request("user is not an administrator")
    if not _can_edit_admin(call, old):
        raise bad_request("not enough rights to change custom title of the user")
    title = p.str("custom_title")
    if len(title) > 16:
        raise bad_request("ADMIN_RANK_INVALID")
    new = old.copy()
    new.custom_title = title or None
    _set_member(call, chat, user_id, new)
    return True


# --- getUpdates (long polling) ---------------------------------------------------------------------


async def get_updates(world: World, bot: Bot, p: Params) -> Any:
    """Long polling with Telegram's semantics: offset confirms, negative offset keeps the tail,
    a newer getUpdates or a webhook cuts off a waiting one with 409."""
    with world.lock:
        if bot.webhook_url:
            raise conflict(WEBHOOK_CONFLICT)
        offset = p.int("offset")
        limit = max(1, min(100, p.int("limit", 100) or 100))
        timeout = max(0, min(LONG_POLL_MAX_TIMEOUT, p.int("timeout")))
        _allowed_updates(Call(world, bot, p))
        bot.poll_generation += 1
        generation = bot.poll_generation
        if offset > 0:
            bot.updates[:] = [u for u in bot.updates if u["update_id"] >= offset]
        elif offset < 0:
            bot.updates[:] = bot.updates[offset:]
        bot.polling += 1
        bot.last_poll_at = world.now_float()
    world.notifier.notify()
    try:
        return await _poll(world, bot, generation, limit, time.monotonic() + timeout)
    finally:
        with world.lock:
            bot.polling -= 1
            bot.last_poll_at = world.now_float()


async def _poll(world: World, bot: Bot, generation: int, limit: int, deadline: float) -> list[dict[str, Any]]:
    while True:
        version = world.notifier.version
        with world.lock:
            if world.bots.get(bot.token) is not bot:
                return []
            if bot.poll_generation != generation:
                raise conflict(WEBHOOK_CONFLICT if bot.webhook_url else POLL_CONFLICT)
            if bot.updates:
                batch = [dict(u) for u in bot.updates[:limit]]
                bot.delivered += len(batch)
                return batch
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return []
        await world.notifier.wait_async(version, remaining)


# --- dispatch ------------------------------------------------------------------------------------

METHODS = {
    name.lower(): (name, handler)
    for name, handler in [
        ("getMe", get_me),
        ("logOut", log_out),
        ("close", log_out),
        ("setWebhook", set_webhook),
        ("deleteWebhook", delete_webhook),
        ("getWebhookInfo", get_webhook_info),
        ("sendMessage", send_message),
        ("sendChatAction", send_chat_action),
        ("forwardMessage", forward_message),
        ("copyMessage", copy_message),
        ("editMessageText", edit_message_text),
        ("editMessageReplyMarkup", edit_message_reply_markup),
        ("deleteMessage", delete_message),
        ("deleteMessages", delete_messages),
        ("banChatMember", ban_chat_member),
        ("kickChatMember", ban_chat_member),
        ("unbanChatMember", unban_chat_member),
        ("restrictChatMember", restrict_chat_member),
        ("promoteChatMember", promote_chat_member),
        ("setChatAdministratorCustomTitle", set_chat_administrator_custom_title),
        ("setChatPermissions", set_chat_permissions),
        ("pinChatMessage", pin_chat_message),
        ("unpinChatMessage", unpin_chat_message),
        ("unpinAllChatMessages", unpin_all_chat_messages),
        ("getChat", get_chat),
        ("getChatMember", get_chat_member),
        ("getChatAdministrators", get_chat_administrators),
        ("getChatMemberCount", get_chat_member_count),
        ("getChatMembersCount", get_chat_member_count),
        ("leaveChat", leave_chat),
        ("setMyCommands", set_my_commands),
        ("getMyCommands", get_my_commands),
        ("deleteMyCommands", delete_my_commands),
        ("answerCallbackQuery", answer_callback_query),
        ("getUpdates", None),
    ]
}


def readable_params(data: dict[str, Any]) -> dict[str, Any]:
    """Parameters for the call log: JSON-encoded objects decoded, internal keys dropped."""
    result = {}
    for key, value in data.items():
        if key.startswith("_"):
            continue
        if isinstance(value, str) and value[:1] in "[{":
            with contextlib.suppress(ValueError):
                value = json.loads(value)
        result[key] = value
    return result


async def handle(world: World, token: str, method: str, data: dict[str, Any], *, via: str = "http"):
    """Run one Bot API request. Returns ``(http_status, response_body)``; logs every call of a known bot."""
    if not TOKEN_RE.match(token):
        return 404, not_found().to_dict()
    with world.lock:
        bot = world.bots.get(token)
    if bot is None:
        return 401, unauthorized().to_dict()
    entry = METHODS.get(method.lower())
    if entry is None:
        return 404, not_found().to_dict()
    name, handler = entry
    params = Params(dict(data))
    logged = readable_params(data)
    try:
        with world.lock:
            fault = world.take_fault(name, params.str("chat_id"))
        if fault is not None:
            raise BotApiError(fault.error_code, fault.description, fault.parameters)
        if handler is None:
            result = await get_updates(world, bot, params)
        else:
            with world.lock:
                result = handler(Call(world, bot, params))
    except BotApiError as error:
        world.record_call(bot, name, logged, error=error, via=via)
        return error.error_code, error.to_dict()
    description = None
    if isinstance(result, Answer):
        result, description = result.result, result.description
    world.record_call(bot, name, logged, result=result, via=via)
    body: dict[str, Any] = {"ok": True, "result": result}
    if description:
        body["description"] = description
    return 200, body
