"""Lock types: names, aliases, descriptions, and what in a Bot API Message makes each apply.

The kinds are read from the Message's keys (a plain dict from Telegram's JSON): one pass over its keys, a dict lookup
each; only a few keys need a look inside (text and caption for RTL letters, emoji and invite links; entities; forward
origin; reply markup; new members; sender chat).
"""

import re

__all__ = ["LOCK_ALIASES", "LOCK_DESCRIPTIONS", "LOCK_TYPES", "canonical_lock", "lock_kinds"]

LOCK_TYPES: tuple[str, ...] = (
    "all", "text", "media", "photo", "video", "gif", "sticker", "audio", "voice", "videonote", "document", "poll",
    "contact", "location", "game", "dice", "url", "forward", "forwarduser", "forwardchannel", "forwardbot", "inline",
    "button", "bot", "command", "email", "phone", "invitelink", "rtl", "emojionly", "anonchannel",
)

LOCK_DESCRIPTIONS: dict[str, str] = {
    "all": "every message from a member (service messages aside)",
    "text": "text messages (commands aside)",
    "media": "photos, videos, GIFs, stickers, audio, voice messages, video notes and files",
    "photo": "photos",
    "video": "videos",
    "gif": "GIFs (animations)",
    "sticker": "stickers",
    "audio": "audio files (music)",
    "voice": "voice messages",
    "videonote": "video notes (round videos)",
    "document": "files (documents)",
    "poll": "polls and quizzes",
    "contact": "shared contacts",
    "location": "locations and venues",
    "game": "games",
    "dice": "dice and the other animated emoji games",
    "url": "links (in the text, the caption or hidden behind a word)",
    "forward": "forwarded messages, from anyone",
    "forwarduser": "messages forwarded from a user",
    "forwardchannel": "messages forwarded from a channel or a group",
    "forwardbot": "messages forwarded from a bot",
    "inline": "messages sent through an inline bot (via @bot)",
    "button": "messages with buttons (inline keyboards)",
    "bot": "members adding bots to the group",
    "command": "bot commands (/command)",
    "email": "email addresses",
    "phone": "phone numbers",
    "invitelink": "Telegram invite links (t.me/+..., t.me/joinchat/...)",
    "rtl": "right-to-left letters (Arabic, Hebrew, Persian...)",
    "emojionly": "messages made only of emoji",
    "anonchannel": "messages sent as a channel (anonymous channel posts)",
}

_ALIASES = {
    "everything": "all", "texts": "text", "medias": "media", "photos": "photo", "picture": "photo",
    "pictures": "photo", "image": "photo", "images": "photo", "videos": "video", "gifs": "gif", "animation": "gif",
    "animations": "gif", "stickers": "sticker", "audios": "audio", "music": "audio", "voices": "voice",
    "video_note": "videonote", "video_notes": "videonote", "videonotes": "videonote", "round": "videonote",
    "documents": "document", "doc": "document", "docs": "document", "file": "document", "files": "document",
    "polls": "poll", "quiz": "poll", "contacts": "contact", "locations": "location", "venue": "location",
    "venues": "location", "games": "game", "emojigame": "dice", "emojigames": "dice", "dices": "dice",
    "link": "url", "links": "url", "urls": "url", "textlink": "url", "forwards": "forward", "fwd": "forward",
    "forwardusers": "forwarduser", "forward_user": "forwarduser", "forwardchannels": "forwardchannel",
    "forward_channel": "forwardchannel", "forwardbots": "forwardbot", "forward_bot": "forwardbot", "via": "inline",
    "viabot": "inline", "inlinebot": "inline", "buttons": "button", "keyboard": "button", "bots": "bot",
    "commands": "command", "cmd": "command", "emails": "email", "phones": "phone", "phone_number": "phone",
    "invite": "invitelink", "invites": "invitelink", "invitelinks": "invitelink", "invite_link": "invitelink",
    "arabic": "rtl", "emoji": "emojionly", "emojis": "emojionly", "emoji_only": "emojionly",
    "anonymous": "anonchannel", "anon": "anonchannel", "anonchannels": "anonchannel", "channel": "anonchannel",
    "sendas": "anonchannel",
}
LOCK_ALIASES: dict[str, str] = dict(sorted(_ALIASES.items()))
_CANONICAL = {**{name: name for name in LOCK_TYPES}, **LOCK_ALIASES}


def canonical_lock(name: str) -> str | None:
    """The lock type `name` (a type or an alias, any case) stands for, or None."""
    if not isinstance(name, str):
        return None
    return _CANONICAL.get(name.strip().lower().lstrip("/"))


RANK = {name: rank for rank, name in enumerate(LOCK_TYPES)}

# Keys whose presence alone says what a message is (media keys imply "media"); "all" is added for content keys.
SIMPLE_KEYS: dict[str, tuple[str, ...]] = {
    "photo": ("media", "photo"), "video": ("media", "video"), "animation": ("media", "gif"),
    "sticker": ("media", "sticker"), "audio": ("media", "audio"), "voice": ("media", "voice"),
    "video_note": ("media", "videonote"), "paid_media": ("media",), "poll": ("poll",), "contact": ("contact",),
    "location": ("location",), "venue": ("location",), "game": ("game",), "dice": ("dice",), "via_bot": ("inline",),
    "invoice": (), "giveaway": (), "giveaway_winners": (), "checklist": (),
}
# Keys of what a member sends (as opposed to service messages): the "all" lock.
CONTENT_KEYS = frozenset({"text", "document", "story", *SIMPLE_KEYS} - {"via_bot"})

_INVITE = re.compile(
    r"(?:\b(?:t\.me|telegram\.(?:me|dog))/(?:joinchat/[\w-]+|\+(?!\d+(?![\w-]))[\w-]+)|tg://join\?invite=)",
    re.IGNORECASE | re.ASCII)

# Letters written right to left (Unicode bidi classes R and AL): Hebrew, Arabic, Syriac, Thaana, N'Ko, Samaritan...
_RTL = re.compile(
    "[\u05d0-\u05f2\u0620-\u064a\u066e-\u06ff\u0710-\u072f\u074d-\u07b1\u07ca-\u0828\u0840-\u088e\u08a0-\u08c9"
    "\ufb1d-\ufbb1\ufbd3-\ufd3d\ufd50-\ufdc7\ufdf0-\ufdfb\ufe70-\ufefc\U00010800-\U0001089e\U000108e0-\U00010939"
    "\U00010980-\U000109bf\U00010a00-\U00010a35\U00010a60-\U00010a9c\U00010ac0-\U00010ae4\U00010b00-\U00010b91"
    "\U00010c00-\U00010c48\U00010c80-\U00010d23\U00010e80-\U00010eb1\U00010f00-\U00010f45\U00010f70-\U00010f81"
    "\U00010fb0-\U00010fc4\U00010fe0-\U00010ff6\U0001e800-\U0001e8c4\U0001e900-\U0001e94b\U0001ee00-\U0001eebb]")

# Emoji (pictographs, symbols, flags, keycaps) and what joins or modifies them, and spaces.
_EMOJI_CHARS = (
    "\u00a9\u00ae\u203c\u2049\u2122\u2139\u2194-\u2199\u21a9\u21aa\u231a\u231b\u2328\u23cf\u23e9-\u23f3"
    "\u23f8-\u23fa\u24c2\u25aa\u25ab\u25b6\u25c0\u25fb-\u25fe\u2600-\u27bf\u2934\u2935\u2b05-\u2b07\u2b1b\u2b1c"
    "\u2b50\u2b55\u3030\u303d\u3297\u3299\U0001f000-\U0001faff")
_EMOJI_ONLY = re.compile(
    f"(?:[{_EMOJI_CHARS}][\ufe0e\ufe0f\U0001f3fb-\U0001f3ff\u20e3\U000e0020-\U000e007f]*|[#*0-9]\ufe0f?\u20e3"
    f"|[\u200d\ufe0f\ufe0e]|\\s)+")
_EMOJI_ANY = re.compile(f"[{_EMOJI_CHARS}\u20e3]")


def is_invite_text(text: str) -> bool:
    return "/" in text and _INVITE.search(text) is not None


def has_rtl(text: str) -> bool:
    return not text.isascii() and _RTL.search(text) is not None


def utf16_cut(text: str, spans: list[tuple[int, int]]) -> str:
    """`text` without the (offset, length) spans counted in UTF-16 code units, as Telegram's entities are."""
    units = text.encode("utf-16-le")
    kept, at = [], 0
    for offset, length in sorted(spans):
        kept.append(units[at * 2:offset * 2])
        at = max(at, offset + length)
    kept.append(units[at * 2:])
    return b"".join(kept).decode("utf-16-le", errors="ignore")


def is_emoji_only(text: str, entities) -> bool:
    """Made only of emoji (and spaces); custom emoji (a `custom_emoji` entity over a placeholder emoji) count."""
    if text.isascii():
        return False
    spans = []
    if isinstance(entities, list):
        for entity in entities:
            if isinstance(entity, dict) and entity.get("type") == "custom_emoji":
                offset, length = entity.get("offset"), entity.get("length")
                if type(offset) is int and type(length) is int and offset >= 0 and length > 0:
                    spans.append((offset, length))
    if spans:
        rest = utf16_cut(text, spans)
        if not rest.strip():
            return True
        text = rest
    return _EMOJI_ONLY.fullmatch(text) is not None and _EMOJI_ANY.search(text) is not None


def _forward_kinds(origin) -> tuple[str, ...]:
    """forward_origin (MessageOrigin: user, hidden_user, chat, channel)."""
    if not isinstance(origin, dict):
        return ("forward",)
    kind = origin.get("type")
    if kind == "user":
        user = origin.get("sender_user")
        if isinstance(user, dict) and user.get("is_bot") is True:
            return ("forward", "forwardbot")
        return ("forward", "forwarduser")
    if kind == "hidden_user":
        return ("forward", "forwarduser")
    if kind in ("channel", "chat"):
        return ("forward", "forwardchannel")
    return ("forward",)


def entity_kinds(entities, *, text_entities: bool) -> set[str]:
    kinds: set[str] = set()
    if not isinstance(entities, list):
        return kinds
    for entity in entities:
        if not isinstance(entity, dict):
            continue
        kind = entity.get("type")
        if kind == "url":
            kinds.add("url")
        elif kind == "text_link":
            kinds.add("url")
            url = entity.get("url")
            if isinstance(url, str) and is_invite_text(url):
                kinds.add("invitelink")
        elif kind == "email":
            kinds.add("email")
        elif kind == "phone_number":
            kinds.add("phone")
        elif kind == "bot_command" and text_entities and entity.get("offset") == 0:
            kinds.add("command")
    return kinds


def _starts_with_command(message) -> bool:
    entities = message.get("entities")
    if isinstance(entities, list):
        for entity in entities:
            if isinstance(entity, dict) and entity.get("type") == "bot_command" and entity.get("offset") == 0:
                return True
    return False


def key_kinds(key: str, value, message) -> tuple[str, ...] | set[str]:
    """The lock types that the message's `key` (holding `value`) makes apply, "all" aside."""
    simple = SIMPLE_KEYS.get(key)
    if simple is not None:
        return simple
    if key == "text":
        if not isinstance(value, str):
            return ()
        kinds = set() if _starts_with_command(message) else {"text"}
        if not value.isascii():
            if _RTL.search(value):
                kinds.add("rtl")
            if is_emoji_only(value, message.get("entities")):
                kinds.add("emojionly")
        if is_invite_text(value):
            kinds.add("invitelink")
        return kinds
    if key == "caption":
        if not isinstance(value, str):
            return ()
        kinds = set()
        if has_rtl(value):
            kinds.add("rtl")
        if is_invite_text(value):
            kinds.add("invitelink")
        return kinds
    if key == "entities":
        return entity_kinds(value, text_entities=True)
    if key == "caption_entities":
        return entity_kinds(value, text_entities=False)
    if key == "document":
        return () if "animation" in message else ("media", "document")
    if key == "forward_origin":
        # a post of the group's linked channel, copied by Telegram into its discussion group: nobody forwarded it
        return () if message.get("is_automatic_forward") is True else _forward_kinds(value)
    if key == "forward_from":  # before Bot API 7.0
        if "forward_origin" in message:
            return ()
        return ("forward", "forwardbot" if isinstance(value, dict) and value.get("is_bot") is True else "forwarduser")
    if key == "forward_from_chat":
        return () if "forward_origin" in message else ("forward", "forwardchannel")
    if key == "forward_sender_name":
        return () if "forward_origin" in message else ("forward", "forwarduser")
    if key == "story":  # a forwarded story
        chat = value.get("chat") if isinstance(value, dict) else None
        if isinstance(chat, dict) and chat.get("type") == "channel":
            return ("forward", "forwardchannel")
        return ("forward", "forwarduser")
    if key == "reply_markup":
        keyboard = value.get("inline_keyboard") if isinstance(value, dict) else None
        return ("button",) if isinstance(keyboard, list) and any(keyboard) else ()
    if key == "new_chat_members":
        return ("bot",) if adds_bot(value, message) else ()
    if key == "sender_chat":
        automatic = message.get("is_automatic_forward") is True  # the linked channel's post, copied by Telegram
        return ("anonchannel",) if isinstance(value, dict) and value.get("type") == "channel" and not automatic else ()
    return ()


def adds_bot(members, message) -> bool:
    """new_chat_members holds a bot that someone else added (a bot cannot join by itself; `from` is the adder)."""
    if not isinstance(members, list):
        return False
    adder = message.get("from")
    adder_id = adder.get("id") if isinstance(adder, dict) else None
    return any(isinstance(member, dict) and member.get("is_bot") is True and member.get("id") != adder_id
               for member in members)


SPECIAL_KEYS = ("text", "caption", "entities", "caption_entities", "document", "forward_origin", "forward_from",
                "forward_from_chat", "forward_sender_name", "story", "reply_markup", "new_chat_members",
                "sender_chat")
# What each special key can ever give (to leave out the keys whose every possible lock is off).
SPECIAL_CAN_GIVE: dict[str, frozenset[str]] = {
    "text": frozenset({"text", "rtl", "emojionly", "invitelink"}),
    "caption": frozenset({"rtl", "invitelink"}),
    "entities": frozenset({"url", "invitelink", "email", "phone", "command"}),
    "caption_entities": frozenset({"url", "invitelink", "email", "phone"}),
    "document": frozenset({"media", "document"}),
    "forward_origin": frozenset({"forward", "forwarduser", "forwardchannel", "forwardbot"}),
    "forward_from": frozenset({"forward", "forwarduser", "forwardbot"}),
    "forward_from_chat": frozenset({"forward", "forwardchannel"}),
    "forward_sender_name": frozenset({"forward", "forwarduser"}),
    "story": frozenset({"forward", "forwarduser", "forwardchannel"}),
    "reply_markup": frozenset({"button"}),
    "new_chat_members": frozenset({"bot"}),
    "sender_chat": frozenset({"anonchannel"}),
}


def lock_kinds(message) -> list[str]:
    """Every lock type that applies to `message`, in LOCK_TYPES order (for explain; the hot path is in rules)."""
    kinds: set[str] = set()
    if not isinstance(message, dict):
        return []
    for key, value in message.items():
        if key in CONTENT_KEYS:
            kinds.add("all")
        kinds.update(key_kinds(key, value, message))
    return [kind for kind in LOCK_TYPES if kind in kinds]
