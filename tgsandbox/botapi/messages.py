"""Bot API methods on messages: sendMessage, sendChatAction, forwardMessage, copyMessage, editMessageText,
editMessageReplyMarkup, deleteMessage, deleteMessages."""

from __future__ import annotations

from typing import Any

from ..errors import bad_request
from ..world.model import Chat, Message
from .checks import (
    check_can_send,
    deliver_bot_message,
    find_message,
    parse_message_id,
    parse_reply_markup,
    parse_reply_to,
    parse_text,
    resolve_chat,
)
from .media import parse_caption
from .params import Call

DELETE_WINDOW = 48 * 3600

CHAT_ACTIONS = {
    "typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
    "upload_document", "choose_sticker", "find_location", "record_video_note", "upload_video_note",
}


def send_message(call: Call) -> Any:
    chat = resolve_chat(call, "write")
    check_can_send(call, chat)
    text, entities = parse_text(call)
    reply_to = parse_reply_to(call, chat)
    markup = parse_reply_markup(call)
    message = deliver_bot_message(call, chat, text=text, entities=entities, reply_to=reply_to,
                                   reply_markup=markup)
    return call.world.message_dict(message)


def send_chat_action(call: Call) -> Any:
    chat = resolve_chat(call, "write")
    if call.params.str("action") not in CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")
    check_can_send(call, chat)
    return True


def _copy_source(call: Call, what: str) -> tuple[Chat, Message]:
    source_chat = resolve_chat(call, "read", name="from_chat_id")
    message_id = parse_message_id(call.params)
    if not message_id:
        raise bad_request("message identifier is not specified")
    return source_chat, find_message(source_chat, message_id, what)


def forward_message(call: Call) -> Any:
    _, original = _copy_source(call, "message to forward")
    chat = resolve_chat(call, "write")
    check_can_send(call, chat)
    if not original.has_content:
        raise bad_request("message can't be forwarded")
    world = call.world
    message = deliver_bot_message(call, chat, text=original.text, entities=list(original.entities),
                                   forward_origin=world.forward_origin_of(original), content=dict(original.content),
                                   caption=original.caption, caption_entities=list(original.caption_entities),
                                   reply_markup=original.reply_markup)
    return world.message_dict(message)


def copy_message(call: Call) -> Any:
    """A copy without the link to the original; ``caption``/``caption_entities``/``parse_mode`` replace a media
    message's caption, ``reply_markup`` its buttons."""
    _, original = _copy_source(call, "message to copy")
    chat = resolve_chat(call, "write")
    check_can_send(call, chat)
    if not original.has_content:
        raise bad_request("message can't be copied")
    content = {key: value for key, value in original.content.items() if key not in ("via_bot", "is_automatic_forward")}
    caption, caption_entities = original.caption, list(original.caption_entities)
    if original.text is None and call.params.has("caption"):
        caption, caption_entities = parse_caption(call)
    reply_to = parse_reply_to(call, chat)
    markup = parse_reply_markup(call) if call.params.has("reply_markup") else original.reply_markup
    message = deliver_bot_message(call, chat, text=original.text, entities=list(original.entities),
                                   content=content, caption=caption, caption_entities=caption_entities,
                                   reply_to=reply_to, reply_markup=markup)
    return {"message_id": message.message_id}


def edit_message_text(call: Call) -> Any:
    p = call.params
    if p.has("inline_message_id") and not p.has("chat_id"):
        raise bad_request("inline messages are not supported by the sandbox")
    chat = resolve_chat(call, "write")
    message_id = parse_message_id(p)
    if not message_id:
        raise bad_request("message identifier is not specified")
    message = find_message(chat, message_id, "message to edit")
    if message.from_id != call.bot.id or message.is_service:
        raise bad_request("message can't be edited")
    text, entities = parse_text(call)
    markup = parse_reply_markup(call)
    if text == message.text and entities == message.entities and markup == message.reply_markup:
        raise bad_request("message is not modified: specified new message content and reply markup are exactly "
                          "the same as a current content and reply markup of the message")
    message.text, message.entities, message.reply_markup = text, entities, markup
    message.edit_date = call.world.now()
    call.world.notifier.notify()
    return call.world.message_dict(message)


def edit_message_reply_markup(call: Call) -> Any:
    chat = resolve_chat(call, "write")
    message_id = parse_message_id(call.params)
    if not message_id:
        raise bad_request("message identifier is not specified")
    message = find_message(chat, message_id, "message to edit")
    if message.from_id != call.bot.id:
        raise bad_request("message can't be edited")
    markup = parse_reply_markup(call)
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
    call.world.check_action_rate(call.bot)
    message_id = parse_message_id(call.params)
    if not message_id:
        raise bad_request("message identifier is not specified")
    message = find_message(chat, message_id, "message to delete")
    _check_deletable(call, chat, message)
    _delete(call, chat, message)
    return True


def delete_messages(call: Call) -> Any:
    chat = resolve_chat(call, "write")
    call.world.check_action_rate(call.bot)
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
