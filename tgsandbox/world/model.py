"""The sandbox's data model: users, bots, chats, members, messages, and Telegram's rights and permissions.

Plain dataclasses with no behaviour beyond small properties; :class:`~tgsandbox.world.World` holds them
and applies Telegram's rules.
"""

from __future__ import annotations

import copy
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .core import World


# Telegram's service account that speaks for anonymous group admins.
ANONYMOUS_ADMIN_ID = 1087968824
ANONYMOUS_ADMIN = {"id": ANONYMOUS_ADMIN_ID, "is_bot": True, "first_name": "Group", "username": "GroupAnonymousBot"}
# The placeholder ``from`` of a message a member sends in a group as one of their channels (``sender_chat``).
CHANNEL_BOT_ID = 136817688
CHANNEL_BOT = {"id": CHANNEL_BOT_ID, "is_bot": True, "first_name": "Channel", "username": "Channel_Bot"}
# Telegram's service account: ``from`` of a linked channel's post automatically forwarded to its discussion group.
TELEGRAM_ID = 777000
TELEGRAM = {"id": TELEGRAM_ID, "is_bot": False, "first_name": "Telegram"}
SERVICE_ACCOUNTS = {ANONYMOUS_ADMIN_ID: ANONYMOUS_ADMIN, CHANNEL_BOT_ID: CHANNEL_BOT, TELEGRAM_ID: TELEGRAM}

# Without allowed_updates Telegram sends every type except these.
NOT_DEFAULT_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})

PERMISSION_FIELDS = (
    "can_send_messages", "can_send_audios", "can_send_documents", "can_send_photos", "can_send_videos",
    "can_send_video_notes", "can_send_voice_notes", "can_send_polls", "can_send_other_messages",
    "can_add_web_page_previews", "can_react_to_messages", "can_change_info", "can_invite_users",
    "can_pin_messages", "can_manage_topics", "can_edit_tag",
)
MEDIA_PERMISSIONS = (
    "can_send_audios", "can_send_documents", "can_send_photos", "can_send_videos", "can_send_video_notes",
    "can_send_voice_notes",
)
# Administrator rights a supergroup admin carries (ChatAdministratorRights minus channel-only ones).
ADMIN_RIGHTS = (
    "can_manage_chat", "can_delete_messages", "can_manage_video_chats", "can_restrict_members",
    "can_promote_members", "can_change_info", "can_invite_users", "can_post_stories", "can_edit_stories",
    "can_delete_stories", "can_pin_messages", "can_manage_topics",
)
# A channel's admins also post and edit (ChatMemberAdministrator's channel-only fields).
CHANNEL_RIGHTS = ("can_post_messages", "can_edit_messages")
ALL_RIGHTS = dict.fromkeys(ADMIN_RIGHTS, True)
# A basic group has no fine-grained rights: every appointed admin can do everything but appoint admins.
BASIC_GROUP_ADMIN_RIGHTS = {**ALL_RIGHTS, "can_promote_members": False, "can_manage_topics": False}

DEFAULT_CHAT_PERMISSIONS = {
    **dict.fromkeys(PERMISSION_FIELDS, True),
    "can_change_info": False,
    "can_pin_messages": False,
    "can_manage_topics": False,
    "can_edit_tag": False,
}

PRESENT = frozenset({"creator", "administrator", "member"})
FOREVER_MIN_SECONDS = 30
FOREVER_MAX_SECONDS = 366 * 86400
CALL_LOG_LIMIT = 5000



@dataclass
class User:
    id: int
    first_name: str
    is_bot: bool = False
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        if self.last_name:
            data["last_name"] = self.last_name
        if self.username:
            data["username"] = self.username
        if self.language_code:
            data["language_code"] = self.language_code
        return data

    @property
    def label(self) -> str:
        return f"@{self.username}" if self.username else f"{self.first_name} ({self.id})"


@dataclass
class Member:
    user_id: int
    status: str  # creator | administrator | member | restricted | left | kicked
    until_date: int = 0
    rights: dict[str, bool] = field(default_factory=dict)
    is_anonymous: bool = False
    custom_title: str | None = None
    permissions: dict[str, bool] = field(default_factory=dict)
    is_member: bool = True  # restricted only
    promoted_by: int | None = None
    invited_by: int | None = None

    @property
    def present(self) -> bool:
        return self.status in PRESENT or (self.status == "restricted" and self.is_member)

    @property
    def is_admin(self) -> bool:
        return self.status in ("creator", "administrator")

    def copy(self) -> Member:
        return copy.deepcopy(self)


@dataclass
class Message:
    message_id: int
    chat_id: int
    date: int
    from_id: int | None
    text: str | None = None
    entities: list[dict[str, Any]] = field(default_factory=list)
    sender_chat_id: int | None = None
    reply_to: int | None = None
    edit_date: int | None = None
    reply_markup: dict[str, Any] | None = None
    author_signature: str | None = None
    service: dict[str, Any] = field(default_factory=dict)  # new_chat_members, left_chat_member, migrate_*, ...
    forward_origin: dict[str, Any] | None = None
    # Content besides text, as the Bot API shows it: photo, animation + document, sticker, poll, via_bot, ...
    content: dict[str, Any] = field(default_factory=dict)
    caption: str | None = None
    caption_entities: list[dict[str, Any]] = field(default_factory=list)
    author_id: int | None = None  # the person behind it (an anonymous admin, a post as a channel); None: from_id

    @property
    def has_content(self) -> bool:
        """Whether the message can be forwarded or copied: text or content, not a service message."""
        return not self.service and (self.text is not None or bool(self.content))

    @property
    def is_service(self) -> bool:
        return bool(self.service)


@dataclass
class Chat:
    id: int
    type: str  # group | supergroup | channel | private
    title: str | None = None
    username: str | None = None
    description: str | None = None
    members: dict[int, Member] = field(default_factory=dict)
    messages: dict[int, Message] = field(default_factory=dict)
    next_message_id: int = 1
    pinned: list[int] = field(default_factory=list)
    permissions: dict[str, bool] = field(default_factory=lambda: dict(DEFAULT_CHAT_PERMISSIONS))
    migrated_to: int | None = None
    migrated_from: int | None = None
    banned_sender_chats: set[int] = field(default_factory=set)  # banChatSenderChat
    # private chats only
    bot_id: int | None = None
    user_id: int | None = None
    blocked: bool = False

    @property
    def is_group(self) -> bool:
        return self.type in ("group", "supergroup")

    def short_dict(self, world: World) -> dict[str, Any]:
        if self.type == "private":
            user = world.users[self.user_id]
            data: dict[str, Any] = {"id": self.id, "first_name": user.first_name}
            if user.last_name:
                data["last_name"] = user.last_name
            if user.username:
                data["username"] = user.username
            data["type"] = "private"
            return data
        data = {"id": self.id, "title": self.title}
        if self.username:
            data["username"] = self.username
        data["type"] = self.type
        if self.type == "group":
            data["all_members_are_administrators"] = False
        return data


@dataclass
class RateLimits:
    """Telegram's flood limits for sending: ~30 messages/s per bot, 20 messages/min per group."""

    enabled: bool = True
    global_per_second: int = 30
    group_per_minute: int = 20
    chat_per_second: int = 0  # 0 = no per-chat limit (Telegram tolerates bursts of ~1/s in private chats)
    # Member actions (ban, unban, restrict, delete) per second per bot: Telegram answers mass bans with 429 too, at
    # an undocumented rate; 0 = not limited (the default).
    actions_per_second: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "enabled": self.enabled,
            "global_per_second": self.global_per_second,
            "group_per_minute": self.group_per_minute,
            "chat_per_second": self.chat_per_second,
            "actions_per_second": self.actions_per_second,
        }


@dataclass
class Fault:
    method: str  # lower-case method name, "*" for any
    error_code: int
    description: str
    parameters: dict[str, Any] | None = None
    times: int = 1
    chat_id: int | None = None


@dataclass
class Bot:
    token: str
    user: User
    can_join_groups: bool = True
    can_read_all_group_messages: bool = False  # privacy mode on, as for any new bot
    supports_inline_queries: bool = False
    updates: list[dict[str, Any]] = field(default_factory=list)
    next_update_id: int = 1
    allowed_updates: list[str] | None = None
    webhook_url: str = ""
    webhook_secret: str | None = None
    webhook_max_connections: int = 40
    webhook_generation: int = 0
    webhook_last_error_date: int | None = None
    webhook_last_error_message: str | None = None
    poll_generation: int = 0
    last_poll_at: float | None = None  # sandbox time a getUpdates last started or ended
    polling: int = 0  # getUpdates requests in flight
    commands: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    sent: deque = field(default_factory=deque)  # (time, chat_id) of sent messages, for rate limits
    acted: deque = field(default_factory=deque)  # times of member actions, for actions_per_second
    delivered: int = 0

    @property
    def id(self) -> int:
        return self.user.id

    def accepts(self, kind: str) -> bool:
        if self.allowed_updates:
            return kind in self.allowed_updates
        return kind not in NOT_DEFAULT_UPDATES

