"""Messages and the updates they cause: what people write, edit, delete and press, and who sees it.

Updates go into each bot's queue, filtered by its ``allowed_updates`` and by group privacy mode.
"""

from __future__ import annotations

import time
from typing import Any

from ..content import CAPTIONED, MEDIA_KINDS, PERMISSION_FOR, build_content, kind_of
from ..entities import entity_text
from ..errors import SandboxError
from ..markup import render_text
from .model import ANONYMOUS_ADMIN_ID, CHANNEL_BOT_ID, SERVICE_ACCOUNTS, TELEGRAM_ID, Bot, Chat, Message, User

# What Telegram answers a restricted member who sends this kind of content.
_FORBIDDEN_CODES = {"photo": "PHOTOS", "video": "VIDEOS", "audio": "AUDIOS", "document": "DOCS", "voice": "VOICES",
                    "video_note": "ROUNDVIDEOS", "poll": "POLL", "sticker": "STICKERS", "animation": "GIFS",
                    "game": "GAME", "dice": "STICKERS"}


class Messaging:
    """Mixin of :class:`~tgsandbox.world.World`: messages, update delivery, private chats with bots."""

    # --- updates ---

    def emit(self, bot: Bot, kind: str, payload: dict[str, Any]) -> dict[str, Any] | None:
        """Queue one update for a bot if its allowed_updates let it through."""
        if not bot.accepts(kind):
            return None
        update = {"update_id": bot.next_update_id, kind: payload}
        bot.next_update_id += 1
        bot.updates.append(update)
        self.notifier.notify()
        return update

    def _sees(self, bot: Bot, chat: Chat, message: Message) -> bool:
        """Whether a group message reaches the bot (privacy mode, as documented by Telegram)."""
        if message.from_id == bot.id:
            return False
        if chat.type == "private":
            return chat.bot_id == bot.id
        me = self.member(chat, bot.id)
        if not me.present:
            return False
        if me.is_admin or bot.can_read_all_group_messages or message.is_service:
            return True
        if message.reply_to is not None:
            replied = chat.messages.get(message.reply_to)
            if replied is not None and replied.from_id == bot.id:
                return True
        for entity in message.entities:
            if entity["type"] == "bot_command":
                command = entity_text(message.text or "", entity)
                target = command.partition("@")[2].lower()
                if not target or target == (bot.user.username or "").lower():
                    return True
            mentioned = entity_text(message.text or "", entity)[1:].lower()
            if entity["type"] == "mention" and mentioned == (bot.user.username or "").lower():
                return True
        return False

    def _deliver(self, chat: Chat, message: Message, kind: str = "message", skip: int | None = None) -> None:
        bots = [self.bots_by_id()[chat.bot_id]] if chat.type == "private" else self.chat_bots(chat)
        for bot in bots:
            if bot.id != skip and self._sees(bot, chat, message):
                self.emit(bot, kind, self.message_dict(message))


    # --- messages ---

    def add_message(self, chat: Chat, **fields: Any) -> Message:
        message = Message(message_id=chat.next_message_id, chat_id=chat.id, date=self.now(), **fields)
        chat.next_message_id += 1
        chat.messages[message.message_id] = message
        self.notifier.notify()
        return message

    def _service(self, chat: Chat, actor_id: int, deliver: bool = True, skip: int | None = None,
                 **service: Any) -> Message:
        message = self.add_message(chat, from_id=actor_id, service=service)
        if deliver:
            self._deliver(chat, message, skip=skip)
        return message

    # --- control: what people do in chats ---

    def send_message(self, chat: Any, user: Any, text: str | None = None, *, reply_to: int | None = None,
                     anonymous: bool | None = None, entities: list[dict[str, Any]] | None = None,
                     parse_mode: str | None = None, forward_origin: dict[str, Any] | None = None,
                     content: dict[str, Any] | None = None) -> Message:
        """``user`` writes ``text`` in a group (``chat``), or privately to a bot (``chat`` = the bot).

        Admins with ``is_anonymous`` post as the group (``from`` = @GroupAnonymousBot, ``sender_chat``
        = the group); ``anonymous=True`` forces that for any admin, ``False`` turns it off.

        ``content`` is anything else the message carries, in the Bot API's field names: one of photo, video,
        animation (a gif), sticker, audio, voice, video_note, document (``true``, an object of fields to set, or
        a known file_id), poll, contact, location, venue, game, dice; ``caption`` and ``caption_entities`` (with
        ``parse_mode``); ``via_bot`` (a bot: sent through its inline mode) and ``reply_markup`` (inline keyboard;
        only on messages via a bot or forwards, as on Telegram); ``sender_chat`` (a channel the person posts
        as: ``from`` = @Channel_Bot); ``is_automatic_forward`` (with ``sender_chat``: the linked channel's post
        forwarded to its group, ``from`` = Telegram 777000); ``has_media_spoiler``, ``show_caption_above_media``.
        ``forward_origin`` may be a MessageOrigin or ``{"type": "user"|"hidden_user"|"chat"|"channel", "user"|
        "name"|"chat": ..., "message_id"?}``.
        """
        with self.lock:
            sender = self.user(user)
            target_chat = self._chat_for_user_message(chat, sender)
            body = build_content(self, content or {}, text, entities, parse_mode)
            kind = body.kind
            if target_chat.type == "private":
                if target_chat.blocked:
                    target_chat.blocked = False
                    self._private_status(target_chat, "kicked", "member")
            else:
                member = self.member(target_chat, sender.id)
                if target_chat.migrated_to:
                    raise SandboxError(f"{target_chat.title} was upgraded; write in chat {target_chat.migrated_to}")
                if not member.present:
                    raise SandboxError(f"{sender.label} is not a member of {target_chat.title} ({member.status})")
                if target_chat.type == "channel":
                    if not self.rights_of(target_chat, member).get("can_post_messages"):
                        raise SandboxError("CHAT_ADMIN_REQUIRED: only the channel's admins with can_post_messages "
                                           "post in it", 403)
                else:
                    needed = PERMISSION_FOR.get(kind or "", "can_send_messages")
                    if body.via_bot is not None and kind is None:
                        needed = "can_send_other_messages"
                    if not self.permissions_of(target_chat, member)[needed]:
                        # What Telegram answers a restricted member's app (the Bot API's own text for a bot).
                        code = "INLINE" if body.via_bot is not None else _FORBIDDEN_CODES.get(kind or "", "PLAIN")
                        raise SandboxError(f"CHAT_SEND_{code}_FORBIDDEN: {sender.label} is restricted in "
                                           f"{target_chat.title} and may not send "
                                           f"{(kind or 'text').replace('_', ' ')} messages", 403)
                if anonymous and not member.is_admin:
                    raise SandboxError("only administrators can post anonymously")
            if reply_to is not None and reply_to not in target_chat.messages:
                raise SandboxError(f"message {reply_to} not found in this chat")
            origin = self._origin(forward_origin, sender) if forward_origin else None
            if body.reply_markup is not None and body.via_bot is None and origin is None:
                raise SandboxError("people's messages carry inline keyboards only when sent via a bot (via_bot) or "
                                   "forwarded from one")
            fields: dict[str, Any] = {"from_id": sender.id, "text": body.text, "entities": body.entities,
                                      "reply_to": reply_to, "forward_origin": origin, "content": body.fields,
                                      "caption": body.caption, "caption_entities": body.caption_entities,
                                      "reply_markup": body.reply_markup}
            if target_chat.type == "channel":
                fields["sender_chat_id"] = target_chat.id
                message = self.add_message(target_chat, **fields)
                self._deliver_channel_post(target_chat, message)
                return message
            if body.sender_chat is not None:
                channel = self._send_as(target_chat, sender, body.sender_chat)
                automatic = bool((content or {}).get("is_automatic_forward"))
                fields.update(from_id=TELEGRAM_ID if automatic else CHANNEL_BOT_ID, sender_chat_id=channel.id)
                if automatic:
                    fields["content"] = {**body.fields, "is_automatic_forward": True}
                    fields["forward_origin"] = origin or {"type": "channel", "date": self.now(),
                                                          "chat": channel.short_dict(self),
                                                          "message_id": channel.next_message_id}
            elif target_chat.is_group:
                member = self.member(target_chat, sender.id)
                is_anonymous = member.is_anonymous if anonymous is None else anonymous
                if is_anonymous and member.is_admin:
                    fields.update(from_id=ANONYMOUS_ADMIN_ID, sender_chat_id=target_chat.id,
                                  author_signature=member.custom_title)
            message = self.add_message(target_chat, **fields)
            message.author_id = sender.id
            self._deliver(target_chat, message)
            return message

    def _send_as(self, group: Chat, sender: User, ref: Any) -> Chat:
        """The channel ``sender`` posts as in ``group`` (they must be able to post in it)."""
        channel = self.chat(ref)
        if channel.type != "channel":
            raise SandboxError("sender_chat must be a channel")
        if group.type != "supergroup":
            raise SandboxError("only supergroups let members post as a channel")
        if not self.rights_of(channel, self.member(channel, sender.id)).get("can_post_messages"):
            raise SandboxError(f"{sender.label} cannot post as {channel.title}")
        if channel.id in group.banned_sender_chats:
            raise SandboxError(f"CHAT_SEND_AS_FORBIDDEN: {channel.title} is banned in {group.title}", 403)
        return channel

    def _origin(self, spec: dict[str, Any], sender: User) -> dict[str, Any]:
        """A MessageOrigin from a full one or a shorthand naming a user, a hidden name, a chat or a channel."""
        kind = spec.get("type")
        date = int(spec.get("date", self.now() - 60))
        if kind == "user":
            if "sender_user" in spec:
                return dict(spec)
            return {"type": "user", "date": date, "sender_user": self.user(spec.get("user", sender.id)).to_dict()}
        if kind == "hidden_user":
            return {"type": "hidden_user", "date": date,
                    "sender_user_name": str(spec.get("sender_user_name", spec.get("name", "Hidden Person")))}
        if kind in ("chat", "channel"):
            key = "sender_chat" if kind == "chat" else "chat"
            if isinstance(spec.get(key), dict):
                return dict(spec)
            source = self.chat(spec.get("chat", spec.get(key)))
            origin = {"type": kind, "date": date, key: source.short_dict(self)}
            if kind == "channel":
                if source.type != "channel":
                    raise SandboxError("a channel origin names a channel")
                origin["message_id"] = int(spec.get("message_id", 1))
            if spec.get("author_signature"):
                origin["author_signature"] = spec["author_signature"]
            return origin
        raise SandboxError("forward_origin type must be user, hidden_user, chat or channel")

    def _deliver_channel_post(self, chat: Chat, message: Message) -> None:
        """channel_post to the channel's admin bots (bots see a channel only as its admins)."""
        for bot in self.chat_bots(chat):
            if bot.id != message.from_id and self.member(chat, bot.id).is_admin:
                self.emit(bot, "channel_post", self.message_dict(message))

    def forward_origin_of(self, message: Message) -> dict[str, Any]:
        """Where a forwarded copy says ``message`` came from (MessageOrigin: user, chat or channel)."""
        if message.forward_origin:
            return dict(message.forward_origin)
        chat = self._chat_of(message)
        if chat.type == "channel":
            origin = {"type": "channel", "date": message.date, "chat": chat.short_dict(self),
                      "message_id": message.message_id}
            if message.author_signature:
                origin["author_signature"] = message.author_signature
            return origin
        if message.sender_chat_id is not None:
            origin = {"type": "chat", "date": message.date,
                      "sender_chat": self._chat_by_id(message.sender_chat_id).short_dict(self)}
            if message.author_signature:
                origin["author_signature"] = message.author_signature
            return origin
        return {"type": "user", "date": message.date, "sender_user": self.user_dict(message.from_id)}

    def forward_message(self, chat: Any, user: Any, from_chat: Any, message_id: int) -> Message:
        """``user`` forwards message ``message_id`` of ``from_chat`` (a channel's post, say) into ``chat``: the copy
        carries ``forward_origin`` (type channel with the channel and its message id, or chat, or user)."""
        with self.lock:
            sender = self.user(user)
            source_chat = self._chat_any(from_chat, sender)
            original = source_chat.messages.get(int(message_id))
            if original is None:
                raise SandboxError(f"message {message_id} not found in {source_chat.title or 'that chat'}")
            if not original.has_content:
                raise SandboxError("service messages can't be forwarded")
            if source_chat.type == "channel" and not source_chat.username and not self.member(
                    source_chat, sender.id).present:
                raise SandboxError(f"{sender.label} cannot see the private channel {source_chat.title}")
            return self.send_message(chat, sender, original.text, entities=list(original.entities),
                                     forward_origin=self.forward_origin_of(original),
                                     content=self.content_options(original))

    @staticmethod
    def content_options(message: Message) -> dict[str, Any]:
        """A message's content as ``send_message`` options (the same files, caption and buttons)."""
        options: dict[str, Any] = {}
        kind = kind_of(message.content)
        if kind in ("photo",):
            options["photo"] = message.content["photo"][-1]["file_id"]
        elif kind in MEDIA_KINDS:
            options[kind] = message.content[kind]["file_id"]
        elif kind is not None:
            value = message.content[kind]
            if kind == "poll":
                value = {**value, "options": [o["text"] for o in value["options"]]}
            if kind == "venue":
                value = {**value, "location": dict(value["location"])}
            options[kind] = value
        if message.caption is not None:
            options["caption"], options["caption_entities"] = message.caption, list(message.caption_entities)
        if message.reply_markup:
            options["reply_markup"] = message.reply_markup
        return options

    def join_flood(self, chat: Any, count: int, seconds: float = 0.0, *, prefix: str = "joiner",
                   sleep: Any = time.sleep) -> list[dict[str, Any]]:
        """``count`` fresh users join ``chat`` one after another, spread evenly over ``seconds`` (a raid), each
        with what a join brings (chat_member update to admin bots that take them, new_chat_members service
        message). Returns ``[{"user": User dict, "joined_at": sandbox time}]`` in joining order."""
        if count < 1 or count > 10_000:
            raise SandboxError("count must be 1..10000")
        if seconds < 0 or seconds > 3600:
            raise SandboxError("seconds must be 0..3600")
        with self.lock:
            target_chat = self.chat(chat)
            if target_chat.type == "channel":
                raise SandboxError("join floods are for groups")
            number = self._joiner_numbers.get(prefix, 0)
            joiners = []
            for _ in range(count):
                number += 1
                while any((u.username or "").lower() == f"{prefix}_{number}" for u in self.users.values()):
                    number += 1
                joiners.append(self.create_user(prefix.capitalize(), last_name=str(number),
                                                username=f"{prefix}_{number}"))
            self._joiner_numbers[prefix] = number
        joined: list[dict[str, Any]] = []
        interval = seconds / count
        started = time.monotonic()
        for index, joiner in enumerate(joiners):
            delay = started + index * interval - time.monotonic()
            if delay > 0:
                sleep(delay)
            with self.lock:
                self.add_member(target_chat, joiner)
                joined.append({"user": joiner.to_dict(), "joined_at": round(self.now_float(), 3)})
        return joined

    def send_anonymous(self, chat: Any, user: Any, text: str, **kwargs: Any) -> Message:
        return self.send_message(chat, user, text, anonymous=True, **kwargs)

    def edit_message(self, chat: Any, message_id: int, text: str, *, user: Any = None,
                     entities: list[dict[str, Any]] | None = None, parse_mode: str | None = None) -> Message:
        """Edit a person's message (its text, or its caption for media); bots that saw it receive
        ``edited_message``, the whole message with ``edit_date``."""
        with self.lock:
            target_chat = self._chat_any(chat, user)
            message = target_chat.messages.get(int(message_id))
            if message is None:
                raise SandboxError(f"message {message_id} not found")
            if message.from_id in self.bots_by_id():
                raise SandboxError("bot messages are edited through the Bot API")
            if message.is_service:
                raise SandboxError("service messages can't be edited")
            if message.forward_origin and not message.content.get("is_automatic_forward"):
                raise SandboxError("forwarded messages can't be edited")
            if user is not None:
                editor = self.user(user)
                if editor.id not in (message.from_id, message.author_id) and message.from_id not in SERVICE_ACCOUNTS:
                    raise SandboxError("people can only edit their own messages")
            plain, found = render_text(text, parse_mode, entities)
            kind = kind_of(message.content)
            if kind is None:
                if not plain:
                    raise SandboxError("message text is empty")
                message.text, message.entities = plain, found
            elif kind in CAPTIONED:
                message.caption, message.caption_entities = (plain, found) if plain else (None, [])
            else:
                raise SandboxError(f"a {kind} message has no text to edit")
            message.edit_date = self.now()
            self.notifier.notify()
            self._deliver(target_chat, message, kind="edited_message")
            return message

    def delete_message(self, chat: Any, message_id: int) -> None:
        """Someone (an admin, the author) deletes a message. Telegram sends bots no update for it."""
        with self.lock:
            target_chat = self._chat_any(chat, None)
            if target_chat.messages.pop(int(message_id), None) is None:
                raise SandboxError(f"message {message_id} not found")
            self.notifier.notify()

    def press_button(self, chat: Any, message_id: int, user: Any, data: str) -> dict[str, Any]:
        """``user`` presses an inline button with ``callback_data`` = ``data`` under a bot message."""
        with self.lock:
            presser = self.user(user)
            target_chat = self._chat_any(chat, presser)
            message = target_chat.messages.get(int(message_id))
            if message is None:
                raise SandboxError(f"message {message_id} not found")
            bot = self.bots_by_id().get(message.from_id)
            if bot is None:
                raise SandboxError("only bot messages carry inline buttons")
            buttons = [b for row in (message.reply_markup or {}).get("inline_keyboard", []) for b in row]
            if not any(b.get("callback_data") == data for b in buttons):
                raise SandboxError(f"the message has no button with callback_data {data!r}")
            query_id = str(next(self._callback_ids))
            payload = {
                "id": query_id,
                "from": presser.to_dict(),
                "message": self.message_dict(message),
                "chat_instance": str(abs(hash((target_chat.id, bot.id))) % 10**18),
                "data": data,
            }
            self.callback_queries[query_id] = {"bot_id": bot.id, "date": self.now(), "answered": False,
                                               "answer": None, "user_id": presser.id}
            self.emit(bot, "callback_query", payload)
            return payload

    def callback_answer(self, query_id: str) -> dict[str, Any]:
        """What the bot answered to a button press (answerCallbackQuery): ``{"answered", "answer": {"text",
        "show_alert", "url", "cache_time"} | None}``; the person sees the text as a toast, or an alert."""
        with self.lock:
            query = self.callback_queries.get(str(query_id))
            if query is None:
                raise SandboxError(f"no callback query {query_id}", 404)
            return {"id": str(query_id), "answered": query["answered"],
                    "answer": dict(query["answer"]) if query["answer"] else None}

    def start_bot(self, user: Any, bot: Any = None) -> Chat:
        """``user`` opens a private chat with the bot and presses Start (sends ``/start``)."""
        with self.lock:
            message = self.send_message(self.bot(bot).user, user, "/start")
            return self._chat_of(message)

    def block_bot(self, user: Any, bot: Any = None) -> Chat:
        """``user`` blocks the bot: it gets my_chat_member (member -> kicked) and 403 on sending."""
        with self.lock:
            chat = self.private_chat(bot, user)
            if not chat.blocked:
                chat.blocked = True
                self._private_status(chat, "member", "kicked")
            return chat

    def private_chat(self, bot: Any, user: Any, *, create: bool = False) -> Chat:
        with self.lock:
            the_bot, the_user = self.bot(bot), self.user(user)
            key = (the_bot.id, the_user.id)
            chat = self.private.get(key)
            if chat is None:
                if not create:
                    raise SandboxError(f"{the_user.label} never started {the_bot.user.label}", 404)
                chat = Chat(id=the_user.id, type="private", bot_id=the_bot.id, user_id=the_user.id)
                self.private[key] = chat
            return chat

    def _private_status(self, chat: Chat, old: str, new: str) -> None:
        bot = self.bots_by_id()[chat.bot_id]
        self.emit(bot, "my_chat_member", {
            "chat": chat.short_dict(self), "from": self.user_dict(chat.user_id), "date": self.now(),
            "old_chat_member": {"user": bot.user.to_dict(), "status": old},
            "new_chat_member": {"user": bot.user.to_dict(), "status": new,
                                **({"until_date": 0} if new == "kicked" else {})},
        })

    def _chat_for_user_message(self, chat: Any, sender: User) -> Chat:
        """A group by reference, or the private chat with a bot when ``chat`` names a bot."""
        try:
            return self.chat(chat)
        except SandboxError as missing:
            try:
                bot = self.bot(chat)
            except SandboxError:
                raise missing from None
            return self.private_chat(bot, sender, create=True)

    def _chat_any(self, chat: Any, user: Any) -> Chat:
        if isinstance(chat, Chat):
            return chat
        try:
            return self.chat(chat)
        except SandboxError as missing:
            if user is None:
                raise
            try:
                bot = self.bot(chat)
            except SandboxError:
                raise missing from None
            return self.private_chat(bot, user)

    # --- reading what happened ---

    def messages(self, chat: Any, *, since_id: int = 0, sender: Any = None, user: Any = None) -> list[Message]:
        """Messages in a chat after ``since_id``; ``sender`` filters by author (a user, a bot, ``"bot"``)."""
        with self.lock:
            target_chat = self._chat_any(chat, user)
            if sender == "bot":
                wanted = set(self.bots_by_id())
            elif sender is not None:
                wanted = {self.user(sender).id}
            else:
                wanted = None
            return [m for m in sorted(target_chat.messages.values(), key=lambda m: m.message_id)
                    if m.message_id > since_id and (wanted is None or m.from_id in wanted)]

    def wait_messages(self, chat: Any, *, since_id: int = 0, sender: Any = "bot", timeout: float = 2.0,
                      count: int = 1, user: Any = None) -> list[Message]:
        """Wait up to ``timeout`` s until at least ``count`` new messages (default: from a bot) exist."""
        deadline = time.monotonic() + timeout
        while True:
            version = self.notifier.version
            found = self.messages(chat, since_id=since_id, sender=sender, user=user)
            remaining = deadline - time.monotonic()
            if len(found) >= count or remaining <= 0:
                return found
            self.notifier.wait(version, remaining)

