"""Bot API methods that send content: sendPhoto, sendVideo, sendAnimation, sendAudio, sendVoice, sendVideoNote,
sendDocument, sendSticker (a file_id of a known file, an HTTP URL, or an uploaded file), sendDice; getFile; and
banChatSenderChat / unbanChatSenderChat.

An uploaded file (a multipart part with a filename, named by the parameter or by ``attach://<part>``) keeps its
bytes, name and type: the control API (``GET /sandbox/files/{file_id}``) and getFile + the file URL read it back.

A file_id must name a file the world knows (``wrong file identifier/HTTP URL specified``) of a kind the method
takes (``type of file mismatch``); a gif's file (an Animation, whose Document has the same file) may be sent with
sendAnimation or sendDocument, and comes back as a gif either way, as on Telegram.
"""

from __future__ import annotations

from typing import Any

from ..content import (
    CAPTIONED,
    DICE_EMOJI,
    MAX_CAPTION_LENGTH,
    PERMISSION_FOR,
    PERMISSION_WORDS,
    media_fields,
    other_content,
)
from ..entities import utf16_len
from ..errors import bad_request
from ..markup import render_text
from .checks import (
    bot_rights,
    check_can_send,
    deliver_bot_message,
    parse_reply_markup,
    parse_reply_to,
    resolve_chat,
)
from .params import Call

# The kinds of stored file each method accepts as a file_id.
ACCEPTS = {
    "photo": ("photo",), "video": ("video",), "animation": ("animation",), "audio": ("audio",),
    "voice": ("voice",), "video_note": ("video_note",), "sticker": ("sticker",),
    "document": ("document", "animation"),
}


# Bots download files of up to 20 MB (getFile); they upload up to 50 MB (the request size limit).
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024


def _file(call: Call, kind: str) -> dict[str, Any]:
    """The Message fields for the file the call names in its ``kind`` parameter."""
    files = call.world.files
    upload = call.params.upload(kind)
    if upload is not None:
        if not upload.data:
            raise bad_request("file must be non-empty")
        return media_fields(kind, files.upload(kind, upload))
    value = call.params.str(kind).strip()
    if not value:
        raise bad_request(f"there is no {kind.replace('_', ' ')} in the request")
    if value.startswith(("http://", "https://", "<file ", "attach://")):
        return media_fields(kind, files.make(kind))  # a URL Telegram downloads, or an upload
    found = files.find(value)
    if found is None:
        raise bad_request("wrong file identifier/HTTP URL specified")
    stored_kind, media = found
    if stored_kind not in ACCEPTS[kind]:
        raise bad_request("type of file mismatch")
    if kind == "photo":
        return {"photo": media}
    return media_fields(stored_kind, media)


def parse_caption(call: Call) -> tuple[str | None, list[dict[str, Any]]]:
    p = call.params
    entities = p.json("caption_entities", "caption entities")
    if entities is not None and not isinstance(entities, list):
        raise bad_request("can't parse entities JSON object")
    plain, found = render_text(p.str("caption"), p.str("parse_mode") or None, entities)
    if utf16_len(plain) > MAX_CAPTION_LENGTH:
        raise bad_request("message caption is too long")
    return (plain, found) if plain else (None, [])


def check_can_send_kind(call: Call, chat: Any, kind: str) -> None:
    """Text rights first (as the server checks), then the kind's own ChatPermissions right."""
    check_can_send(call, chat)
    if chat.is_group:
        me = call.world.member(chat, call.bot.id)
        if not call.world.permissions_of(chat, me)[PERMISSION_FOR[kind]]:
            if kind == "animation":
                raise bad_request("CHAT_SEND_GIFS_FORBIDDEN")
            raise bad_request(f"not enough rights to send {PERMISSION_WORDS.get(kind, kind)} to the chat")


def _sender(kind: str):
    def send(call: Call) -> Any:
        chat = resolve_chat(call, "write")
        check_can_send_kind(call, chat, kind)
        fields = _file(call, kind)
        caption, caption_entities = parse_caption(call) if kind in CAPTIONED else (None, [])
        if kind == "sticker" and call.params.has("emoji"):
            fields["sticker"] = {**fields["sticker"], "emoji": call.params.str("emoji")}
        for flag in ("has_spoiler", "show_caption_above_media"):
            if call.params.bool(flag) and kind in ("photo", "video", "animation"):
                fields["has_media_spoiler" if flag == "has_spoiler" else flag] = True
        reply_to = parse_reply_to(call, chat)
        message = deliver_bot_message(call, chat, content=fields, caption=caption,
                                      caption_entities=caption_entities, reply_to=reply_to,
                                      reply_markup=parse_reply_markup(call))
        return call.world.message_dict(message)

    send.__name__ = f"send_{kind}"
    return send


send_photo = _sender("photo")
send_video = _sender("video")
send_animation = _sender("animation")
send_audio = _sender("audio")
send_voice = _sender("voice")
send_video_note = _sender("video_note")
send_document = _sender("document")
send_sticker = _sender("sticker")


def get_file(call: Call) -> Any:
    """A File: its id, size and the ``file_path`` to download it from (``/file/bot<token>/<file_path>``)."""
    file_id = call.params.str("file_id").strip()
    described = call.world.files.described(file_id) if file_id else None
    if described is None:
        raise bad_request("invalid file_id")
    size = len(call.world.files.content(file_id)) if file_id in call.world.files.contents else described.get(
        "file_size", 0)
    if size > MAX_DOWNLOAD_BYTES:
        raise bad_request("file is too big")
    result = {"file_id": file_id, "file_unique_id": described["file_unique_id"]}
    if size:
        result["file_size"] = size
    result["file_path"] = call.world.files.path_of(file_id)
    return result


def send_dice(call: Call) -> Any:
    chat = resolve_chat(call, "write")
    check_can_send_kind(call, chat, "dice")
    emoji = call.params.str("emoji") or "🎲"
    if emoji not in DICE_EMOJI:
        raise bad_request("wrong parameter emoji in request")
    fields = other_content("dice", {"emoji": emoji}, world_ids=call.world.content_ids, files=call.world.files)
    message = deliver_bot_message(call, chat, content=fields, reply_to=parse_reply_to(call, chat),
                                  reply_markup=parse_reply_markup(call))
    return call.world.message_dict(message)


# --- sender chats (people posting as a channel) ----------------------------------------------------------------


def _sender_chat(call: Call) -> tuple[Any, int]:
    chat = resolve_chat(call, "write")
    sender_chat_id = call.params.int("sender_chat_id")
    if chat.type not in ("supergroup", "channel"):
        raise bad_request("method is available for supergroup and channel chats only")
    if not sender_chat_id:
        raise bad_request("sender_chat_id is not specified")
    if not bot_rights(call, chat).get("can_restrict_members"):
        raise bad_request("not enough rights to restrict/unrestrict chat member")
    if sender_chat_id == chat.id:
        raise bad_request("can't restrict self")
    if sender_chat_id > 0 or sender_chat_id not in call.world.chats:
        raise bad_request("chat not found")
    return chat, sender_chat_id


def ban_chat_sender_chat(call: Call) -> Any:
    """The channel can no longer post in the chat (as its owner's persona) until unbanned."""
    chat, sender_chat_id = _sender_chat(call)
    call.world.check_action_rate(call.bot)
    chat.banned_sender_chats.add(sender_chat_id)
    call.world.notifier.notify()
    return True


def unban_chat_sender_chat(call: Call) -> Any:
    chat, sender_chat_id = _sender_chat(call)
    chat.banned_sender_chats.discard(sender_chat_id)
    call.world.notifier.notify()
    return True
