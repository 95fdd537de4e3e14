"""What a message carries besides text, in the Bot API's shapes: media (PhotoSize arrays, Video, Animation,
Sticker, Audio, Voice, VideoNote, Document), Poll, Contact, Location, Venue, Game, Dice, and the files behind
the media.

People post content through the control API (``content`` options of :meth:`World.send_message`); bots send
media by ``file_id`` (sendPhoto, sendSticker, ...), which must name a file the world knows, of the right type
(Telegram: ``wrong file identifier/HTTP URL specified``, ``type of file mismatch``). A gif is an Animation
and, as Telegram sends it, also a Document with the same file. Files are shared by every bot of the world
(on Telegram a file_id is per bot; the sandbox keeps one id per file).
"""

from __future__ import annotations

import base64
import itertools
import mimetypes
from dataclasses import dataclass, field
from typing import Any

from .errors import SandboxError
from .markup import render_text

# The fields of a Message that hold content (one of these, plus caption/caption_entities for media).
MEDIA_KINDS = ("photo", "video", "animation", "sticker", "audio", "voice", "video_note", "document")
OTHER_KINDS = ("poll", "contact", "location", "venue", "game", "dice")
CONTENT_KINDS = MEDIA_KINDS + OTHER_KINDS
CAPTIONED = frozenset({"photo", "video", "animation", "audio", "voice", "document"})
MAX_CAPTION_LENGTH = 1024

# The member permission each kind needs (ChatPermissions); text needs can_send_messages.
PERMISSION_FOR = {
    "photo": "can_send_photos", "video": "can_send_videos", "audio": "can_send_audios",
    "document": "can_send_documents", "voice": "can_send_voice_notes", "video_note": "can_send_video_notes",
    "poll": "can_send_polls", "animation": "can_send_other_messages", "sticker": "can_send_other_messages",
    "game": "can_send_other_messages", "dice": "can_send_other_messages", "contact": "can_send_messages",
    "location": "can_send_messages", "venue": "can_send_messages",
}
# What the Bot API server says when a bot lacks that permission ("not enough rights to send <words> to the chat"; a
# gif's refusal is Telegram's own code, CHAT_SEND_GIFS_FORBIDDEN).
PERMISSION_WORDS = {
    "photo": "photos", "video": "videos", "audio": "audio files", "document": "documents",
    "voice": "voice messages", "video_note": "video notes", "poll": "polls", "sticker": "stickers", "dice": "dice",
}

# Telegram's file ids start with a type tag (base64 of the file type): these prefixes are what real ids look like.
_FILE_ID_PREFIX = {
    "photo": "AgACAgIAAxkBAAI", "video": "BAACAgIAAxkBAAI", "animation": "CgACAgIAAxkBAAI",
    "sticker": "CAACAgIAAxkBAAI", "audio": "CQACAgIAAxkBAAI", "voice": "AwACAgIAAxkBAAI",
    "video_note": "DQACAgIAAxkBAAI", "document": "BQACAgIAAxkBAAI", "thumbnail": "AAMCAgADGQEAAg",
}
_DICE_RANGE = {"🎲": 6, "🎯": 6, "🎳": 6, "🏀": 5, "⚽": 5, "🎰": 64}
DICE_EMOJI = tuple(_DICE_RANGE)

_DEFAULTS: dict[str, dict[str, Any]] = {
    "video": {"width": 1280, "height": 720, "duration": 12, "file_name": "clip.mp4", "mime_type": "video/mp4",
              "file_size": 1_843_220},
    "animation": {"width": 480, "height": 270, "duration": 3, "file_name": "funny.gif.mp4",
                  "mime_type": "video/mp4", "file_size": 271_442},
    "sticker": {"type": "regular", "width": 512, "height": 512, "is_animated": False, "is_video": False,
                "emoji": "😀", "set_name": "SandboxStickers", "file_size": 23_190},
    "audio": {"duration": 215, "performer": "Sandbox Band", "title": "Test Tune", "file_name": "tune.mp3",
              "mime_type": "audio/mpeg", "file_size": 3_446_912},
    "voice": {"duration": 4, "mime_type": "audio/ogg", "file_size": 10_421},
    "video_note": {"length": 384, "duration": 7, "file_size": 512_004},
    "document": {"file_name": "report.pdf", "mime_type": "application/pdf", "file_size": 48_211},
}
_THUMBNAILED = {"video", "animation", "sticker", "video_note", "document", "audio"}


# Where getFile says a file of each kind lives (``file_path``), as the Bot API server names its folders.
_FOLDERS = {"photo": "photos", "video": "videos", "animation": "animations", "sticker": "stickers",
            "audio": "music", "voice": "voice", "video_note": "video_notes", "document": "documents",
            "thumbnail": "thumbnails"}


@dataclass(frozen=True)
class Upload:
    """A file a bot uploads in a multipart/form-data request (a part with a filename)."""

    filename: str
    content_type: str
    data: bytes

    def __str__(self) -> str:
        return f"<file {self.filename}, {len(self.data)} bytes>"

    @property
    def mime_type(self) -> str:
        """Telegram names the type from the file's name; the part's own type when the name says nothing."""
        guessed = mimetypes.guess_type(self.filename)[0]
        if guessed:
            return guessed
        if self.content_type and self.content_type != "application/octet-stream":
            return self.content_type
        return "application/octet-stream"


@dataclass
class Files:
    """The world's files by file_id: ``kind`` and the object the Bot API shows (a PhotoSize list for photos), and
    the bytes of the files bots uploaded (read back with :meth:`content`, ``GET /sandbox/files/{file_id}``, or
    getFile and the file download URL)."""

    by_id: dict[str, tuple[str, Any]] = field(default_factory=dict)
    _counter: Any = field(default_factory=lambda: itertools.count(1))
    contents: dict[str, bytes] = field(default_factory=dict)
    paths: dict[str, str] = field(default_factory=dict)  # file_path (getFile) -> file_id

    def new_ids(self, kind: str) -> tuple[str, str]:
        number = next(self._counter)
        tail = base64.urlsafe_b64encode(number.to_bytes(6, "big") + b"sandbox" + bytes([len(kind)])).decode()
        file_id = _FILE_ID_PREFIX[kind] + tail.rstrip("=")
        unique = "AQAD" + base64.urlsafe_b64encode(number.to_bytes(4, "big") + kind[:2].encode()).decode().rstrip("=")
        return file_id, unique

    def _thumbnail(self, width: int, height: int) -> dict[str, Any]:
        file_id, unique = self.new_ids("thumbnail")
        scale = 320 / max(width, height, 1)
        thumb = {"file_id": file_id, "file_unique_id": unique, "width": max(1, round(width * min(scale, 1))),
                 "height": max(1, round(height * min(scale, 1))), "file_size": 4_102}
        return thumb

    def make(self, kind: str, options: dict[str, Any] | None = None) -> Any:
        """A new file of ``kind`` in the Bot API's shape, ``options`` overriding the defaults."""
        options = dict(options or {})
        if kind == "photo":
            width, height = int(options.pop("width", 1280)), int(options.pop("height", 960))
            sizes = []
            for limit, size in ((90, 1_391), (320, 20_118), (800, 71_240), (1280, 118_311)):
                scale = min(1.0, limit / max(width, height))
                file_id, unique = self.new_ids("photo")
                sizes.append({"file_id": file_id, "file_unique_id": unique, "width": round(width * scale),
                              "height": round(height * scale), "file_size": size})
                if scale == 1.0:
                    break
            for entry in sizes:
                self.by_id[entry["file_id"]] = ("photo", sizes)
            return sizes
        file_id, unique = self.new_ids(kind)
        data = {"file_id": file_id, "file_unique_id": unique, **_DEFAULTS.get(kind, {}), **options}
        if kind in _THUMBNAILED and "thumbnail" not in options and kind != "audio":
            data["thumbnail"] = self._thumbnail(int(data.get("width", data.get("length", 320))),
                                                int(data.get("height", data.get("length", 320))))
        if kind == "sticker" and data.get("is_animated"):
            data.setdefault("file_name", None)
        data = {k: v for k, v in data.items() if v is not None}
        self.by_id[file_id] = (kind, data)
        return data

    def find(self, file_id: str) -> tuple[str, Any] | None:
        return self.by_id.get(file_id)

    def upload(self, kind: str, upload: Upload) -> Any:
        """A file a bot uploaded: its name, type and size from the upload, its bytes kept."""
        if kind == "photo":
            sizes = self.make("photo")
            for entry in sizes:
                entry["file_size"] = min(entry["file_size"], len(upload.data))
                self.contents[entry["file_id"]] = upload.data
            return sizes
        options: dict[str, Any] = {"file_size": len(upload.data)}
        if kind in ("video", "animation", "audio", "document"):
            options.update(file_name=upload.filename, mime_type=upload.mime_type)
        if kind == "document":
            options["thumbnail"] = None  # a plain file has no preview
        data = self.make(kind, options)
        self.contents[data["file_id"]] = upload.data
        return data

    def described(self, file_id: str) -> dict[str, Any] | None:
        """One file's object (a photo: that size), or None."""
        found = self.find(file_id)
        if found is None:
            return None
        kind, media = found
        if kind == "photo":
            return next(size for size in media if size["file_id"] == file_id)
        return media

    def content(self, file_id: str) -> bytes:
        """The file's bytes: what a bot uploaded, or (a file a person posted) zeros of its size."""
        if file_id in self.contents:
            return self.contents[file_id]
        described = self.described(file_id) or {}
        return bytes(min(int(described.get("file_size") or 0), 1 << 20))

    def path_of(self, file_id: str) -> str:
        """A file's ``file_path`` for getFile (stable per file)."""
        for path, known in self.paths.items():
            if known == file_id:
                return path
        kind, media = self.by_id[file_id]
        name = (media.get("file_name") if isinstance(media, dict) else None) or ""
        extension = name.rsplit(".", 1)[1] if "." in name else {"photo": "jpg", "voice": "oga", "sticker": "webp"}.get(
            kind, "bin")
        path = f"{_FOLDERS.get(kind, 'documents')}/file_{len(self.paths)}.{extension}"
        self.paths[path] = file_id
        return path


def _animation_document(animation: dict[str, Any]) -> dict[str, Any]:
    """The Document Telegram adds beside an Animation (same file)."""
    document = {"file_name": animation.get("file_name", "animation.gif.mp4"),
                "mime_type": animation.get("mime_type", "video/mp4")}
    if "thumbnail" in animation:
        document["thumbnail"] = animation["thumbnail"]
    document.update(file_id=animation["file_id"], file_unique_id=animation["file_unique_id"])
    if "file_size" in animation:
        document["file_size"] = animation["file_size"]
    return document


def media_fields(kind: str, media: Any) -> dict[str, Any]:
    """The Message fields for a media object (a gif: animation and document)."""
    if kind == "animation":
        return {"animation": media, "document": _animation_document(media)}
    return {kind: media}


def file_media(files: Files, kind: str, value: Any) -> dict[str, Any]:
    """Message fields for ``kind`` from a person's option: ``True``/``{}`` (a new file), a dict of overrides, or
    the file_id of a known file (posting it again)."""
    if isinstance(value, str):
        found = files.find(value)
        if found is None:
            raise SandboxError(f"unknown file_id {value!r}")
        if found[0] != kind:
            raise SandboxError(f"file {value!r} is a {found[0]}, not a {kind}")
        return media_fields(kind, found[1])
    if value is True or value is None:
        value = {}
    if not isinstance(value, dict):
        raise SandboxError(f"{kind} must be true, an object of its fields or a file_id")
    return media_fields(kind, files.make(kind, value))


def _poll(value: Any, poll_id: str) -> dict[str, Any]:
    if not isinstance(value, dict) or not str(value.get("question", "")).strip():
        raise SandboxError("poll needs a question")
    options = value.get("options") or []
    if not isinstance(options, list) or not 2 <= len(options) <= 12:
        raise SandboxError("poll needs 2-12 options")
    kind = value.get("type", "regular")
    if kind not in ("regular", "quiz"):
        raise SandboxError("poll type must be regular or quiz")
    # Bot API 10: options carry a persistent_id; quizzes name their correct options in correct_option_ids.
    poll = {"id": poll_id, "question": str(value["question"]).strip(),
            "options": [{"persistent_id": f"{poll_id[-6:]}{index}", "text": str(o), "voter_count": 0}
                        for index, o in enumerate(options)], "total_voter_count": 0,
            "is_closed": bool(value.get("is_closed", False)), "is_anonymous": bool(value.get("is_anonymous", True)),
            "type": kind, "allows_multiple_answers": bool(value.get("allows_multiple_answers", False)),
            "allows_revoting": bool(value.get("allows_revoting", kind == "regular")),
            "members_only": bool(value.get("members_only", False))}
    if kind == "quiz":
        correct = value.get("correct_option_ids", [value.get("correct_option_id", 0)])
        if not isinstance(correct, list) or not correct or not all(
                isinstance(i, int) and 0 <= i < len(options) for i in correct):
            raise SandboxError("correct_option_ids out of range")
        poll["correct_option_ids"] = correct
        poll["allows_revoting"] = False
    return poll


def _location(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        value = {}
    latitude, longitude = float(value.get("latitude", 48.858370)), float(value.get("longitude", 2.294481))
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise SandboxError("latitude must be -90..90 and longitude -180..180")
    location = {"latitude": latitude, "longitude": longitude}
    for key in ("horizontal_accuracy", "live_period", "heading", "proximity_alert_radius"):
        if key in value:
            location[key] = value[key]
    return location


def other_content(kind: str, value: Any, *, world_ids: Any, files: Files) -> dict[str, Any]:
    """Message fields for poll, contact, location, venue, game and dice."""
    if kind == "poll":
        return {"poll": _poll(value, str(next(world_ids)))}
    if kind == "contact":
        value = value if isinstance(value, dict) else {}
        contact = {"phone_number": str(value.get("phone_number", "+15550100123")),
                   "first_name": str(value.get("first_name", "Sam"))}
        for key in ("last_name", "user_id", "vcard"):
            if value.get(key) is not None:
                contact[key] = value[key]
        return {"contact": contact}
    if kind == "location":
        return {"location": _location(value)}
    if kind == "venue":
        value = value if isinstance(value, dict) else {}
        location = _location(value.get("location") or value)
        venue = {"location": location, "title": str(value.get("title", "Sandbox Café")),
                 "address": str(value.get("address", "1 Test Street"))}
        for key in ("foursquare_id", "foursquare_type", "google_place_id", "google_place_type"):
            if key in value:
                venue[key] = value[key]
        return {"venue": venue, "location": location}  # Telegram also fills location for venues
    if kind == "game":
        value = value if isinstance(value, dict) else {}
        game = {"title": str(value.get("title", "Sandbox Racer")),
                "description": str(value.get("description", "Race against the clock")),
                "photo": files.make("photo", {"width": 640, "height": 360})}
        return {"game": game}
    if kind == "dice":
        value = value if isinstance(value, dict) else {}
        emoji = value.get("emoji", "🎲")
        if emoji not in _DICE_RANGE:
            raise SandboxError(f"dice emoji must be one of {' '.join(DICE_EMOJI)}")
        top = _DICE_RANGE[emoji]
        number = int(value.get("value", (next(world_ids) % top) + 1))
        if not 1 <= number <= top:
            raise SandboxError(f"dice value must be 1..{top} for {emoji}")
        return {"dice": {"emoji": emoji, "value": number}}
    raise SandboxError(f"unknown content kind {kind!r}")


def kind_of(fields: dict[str, Any]) -> str | None:
    """The content kind of a message's fields (a gif carries animation and document, a venue also a location)."""
    for kind in ("animation", "venue", *CONTENT_KINDS):
        if kind in fields:
            return kind
    return None


# Options of a person's message that are not content kinds.
MESSAGE_OPTIONS = ("caption", "caption_entities", "via_bot", "reply_markup", "sender_chat", "is_automatic_forward",
                   "has_media_spoiler", "show_caption_above_media")
CONTROL_KEYS = CONTENT_KINDS + MESSAGE_OPTIONS


@dataclass
class Body:
    """A person's message as built from the control API's options."""

    kind: str | None
    text: str | None
    entities: list[dict[str, Any]]
    fields: dict[str, Any]  # Message fields: the content, via_bot, has_media_spoiler, ...
    caption: str | None = None
    caption_entities: list[dict[str, Any]] = field(default_factory=list)
    reply_markup: dict[str, Any] | None = None
    via_bot: dict[str, Any] | None = None
    sender_chat: Any = None


def _inline_keyboard(markup: Any) -> dict[str, Any]:
    rows = markup.get("inline_keyboard") if isinstance(markup, dict) else None
    if not isinstance(rows, list) or not rows or not all(isinstance(row, list) and row for row in rows):
        raise SandboxError("reply_markup must be {\"inline_keyboard\": [[button, ...], ...]}")
    for row in rows:
        for button in row:
            if not isinstance(button, dict) or not isinstance(button.get("text"), str) or not (
                    set(button) - {"text"}):
                raise SandboxError("each inline button needs a text and an action (url, callback_data, ...)")
    return {"inline_keyboard": rows}


def build_content(world: Any, options: dict[str, Any], text: str | None, entities: list[dict[str, Any]] | None,
                  parse_mode: str | None) -> Body:
    """Check and build what a person sends: text with entities, or one kind of content with its caption."""
    unknown = set(options) - set(CONTROL_KEYS)
    if unknown:
        raise SandboxError(f"unknown message fields: {', '.join(sorted(unknown))}")
    kinds = [kind for kind in CONTENT_KINDS if options.get(kind) not in (None, False)]
    if len(kinds) > 1:
        raise SandboxError(f"one kind of content per message, not {', '.join(kinds)}")
    kind = kinds[0] if kinds else None
    body = Body(kind=kind, text=None, entities=[], fields={})
    if kind is None:
        if options.get("caption") is not None:
            raise SandboxError("a caption needs media (photo, video, animation, audio, voice or document)")
        plain, found = render_text(text or "", parse_mode, entities)
        if not plain:
            raise SandboxError("message text is empty")
        body.text, body.entities = plain, found
    else:
        if text:
            raise SandboxError(f"a {kind} message has no text (use caption)")
        if kind in MEDIA_KINDS:
            body.fields.update(file_media(world.files, kind, options[kind]))
        else:
            body.fields.update(other_content(kind, options[kind], world_ids=world.content_ids, files=world.files))
        caption = options.get("caption")
        if caption is not None:
            if kind not in CAPTIONED:
                raise SandboxError(f"a {kind} has no caption")
            plain, found = render_text(str(caption), parse_mode, options.get("caption_entities"))
            if len(plain.encode("utf-16-le")) // 2 > MAX_CAPTION_LENGTH:
                raise SandboxError("message caption is too long")
            if plain:
                body.caption, body.caption_entities = plain, found
        for flag in ("has_media_spoiler", "show_caption_above_media"):
            if options.get(flag):
                body.fields[flag] = True
    if options.get("via_bot") is not None:
        bot = world.user(options["via_bot"])
        if not bot.is_bot:
            raise SandboxError("via_bot must be a bot")
        body.via_bot = bot.to_dict()
        body.fields["via_bot"] = body.via_bot
    if options.get("reply_markup") is not None:
        body.reply_markup = _inline_keyboard(options["reply_markup"])
    if options.get("sender_chat") is not None:
        body.sender_chat = options["sender_chat"]
    elif options.get("is_automatic_forward"):
        raise SandboxError("is_automatic_forward needs sender_chat (the linked channel)")
    return body
