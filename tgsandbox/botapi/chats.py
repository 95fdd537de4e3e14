"""Bot API methods on a chat as a whole: getChat, getChatMember, getChatAdministrators, getChatMemberCount,
leaveChat, and pinned messages (pinChatMessage, unpinChatMessage, unpinAllChatMessages)."""

from __future__ import annotations

from typing import Any

from ..errors import bad_request, forbidden
from ..world.model import Chat, Member
from .checks import find_message, known_user, parse_message_id, parse_user_id, resolve_chat, set_member
from .params import Call


def get_chat(call: Call) -> Any:
    chat = resolve_chat(call, "read")
    return call.world.chat_full_dict(chat, call.bot)


def get_chat_member(call: Call) -> Any:
    chat = resolve_chat(call, "read")
    user_id = parse_user_id(call.params)
    known_user(call, user_id)
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
    set_member(call, chat, call.bot.id, Member(user_id=call.bot.id, status="left"))
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
    message = find_message(chat, parse_message_id(call.params), "message to pin")
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
    message_id = parse_message_id(call.params)
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
