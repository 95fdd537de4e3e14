"""Antiflood: N messages from one member within T seconds (or N consecutive messages from one member in the chat,
when the window is unset, as Rose counts them) trigger the group's flood action, once per flood.

`observe_message` runs for every group message the bot sees, on both paths (the webhook's plain-message shortcut and
the application's `activity.count`), so it is pure bookkeeping in memory: the group's settings come from the cache
(`BotData.protection`, loaded in the background on a miss, never a core call per message), a member's recent messages
are a deque, and idle members and chats are swept out as the dicts grow (bounded memory).

A flood schedules one task, which asks core to record the automated action (actor `system:antiflood`; core refuses
exempt members: admins and approved members, remembered here for a minute so their further messages cost nothing),
acts on Telegram, completes the record (executed, or failed with Telegram's error) and says it in the group in one
short line. Messages the member sends while that task runs belong to the same flood: they are deleted with it when
the group deletes flood messages, and never trigger a second action. Once the task is done, counting starts over.
"""

import logging
import time
from collections import deque
from dataclasses import dataclass, field

from .enforcement import EXEMPT_SECONDS, Act, Automation, cached_settings, carry_out

logger = logging.getLogger(__name__)

RULE = "antiflood"
IDLE_CHAT_SECONDS = 600  # a chat silent this long (by its messages' dates) is forgotten at the next sweep
FIRST_SWEEP_AT = 256  # members (or chats) kept before the first sweep; then twice what the last sweep left
MAX_FLOOD_MESSAGES = 1000  # message ids kept for deletion per flood


@dataclass(slots=True, eq=False)
class Flood:
    """One flood: who, the messages that made it (and those sent while it is being handled), and the group's flood
    settings when it was detected."""

    chat_id: int
    user_id: int
    message_ids: list[int]
    count: int
    limit: int
    window_seconds: int | None
    action: str
    duration_seconds: int | None
    delete_messages: bool
    name: str = ""
    detected_at: float = field(default_factory=time.monotonic)

    @property
    def deletes(self) -> bool:
        return self.delete_messages or self.action == "delete"

    def add(self, message_id: int) -> None:
        if len(self.message_ids) < MAX_FLOOD_MESSAGES:
            self.message_ids.append(message_id)


class _ChatState:
    __slots__ = ("floods", "last_date", "last_sender", "limit", "members", "streak", "sweep_at", "window")

    def __init__(self, limit: int, window: int | None):
        self.limit, self.window = limit, window
        self.members: dict[int, deque] = {}  # window mode: user -> their last `limit` (date, message id)
        self.last_sender: int | None = None  # consecutive mode: who wrote the chat's last message
        self.streak: list[int] = []  # ... and the ids of their messages since someone else wrote
        self.last_date = 0.0
        self.floods: dict[int, Flood] = {}  # user -> the flood being handled
        self.sweep_at = FIRST_SWEEP_AT

    def sweep(self, now: float) -> None:
        horizon = now - self.window
        for user_id in [user for user, entries in self.members.items() if entries[-1][0] <= horizon]:
            del self.members[user_id]
        self.sweep_at = max(FIRST_SWEEP_AT, 2 * len(self.members))


class FloodTracker(Automation):
    """Counts each member's messages per chat and tells of a flood once. Pure: it decides, `observe_message` acts.
    It is also the bot's `Automation` (the exempt members, the tasks, the core client of automated actions)."""

    def __init__(self, *, clock=time.monotonic, exempt_seconds: float = EXEMPT_SECONDS, capacity: int = 100_000):
        super().__init__(clock=clock, exempt_seconds=exempt_seconds, capacity=capacity)
        self._chats: dict[int, _ChatState] = {}
        self._sweep_chats_at = FIRST_SWEEP_AT

    def observe(self, settings, chat_id: int, user_id: int, message_id: int, date: float,
                name: str = "") -> Flood | None:
        """Counts one message; the Flood when this message makes one (not for the messages that follow it)."""
        limit = settings.flood_limit
        if not limit:
            if chat_id in self._chats and not self._chats[chat_id].floods:
                del self._chats[chat_id]
            return None
        state = self._chats.get(chat_id)
        window = settings.flood_window_seconds
        # Only a change of the count's own settings starts it over (a new version may be any setting's change).
        if state is None or state.limit != limit or state.window != window:
            state = self._fresh_state(chat_id, state, limit, window, date)
        state.last_date = date
        flood = state.floods.get(user_id)
        if flood is not None:  # being handled: part of that flood
            flood.add(message_id)
            if window is None:
                state.last_sender, state.streak = user_id, []
            return None
        if window is None:
            if state.last_sender == user_id:
                state.streak.append(message_id)
            else:
                state.last_sender, state.streak = user_id, [message_id]
            if len(state.streak) < limit:
                return None
            message_ids, state.streak = state.streak, []
        else:
            entries = state.members.get(user_id)
            if entries is None:
                if len(state.members) >= state.sweep_at:
                    state.sweep(date)
                entries = state.members[user_id] = deque(maxlen=limit)
            entries.append((date, message_id))
            if len(entries) < limit or date - entries[0][0] >= window:
                return None
            message_ids = [mid for _, mid in entries]
            del state.members[user_id]
        if (chat_id, user_id) in self.exempt:
            return None
        flood = Flood(chat_id, user_id, message_ids, len(message_ids), limit, window, settings.flood_action,
                      settings.flood_action_duration_seconds, settings.flood_delete_messages, name)
        state.floods[user_id] = flood
        return flood

    def _fresh_state(self, chat_id: int, old: _ChatState | None, limit: int, window: int | None,
                     date: float) -> _ChatState:
        if old is None and len(self._chats) >= self._sweep_chats_at:
            self._sweep_chats(date)
        state = _ChatState(limit, window)
        if old is not None:
            state.floods = old.floods  # floods in hand stay one flood across a settings change
        self._chats[chat_id] = state
        return state

    def _sweep_chats(self, now: float) -> None:
        horizon = now - IDLE_CHAT_SECONDS
        for chat_id in [chat for chat, state in self._chats.items() if state.last_date <= horizon and not state.floods]:
            del self._chats[chat_id]
        self._sweep_chats_at = max(FIRST_SWEEP_AT, 2 * len(self._chats))

    def finished(self, flood: Flood) -> None:
        """The flood's task is done: the member's next messages count from zero."""
        state = self._chats.get(flood.chat_id)
        if state is not None and state.floods.get(flood.user_id) is flood:
            del state.floods[flood.user_id]

    def size(self) -> tuple[int, int]:
        """(chats, members) held: what the memory bound is about."""
        return len(self._chats), sum(len(state.members) for state in self._chats.values())


def observe_message(bot_data, chat_id: int, user_id: int | None, message_id: int, date: float,
                    name: str = "") -> None:
    """Every group message, from either path, once. `date`: the message's Unix time; `name`: the sender's name,
    for the group's notice."""
    if user_id is None:  # sent as a channel or as the group (anonymous admins): no member to act on
        return
    settings = cached_settings(bot_data, chat_id)
    if settings is None:
        return
    tracker: FloodTracker = bot_data.flood
    flood = tracker.observe(settings, chat_id, user_id, message_id, date, name)
    if flood is not None and tracker.application is not None:
        tracker.spawn(handle_flood(tracker.application, flood))


async def handle_flood(application, flood: Flood) -> None:
    tracker: FloodTracker = application.bot_data.flood
    try:
        await carry_out(application, flood_act(flood))
    except Exception:  # a task's failure would go unseen otherwise
        logger.exception("antiflood action failed", extra={"chat_id": flood.chat_id, "member": flood.user_id})
    finally:
        tracker.finished(flood)


def flood_act(flood: Flood) -> Act:
    """The flood's action: on core's record with the flood's figures; the flood's messages (with those that join it
    while it is handled) deleted after the action and its notice, when the group deletes flood messages."""
    span = (f"{flood.count} messages in {flood.window_seconds} s" if flood.window_seconds
            else f"{flood.count} consecutive messages")
    return Act(rule=RULE, chat_id=flood.chat_id, user_id=flood.user_id, name=flood.name, mode=flood.action,
               duration_seconds=flood.duration_seconds, reason=f"flooding ({span})", cause="flooding",
               message_id=flood.message_ids[flood.count - 1], delete=flood.message_ids if flood.deletes else [],
               delete_first=False, deleted_words="had their flood deleted",
               details={"messages": flood.count, "limit": flood.limit, "window_seconds": flood.window_seconds,
                        "action": flood.action})
