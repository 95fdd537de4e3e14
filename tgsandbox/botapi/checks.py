"""Checks and parameter readers the Bot API methods share: which chat the bot may see or act in,
the user and message a call names, text with entities, reply parameters and markup, flood limits.
"""

from __future__ import annotations

from typing import Any

from ..entities import utf16_len
from ..errors import bad_request, forbidden
from ..markup import render_text
from ..world.model import Chat, Member, Message
from .params import Call, Params

MAX_TEXT_LENGTH = 4096

def parse_user_id(p: Params) -> int:
    user_id = p.int("user_id")
    if user_id <= 0:
        raise bad_request("invalid user_id specified")
    return user_id


def parse_message_id(p: Params, name: str = "message_id") -> int:
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
        kind = "channel" if chat.type == "channel" else "supergroup"
        if me.status == "kicked":
            raise forbidden(f"bot was kicked from the {kind} chat")
        if access == "write" and not me.present:
            raise forbidden(f"bot is not a member of the {kind} chat")
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


def known_user(call: Call, user_id: int, error: str = "user not found"):
    user = call.world.users.get(user_id)
    if user is None:
        raise bad_request(error)
    return user


def bot_rights(call: Call, chat: Chat) -> dict[str, bool]:
    return call.world.rights_of(chat, call.world.member(chat, call.bot.id))


def bot_can_edit(call: Call, target: Member) -> bool:
    return target.status == "administrator" and target.promoted_by == call.bot.id


def find_message(chat: Chat, message_id: int, what: str) -> Message:
    message = chat.messages.get(message_id)
    if message is None:
        raise bad_request(f"{what} not found")
    return message


def set_member(call: Call, chat: Chat, user_id: int, new: Member) -> None:
    world = call.world
    old = world.member(chat, user_id).copy()
    chat.members[user_id] = new
    world._member_changed(chat, user_id, old, new, call.bot.id)
    if old.present and not new.present:
        world._service(chat, call.bot.id, skip=call.bot.id, left_chat_member=user_id)


def parse_text(call: Call, text_param: str = "text") -> tuple[str, list[dict[str, Any]]]:
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


def parse_reply_to(call: Call, chat: Chat) -> int | None:
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


def parse_reply_markup(call: Call) -> dict[str, Any] | None:
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
        for row in rows:
            for button in row:
                _check_inline_button(button)
        return markup
    return None  # reply keyboards and ForceReply are not part of the Message object


# What an inline button does; exactly one (the Bot API server takes the first it finds).
INLINE_BUTTON_ACTIONS = ("url", "callback_data", "web_app", "login_url", "switch_inline_query",
                         "switch_inline_query_current_chat", "switch_inline_query_chosen_chat", "copy_text",
                         "callback_game", "pay")
MAX_CALLBACK_DATA_BYTES = 64


def _check_inline_button(button: Any) -> None:
    """InlineKeyboardButton as the Bot API server parses it: a string text, an action; callback_data 1-64 bytes
    (longer: BUTTON_DATA_INVALID; empty counts as no action)."""
    if not isinstance(button, dict):
        raise bad_request("can't parse inline keyboard button: InlineKeyboardButton must be an Object")
    if "text" not in button:
        raise bad_request('can\'t parse inline keyboard button: Can\'t find field "text"')
    if not isinstance(button["text"], str):
        raise bad_request('can\'t parse inline keyboard button: Field "text" must be of type String')
    if "callback_data" in button:
        data = button["callback_data"]
        if not isinstance(data, str):
            raise bad_request('can\'t parse inline keyboard button: Field "callback_data" must be of type String')
        if len(data.encode("utf-8")) > MAX_CALLBACK_DATA_BYTES:
            raise bad_request("BUTTON_DATA_INVALID")
    if not any(button.get(action) not in (None, "") for action in INLINE_BUTTON_ACTIONS):
        raise bad_request("can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard")


def check_can_send(call: Call, chat: Chat) -> None:
    if chat.type == "channel":
        if not bot_rights(call, chat).get("can_post_messages"):
            raise bad_request("need administrator rights in the channel chat")
        return
    if chat.is_group:
        me = call.world.member(chat, call.bot.id)
        if not call.world.permissions_of(chat, me)["can_send_messages"]:
            raise bad_request("not enough rights to send text messages to the chat")


def deliver_bot_message(call: Call, chat: Chat, **fields: Any) -> Message:
    world = call.world
    world.check_rate(call.bot, chat)
    message = world.add_message(chat, from_id=call.bot.id, **fields)
    world.count_sent(call.bot, chat)
    return message
