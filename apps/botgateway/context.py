"""Typed access to what the handlers share: the core client, the event shipper, known groups."""

from dataclasses import dataclass, field

from telegram.ext import Application, CallbackContext, ExtBot

from apps.coreclient import AsyncCoreClient

from .outbox import EventShipper
from .ratelimit import DenialThrottle


@dataclass
class BotData:
    core: AsyncCoreClient | None = None
    shipper: EventShipper | None = None
    # Telegram chat id -> core group id, for chats core already knows.
    groups: dict[int, str] = field(default_factory=dict)
    # Chat id -> (the bot's own ChatMember there, when fetched): its rights, reused for a short while and
    # dropped as soon as a my_chat_member update says they changed.
    own_membership: dict[int, tuple[object, float]] = field(default_factory=dict)
    # (chat id, user id) -> (whether Telegram said that user owns the chat, when): reused for a short while and
    # dropped by any chat_member update about that user there.
    owners: dict[tuple[int, int], tuple[bool, float]] = field(default_factory=dict)
    # Which members' denied commands are still answered (and asked of core).
    denials: DenialThrottle = field(default_factory=DenialThrottle)


class BotContext(CallbackContext[ExtBot, dict, dict, BotData]):
    @property
    def core(self) -> AsyncCoreClient:
        return self.bot_data.core

    @property
    def shipper(self) -> EventShipper:
        return self.bot_data.shipper


BotApplication = Application[ExtBot, BotContext, dict, dict, BotData, None]
