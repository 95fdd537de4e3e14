"""Typed access to what the handlers share: the core client, the event shipper, known groups."""

from dataclasses import dataclass, field

from cachetools import TTLCache
from telegram.ext import Application, CallbackContext, ExtBot

from apps.coreclient import AsyncCoreClient

from .federations.cache import BanListCache
from .federations.enforce import ArrivalChecks
from .outbox import EventShipper
from .protection.antiflood import FloodTracker
from .protection.antiraid import JoinRateTracker
from .protection.note_cache import NoteCache
from .protection.settings_cache import ProtectionCache
from .ratelimit import DenialThrottle

# How long Telegram's answers about rights and ownership are reused (each is dropped early by an update about it),
# and how many of each are kept (the least recently used go first).
OWN_RIGHTS_SECONDS = 60
REMEMBERED_AT_MOST = 10_000


def telegram_answers() -> TTLCache:
    return TTLCache(maxsize=REMEMBERED_AT_MOST, ttl=OWN_RIGHTS_SECONDS)


@dataclass
class BotData:
    core: AsyncCoreClient | None = None
    shipper: EventShipper | None = None
    # Telegram chat id -> core group id, for chats core already knows.
    groups: dict[int, str] = field(default_factory=dict)
    # Chat id -> the bot's own ChatMember there: its rights, reused for a short while and
    # dropped as soon as a my_chat_member update says they changed.
    own_membership: TTLCache[int, object] = field(default_factory=telegram_answers)
    # (chat id, user id) -> whether Telegram said that user owns the chat: reused for a short while and
    # dropped by any chat_member update about that user there.
    owners: TTLCache[tuple[int, int], bool] = field(default_factory=telegram_answers)
    # Which members' denied commands are still answered (and asked of core).
    denials: DenialThrottle = field(default_factory=DenialThrottle)
    # Each group's protection settings by chat id, invalidated by version (protection/settings_cache.py).
    protection: ProtectionCache = field(default_factory=ProtectionCache)
    # Notes' contents by chat and name, kept for the settings version they were read under (protection/note_cache.py).
    notes: NoteCache = field(default_factory=NoteCache)
    # Antiflood's per-member message counts, and anti-raid's per-chat join counts (in memory, bounded).
    flood: FloodTracker = field(default_factory=FloodTracker)
    joins: JoinRateTracker = field(default_factory=JoinRateTracker)
    # (chat id, user id) -> the last of their join or leave that protection/joins.py handled: the second telling of one
    # event (a chat_member update and a service message) is recognised as such for ten minutes.
    member_events: TTLCache[tuple[int, int], str] = field(
        default_factory=lambda: TTLCache(maxsize=REMEMBERED_AT_MOST * 2, ttl=600))
    # protection/captcha.py's ChallengeSweeper, started in post_init and stopped in post_shutdown.
    challenge_sweeper: object | None = None
    # protection/logchannel.py's LogPoster (the log channel's posts), started in post_init, stopped in post_shutdown.
    log_poster: object | None = None
    # Ban lists (federations): each followed list's banned ids, refreshed by version (federations/cache.py); what the
    # checks on arrival remember (federations/enforce.py); the propagation worker (federations/worker.py), started in
    # post_init with the cache's poller, stopped in post_shutdown.
    banlists: BanListCache = field(default_factory=BanListCache)
    banlist_checks: ArrivalChecks = field(default_factory=ArrivalChecks)
    banlist_worker: object | None = None


class BotContext(CallbackContext[ExtBot, dict, dict, BotData]):
    @property
    def core(self) -> AsyncCoreClient:
        return self.bot_data.core

    @property
    def shipper(self) -> EventShipper:
        return self.bot_data.shipper


BotApplication = Application[ExtBot, BotContext, dict, dict, BotData, None]
