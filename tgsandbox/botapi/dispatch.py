"""Running one Bot API request: the token, the method table, injected faults, the call log, the envelope.

:data:`METHODS` is the table of every method the sandbox emulates: adding one is one entry. A plain
handler runs under the world's lock; an ``async`` one (getUpdates, which waits) takes the lock itself.
"""

from __future__ import annotations

import contextlib
import inspect
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..content import Upload
from ..errors import BotApiError, not_found, unauthorized
from ..world import World
from . import callbacks, chats, identity, media, messages, moderation, updates
from .params import Answer, Call, Params

TOKEN_RE = re.compile(r"^\d+:[\w-]+$")


@dataclass(frozen=True)
class BotMethod:
    name: str  # as the call log shows it (the first spelling in the table)
    handler: Callable[[Call], Any]

    @property
    def waits(self) -> bool:
        return inspect.iscoroutinefunction(self.handler)


def _table(*entries: tuple[str | tuple[str, ...], Callable[[Call], Any]]) -> dict[str, BotMethod]:
    """Method names are case-insensitive; a tuple of names is a method with its older aliases."""
    table = {}
    for names, handler in entries:
        for name in (names,) if isinstance(names, str) else names:
            table[name.lower()] = BotMethod(name, handler)
    return table


METHODS = _table(
    ("getMe", identity.get_me),
    ("logOut", identity.log_out),
    ("close", identity.log_out),
    ("setMyCommands", identity.set_my_commands),
    ("getMyCommands", identity.get_my_commands),
    ("deleteMyCommands", identity.delete_my_commands),
    ("setWebhook", updates.set_webhook),
    ("deleteWebhook", updates.delete_webhook),
    ("getWebhookInfo", updates.get_webhook_info),
    ("getUpdates", updates.get_updates),
    ("sendMessage", messages.send_message),
    ("sendChatAction", messages.send_chat_action),
    ("forwardMessage", messages.forward_message),
    ("copyMessage", messages.copy_message),
    ("sendPhoto", media.send_photo),
    ("sendVideo", media.send_video),
    ("sendAnimation", media.send_animation),
    ("sendAudio", media.send_audio),
    ("sendVoice", media.send_voice),
    ("sendVideoNote", media.send_video_note),
    ("sendDocument", media.send_document),
    ("sendSticker", media.send_sticker),
    ("getFile", media.get_file),
    ("sendDice", media.send_dice),
    ("editMessageText", messages.edit_message_text),
    ("editMessageReplyMarkup", messages.edit_message_reply_markup),
    ("deleteMessage", messages.delete_message),
    ("deleteMessages", messages.delete_messages),
    (("banChatMember", "kickChatMember"), moderation.ban_chat_member),
    ("unbanChatMember", moderation.unban_chat_member),
    ("restrictChatMember", moderation.restrict_chat_member),
    ("promoteChatMember", moderation.promote_chat_member),
    ("setChatAdministratorCustomTitle", moderation.set_chat_administrator_custom_title),
    ("setChatPermissions", moderation.set_chat_permissions),
    ("banChatSenderChat", media.ban_chat_sender_chat),
    ("unbanChatSenderChat", media.unban_chat_sender_chat),
    ("pinChatMessage", chats.pin_chat_message),
    ("unpinChatMessage", chats.unpin_chat_message),
    ("unpinAllChatMessages", chats.unpin_all_chat_messages),
    ("getChat", chats.get_chat),
    ("getChatMember", chats.get_chat_member),
    ("getChatAdministrators", chats.get_chat_administrators),
    (("getChatMemberCount", "getChatMembersCount"), chats.get_chat_member_count),
    ("leaveChat", chats.leave_chat),
    ("answerCallbackQuery", callbacks.answer_callback_query),
)


def readable_params(data: dict[str, Any]) -> dict[str, Any]:
    """Parameters for the call log: JSON-encoded objects decoded, internal keys dropped."""
    result = {}
    for key, value in data.items():
        if key.startswith("_"):
            continue
        if isinstance(value, Upload):
            value = str(value)
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
    name = entry.name
    params = Params(dict(data))
    logged = readable_params(data)
    try:
        with world.lock:
            fault = world.take_fault(name, params.str("chat_id"))
        if fault is not None:
            raise BotApiError(fault.error_code, fault.description, fault.parameters)
        if entry.waits:
            result = await entry.handler(Call(world, bot, params))
        else:
            with world.lock:
                result = entry.handler(Call(world, bot, params))
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
