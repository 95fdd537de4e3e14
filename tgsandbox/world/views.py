"""The world's objects in the Bot API's shapes: User, ChatMember, Message, ChatFullInfo; and a file's bytes."""

from __future__ import annotations

import base64
from typing import Any

from ..errors import SandboxError
from .model import PERMISSION_FIELDS, SERVICE_ACCOUNTS, Bot, Chat, Member, Message


class Serialization:
    """Mixin of :class:`~tgsandbox.world.World`: its state as JSON-ready Bot API objects."""

    def user_dict(self, user_id: int) -> dict[str, Any]:
        if user_id in SERVICE_ACCOUNTS:
            return dict(SERVICE_ACCOUNTS[user_id])
        return self.users[user_id].to_dict()

    def member_dict(self, chat: Chat, member: Member, viewer: Bot | None = None) -> dict[str, Any]:
        data: dict[str, Any] = {"user": self.user_dict(member.user_id), "status": member.status}
        if member.status == "creator":
            data["is_anonymous"] = member.is_anonymous
            if member.custom_title:
                data["custom_title"] = member.custom_title
        elif member.status == "administrator":
            can_be_edited = chat.type == "supergroup" and viewer is not None and member.promoted_by == viewer.id
            data["can_be_edited"] = can_be_edited
            data["is_anonymous"] = member.is_anonymous
            data.update(self.rights_of(chat, member))
            if member.custom_title:
                data["custom_title"] = member.custom_title
        elif member.status == "restricted":
            data["is_member"] = member.is_member
            data.update({name: bool(member.permissions.get(name)) for name in PERMISSION_FIELDS})
            data["until_date"] = member.until_date
        elif member.status == "kicked":
            data["until_date"] = member.until_date
        return data

    def file_info(self, file_id: str) -> dict[str, Any]:
        """A file and what it holds: ``kind``, ``file_name``, ``mime_type``, ``file_size``, ``uploaded`` (a bot sent
        its bytes), ``text`` (the bytes as UTF-8, or None) and ``content_base64``."""
        with self.lock:
            found = self.files.find(file_id)
            if found is None:
                raise SandboxError(f"unknown file_id {file_id!r}", 404)
            described = self.files.described(file_id)
            data = self.files.content(file_id)
            uploaded = file_id in self.files.contents
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        return {"file_id": file_id, "kind": found[0], "file_name": described.get("file_name"),
                "mime_type": described.get("mime_type"), "file_size": len(data), "uploaded": uploaded,
                "text": text if uploaded else None, "content_base64": base64.b64encode(data).decode("ascii")}

    def message_dict(self, message: Message, *, nested: bool = True) -> dict[str, Any]:
        chat = self._chat_of(message)
        data: dict[str, Any] = {"message_id": message.message_id}
        if chat.type == "channel":  # a channel post names the channel as its sender, never a person or bot
            data["sender_chat"] = chat.short_dict(self)
        else:
            if message.from_id is not None:
                data["from"] = self.user_dict(message.from_id)
            if message.sender_chat_id is not None:
                data["sender_chat"] = self._chat_by_id(message.sender_chat_id).short_dict(self)
        data["chat"] = chat.short_dict(self)
        data["date"] = message.date
        if message.edit_date:
            data["edit_date"] = message.edit_date
        if message.author_signature:
            data["author_signature"] = message.author_signature
        if message.forward_origin:
            data["forward_origin"] = message.forward_origin
        if nested and message.reply_to is not None and message.reply_to in chat.messages:
            data["reply_to_message"] = self.message_dict(chat.messages[message.reply_to], nested=False)
        if message.text is not None:
            data["text"] = message.text
            if message.entities:
                data["entities"] = message.entities
        data.update(message.content)
        if message.caption is not None:
            data["caption"] = message.caption
            if message.caption_entities:
                data["caption_entities"] = message.caption_entities
        for key, value in message.service.items():
            if key in ("new_chat_members",):
                users = [self.user_dict(uid) for uid in value]
                data["new_chat_participant"] = users[0]
                data["new_chat_member"] = users[0]
                data["new_chat_members"] = users
            elif key == "left_chat_member":
                data["left_chat_participant"] = self.user_dict(value)
                data["left_chat_member"] = self.user_dict(value)
            elif key == "pinned_message":
                if nested and value in chat.messages:
                    data["pinned_message"] = self.message_dict(chat.messages[value], nested=False)
            else:
                data[key] = value
        if message.reply_markup:
            data["reply_markup"] = message.reply_markup
        return data

    def chat_full_dict(self, chat: Chat, viewer: Bot | None = None) -> dict[str, Any]:
        data = chat.short_dict(self)
        data.pop("all_members_are_administrators", None)
        data["accent_color_id"] = chat.id % 7 if chat.type != "private" else chat.user_id % 7
        data["max_reaction_count"] = 11
        data["accepted_gift_types"] = {
            "unlimited_gifts": chat.type == "private", "limited_gifts": chat.type == "private",
            "unique_gifts": chat.type == "private", "premium_subscription": chat.type == "private",
            "gifts_from_channels": chat.type == "private",
        }
        if chat.username:
            data["active_usernames"] = [chat.username]
        if chat.description:
            data["description"] = chat.description
        if chat.is_group:
            data["permissions"] = dict(chat.permissions)
            if chat.type == "supergroup" and chat.migrated_from:
                data["has_visible_history"] = True
        if chat.pinned and chat.pinned[-1] in chat.messages:
            data["pinned_message"] = self.message_dict(chat.messages[chat.pinned[-1]], nested=False)
        return data

    def _chat_by_id(self, chat_id: int) -> Chat:
        return self.chats[chat_id]

    def _chat_of(self, message: Message) -> Chat:
        chat = self.chats.get(message.chat_id)
        if chat is not None:
            return chat
        for private in self.private.values():
            if private.id == message.chat_id and private.messages.get(message.message_id) is message:
                return private
        raise KeyError(message.chat_id)

