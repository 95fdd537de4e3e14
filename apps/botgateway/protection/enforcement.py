"""Automated actions on members, shared by the rules that take them (antiflood, locks, the blocklist; anti-raid and
captcha use its Telegram and core steps): core records the action first (actor `system:<rule>`) and refuses it for
exempt members (admins, approved members: remembered here for a while, so their further messages cost nothing);
then the bot acts on Telegram (deletes the offending messages, warns, mutes, kicks or bans), completes the record
with Telegram's outcome and says it in the group, naming who and why.

An `Act` is one such action. Its list of messages to delete may grow while it runs (the member's further messages
that belong to it, e.g. the rest of a flood): they are deleted with it, in batches, and none is added after the last
check, as nothing is awaited between it and the act's end.

`Automation` holds what the rules share in the bot's memory: the exempt members, the chats whose settings are being
loaded, the acts in flight and the background tasks, the application and the core client of automated actions. The
bot has one (BotData.flood: antiflood's tracker is one, with its counts besides).
"""

from __future__ import annotations

import asyncio
import html
import logging
import time
from dataclasses import dataclass, field

from cachetools import TTLCache
from telegram import ChatMemberAdministrator, ChatMemberOwner, ChatPermissions
from telegram.error import RetryAfter, TelegramError

from apps.common.error_codes import ErrorCode
from apps.coreclient import CoreError, CoreUnavailable

from ..durations import describe_duration, restriction_end

logger = logging.getLogger(__name__)

AUTOMATION_CORE_TIMEOUT = 5.0  # seconds: an automated action's core calls run in the background
EXEMPT_SECONDS = 60  # how long core's "exempt" answer about a member is reused
LOAD_RETRY_SECONDS = 10  # after a failed settings load, the chat's messages wait this long before asking again
JOIN_MEMORY_SECONDS = 600  # a join's two tellings arrive together; a member seen leaving is forgotten at once
MAX_ACT_MESSAGES = 1000  # message ids kept for deletion per act
DELETE_BATCH = 100  # Telegram's deleteMessages takes at most 100 ids
# The content rules' acts in flight at once over all chats (a wave of spam accounts each posting a link): core's load
# stays bounded; an act waiting its turn keeps its member's further messages, deleted with it.
ACT_CONCURRENCY = 16
# Telegram refused an act for the bot's rights in a chat: the content rules start no act there for this long (each
# would be a core record of a failure), and the group is told once in POWERLESS_TOLD_SECONDS.
POWERLESS_SECONDS = 60
POWERLESS_TOLD_SECONDS = 3600
_RIGHTS_REFUSALS = ("not enough rights", "chat_admin_required", "need administrator rights", "have no rights",
                    "bot is not a member", "bot was kicked")

# Core's moderation type per mode, and the modes whose restriction lasts the given duration.
ACTION_TYPES = {"delete": "delete", "warn": "warn", "mute": "mute", "tmute": "mute", "kick": "kick", "ban": "ban",
                "tban": "ban"}
TIMED_ACTIONS = frozenset({"tmute", "tban"})
DONE_WORDS = {"warn": "has been warned", "mute": "has been muted", "tmute": "has been muted",
              "kick": "has been kicked", "ban": "has been banned", "tban": "has been banned"}

# What an act came to.
EXEMPT = "exempt"  # core refused: an admin or approved member; nothing was done
REFUSED = "refused"  # core refused for another reason (logged); nothing was done
UNAVAILABLE = "unavailable"  # core did not answer: without its record nothing is done
EXECUTED = "executed"
FAILED = "failed"  # Telegram refused the action (on core's record with Telegram's error)


class Automation:
    """What automated actions share in the bot's memory (one per bot: BotData.flood)."""

    def __init__(self, *, clock=time.monotonic, exempt_seconds: float = EXEMPT_SECONDS, capacity: int = 100_000):
        self._clock = clock
        # (chat, user) core said is exempt: not acted on again for a while.
        self.exempt: TTLCache[tuple[int, int], str] = TTLCache(maxsize=capacity, ttl=exempt_seconds, timer=clock)
        # Chats whose settings are being loaded, and when a failed load may be tried again.
        self.loading: set[int] = set()
        self.load_failed_until: dict[int, float] = {}
        # (chat, member) -> the content rules' act in flight for them: their further violations join it.
        self.acting: dict[tuple[int, int], Act] = {}
        # (chat, member) -> what the content rules' check of their join came to (content.JoinCheck): the join's
        # second telling (a chat_member update and its service message) is not checked again; forgotten when the
        # member is seen leaving, or after JOIN_MEMORY_SECONDS.
        self.joins: TTLCache[tuple[int, int], object] = TTLCache(maxsize=capacity, ttl=JOIN_MEMORY_SECONDS,
                                                                  timer=clock)
        # Chat -> Telegram's refusal for want of the bot's rights there (see POWERLESS_SECONDS), and the chats told.
        self.powerless: TTLCache[int, str] = TTLCache(maxsize=capacity, ttl=POWERLESS_SECONDS, timer=clock)
        self.told_powerless: TTLCache[int, bool] = TTLCache(maxsize=capacity, ttl=POWERLESS_TOLD_SECONDS, timer=clock)
        self.tasks: set[asyncio.Task] = set()
        self._act_slots: asyncio.Semaphore | None = None
        self.application = None  # bound in post_init: the bot and core the tasks use
        # The core client of automated actions, opened in post_init: background work waits for a slow answer
        # (AUTOMATION_CORE_TIMEOUT) instead of timing out and asking twice, and its circuit breaker is not the
        # commands' one.
        self.core = None

    def open_core(self, base_url: str, api_key: str) -> None:
        from apps.coreclient import AsyncCoreClient

        self.core = AsyncCoreClient(base_url, api_key, timeout=AUTOMATION_CORE_TIMEOUT, retries=0)

    async def close_core(self) -> None:
        core, self.core = self.core, None
        if core is not None:
            await core.aclose()

    def remember_exempt(self, chat_id: int, user_id: int, reason: str) -> None:
        self.exempt[(chat_id, user_id)] = reason

    def act_slots(self) -> asyncio.Semaphore:
        if self._act_slots is None:
            self._act_slots = asyncio.Semaphore(ACT_CONCURRENCY)
        return self._act_slots

    def spawn(self, coroutine) -> asyncio.Task:
        task = asyncio.get_running_loop().create_task(coroutine)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task


def automation(bot_data) -> Automation:
    return bot_data.flood


def automation_core(bot_data):
    """The core client automated actions use (Automation.core), or the bot's own before post_init opened it."""
    return bot_data.flood.core or bot_data.core


def cached_settings(bot_data, chat_id: int):
    """The chat's protection settings from the cache, or None after asking for them in the background (never a core
    call on the caller's path: the chat's next messages find them)."""
    settings = bot_data.protection.get(chat_id)
    if settings is None:
        _load_in_background(bot_data, chat_id)
    return settings


def _load_in_background(bot_data, chat_id: int) -> None:
    auto = automation(bot_data)
    if chat_id in auto.loading or bot_data.core is None:
        return
    retry_at = auto.load_failed_until.get(chat_id)
    if retry_at is not None:
        if auto._clock() < retry_at:
            return
        del auto.load_failed_until[chat_id]
    auto.loading.add(chat_id)

    async def load():
        try:
            await bot_data.protection.load(bot_data.core, chat_id)
        except (CoreUnavailable, CoreError) as exc:
            if len(auto.load_failed_until) > 10_000:
                auto.load_failed_until.clear()
            auto.load_failed_until[chat_id] = auto._clock() + LOAD_RETRY_SECONDS
            logger.info("protection settings not loaded", extra={"chat_id": chat_id, "error": str(exc)})
        finally:
            auto.loading.discard(chat_id)

    try:
        auto.spawn(load())
    except RuntimeError:  # no running loop (a synchronous caller): the next message asks again
        auto.loading.discard(chat_id)


# -- Telegram and core, step by step


def mention(user_id: int, name: str) -> str:
    return f'<a href="tg://user?id={user_id}">{html.escape(name or str(user_id))}</a>'


async def telegram_call(call, *args, **kwargs):
    """A Telegram action, with its flood limit waited out however often it comes (the rate limiter retries a few
    times; an automated action is not dropped for a 429)."""
    while True:
        try:
            return await call(*args, **kwargs)
        except RetryAfter as exc:
            await asyncio.sleep(exc._retry_after.total_seconds() + 0.1)  # as ratelimit.py reads it


CORE_RETRY_PAUSES = (0.5, 1, 2, 4, 4, 4, 4, 4, 4)  # core unreachable (or its breaker open): about 30 s of asking


async def patiently(call, *args, **kwargs):
    """A core call asked again while core is unreachable (a timeout under load, the circuit breaker open), for about
    half a minute: an automated action is not dropped, nor left 'requested', for a slow answer. Core's refusals
    (CoreError) are not retried."""
    for pause in (*CORE_RETRY_PAUSES, None):
        try:
            return await call(*args, **kwargs)
        except CoreUnavailable:
            if pause is None:
                raise
            await asyncio.sleep(pause)


async def record_automated(core, *, rule: str, chat_id: int, type: str, user_id: int, name: str = "",
                           reason: str = "", until=None, message_id: int | None = None, details: dict | None = None):
    """Asks core to record an automated action; raises CoreError(exempt_member) for an exempt member. Asked again
    while core is unreachable (`patiently`): when an answer that was lost had recorded it, a second record is left
    requested, which is better than a flooder or raider left alone."""
    return await patiently(core.protection_action, telegram_chat_id=chat_id, rule=rule, type=type,
                           target_telegram_user_id=user_id, display_name=name or None, reason=reason, until=until,
                           telegram_message_id=message_id, details=details or {})


async def complete(core, action_id: str, error: TelegramError | str | None) -> None:
    message = error if isinstance(error, str) or error is None else error.message
    try:
        await patiently(core.moderation_complete, action_id, status="failed" if error else "executed", error=message)
    except (CoreUnavailable, CoreError) as exc:  # a conflict: completed by an earlier attempt whose answer was lost
        logger.warning("could not complete an automated action in core", extra={"action_id": action_id,
                                                                                  "error": str(exc)})


async def lacks_rights(bot, chat_id: int, error: TelegramError | None) -> bool:
    """Whether Telegram refused for want of the bot's rights in the chat (not for this one message). "Message can't
    be deleted" says either (no right to, or a message older than Telegram lets anyone delete): the bot's own
    membership tells which."""
    text = (error.message if error is not None else "").lower()
    if any(refusal in text for refusal in _RIGHTS_REFUSALS):
        return True
    if "can't be deleted" not in text:
        return False
    try:
        me = await bot.get_chat_member(chat_id, bot.id)
    except TelegramError:
        return True
    return not (isinstance(me, ChatMemberOwner)
                or (isinstance(me, ChatMemberAdministrator) and me.can_delete_messages))


def is_exempt_refusal(error: CoreError) -> bool:
    return error.code == ErrorCode.EXEMPT_MEMBER


async def act_on_member(bot, chat_id: int, user_id: int, kind: str, until) -> None:
    """What a ban, kick or mute does on Telegram (a kick: banned, then let back in)."""
    if kind == "ban":
        await telegram_call(bot.ban_chat_member, chat_id, user_id, until_date=until)
    elif kind == "kick":
        await telegram_call(bot.ban_chat_member, chat_id, user_id)
        await telegram_call(bot.unban_chat_member, chat_id, user_id, only_if_banned=True)
    elif kind == "mute":
        await telegram_call(bot.restrict_chat_member, chat_id, user_id, ChatPermissions.no_permissions(),
                            until_date=until)


async def delete_messages(bot, chat_id: int, message_ids: list[int], done: int = 0) -> tuple[int, TelegramError | None]:
    """Deletes `message_ids` from index `done` on; returns how many are done and Telegram's first refusal. Telegram
    skips messages that are already gone."""
    first_error = None
    while done < len(message_ids):
        batch = message_ids[done:done + DELETE_BATCH]
        try:
            await telegram_call(bot.delete_messages, chat_id, batch)
        except TelegramError as exc:
            logger.info("messages not deleted", extra={"chat_id": chat_id, "error": exc.message})
            first_error = first_error or exc
        done += len(batch)
    return done, first_error


async def make_member(core, chat_id: int, user_id: int, name: str) -> bool:
    """Tells core the member belongs to the group (they just wrote there: their messages' events, which would tell
    it, may still be on their way); False when core cannot be told."""
    try:
        group = await core.group_by_chat(chat_id)
        found = (await core.user_list(telegram_user_id=user_id, limit=1))["items"]
        user = found[0] if found else await core.user_create(
            username=f"tg{user_id}", telegram_user_id=user_id, display_name=name)
        await core.member_set(group.id, user_id=user["id"], status="member")
    except (CoreError, CoreUnavailable) as exc:
        logger.warning("automated action: membership not set", extra={"chat_id": chat_id, "error": str(exc)})
        return False
    return True


# -- one automated action


@dataclass(slots=True, eq=False)
class Act:
    """One automated action on a member (or on a channel a message was sent as, `sender_chat`)."""

    rule: str
    chat_id: int
    user_id: int
    name: str
    mode: str  # delete, warn, mute, tmute, kick, ban, tban
    duration_seconds: int | None = None
    reason: str = ""  # on core's record
    why: str = ""  # the notice's explanation ("sticker is locked")
    note: str = ""  # the reason the group's admins gave the rule, told in the notice
    cause: str = ""  # what the notice says it is for ("flooding")
    message_id: int | None = None  # the message the record names
    delete: list[int] = field(default_factory=list)  # messages to delete; more may join while the act runs
    delete_first: bool = True  # delete before acting on the member (else after the notice)
    notify: bool = True  # say it in the group
    details: dict = field(default_factory=dict)
    deleted_words: str = "had their message deleted"  # the notice of a delete-only act
    sender_chat: bool = False  # user_id is a channel's chat id (a message sent as the channel)
    removes: tuple[int, ...] = ()  # members (bots an adder brought in) removed once the record stands

    def add(self, message_id: int) -> None:
        if len(self.delete) < MAX_ACT_MESSAGES:
            self.delete.append(message_id)

    @property
    def kind(self) -> str:
        """Core's type of the action. A channel cannot be warned, muted or kicked (it is not a member): its message
        is deleted; a ban is Telegram's ban of the sender chat."""
        kind = ACTION_TYPES[self.mode]
        if self.sender_chat and kind not in ("delete", "ban"):
            return "delete"
        return kind

    @property
    def timed(self) -> bool:
        return self.mode in TIMED_ACTIONS and bool(self.duration_seconds) and not self.sender_chat

    def who(self) -> str:
        if self.sender_chat:
            return html.escape(self.name or str(self.user_id))
        return mention(self.user_id, self.name)


async def enforce(application, *, rule: str, chat_id: int, user_id: int, name: str, message_id: int | None,
                  mode: str, duration_seconds: int | None, reason: str, why: str, delete_message: bool,
                  notify: bool) -> str:
    """One automated action of `rule` on a member for a message: recorded in core first (refused for an exempt
    member, then nothing is done), the message deleted when `delete_message` (or the mode is delete), the mode's
    action, the record completed, the group told when `notify`. Returns what it came to (EXECUTED, FAILED, EXEMPT,
    REFUSED, UNAVAILABLE)."""
    act = Act(rule=rule, chat_id=chat_id, user_id=user_id, name=name, mode=mode, duration_seconds=duration_seconds,
              reason=reason or why, why=why, message_id=message_id, notify=notify,
              delete=[message_id] if message_id is not None and (delete_message or mode == "delete") else [])
    return await carry_out(application, act)


async def carry_out(application, act: Act) -> str:
    bot, core = application.bot, automation_core(application.bot_data)
    kind = act.kind
    until = restriction_end(act.duration_seconds) if act.timed else None
    fields = dict(rule=act.rule, chat_id=act.chat_id, type=kind, user_id=act.user_id, name=act.name,
                  reason=act.reason, until=until, message_id=act.message_id,
                  details=act.details)
    try:
        try:
            recorded = await record_automated(core, **fields)
        except CoreError as exc:
            # A warning needs core to count the member as one.
            if exc.code != ErrorCode.NOT_A_MEMBER or not await make_member(core, act.chat_id, act.user_id, act.name):
                raise
            recorded = await record_automated(core, **fields)
    except CoreError as exc:
        if is_exempt_refusal(exc):
            reason = exc.details.get("reason", "") if isinstance(exc.details, dict) else ""
            automation(application.bot_data).remember_exempt(act.chat_id, act.user_id, reason or "exempt")
            return EXEMPT
        logger.warning("core refused an automated action", extra={"rule": act.rule, "chat_id": act.chat_id,
                                                                   "error": str(exc)})
        return REFUSED
    except CoreUnavailable as exc:  # core decides: without its record nothing is done
        logger.warning("automated action: core unavailable, nothing done", extra={
            "rule": act.rule, "chat_id": act.chat_id, "error": str(exc)})
        return UNAVAILABLE
    error: TelegramError | None = None
    refused: TelegramError | None = None
    deleted = 0
    if act.delete_first or kind == "delete":
        deleted, refused = await delete_messages(bot, act.chat_id, act.delete)
        if kind == "delete":
            error = refused
    for member_id in act.removes:
        try:
            await act_on_member(bot, act.chat_id, member_id, "kick", None)
        except TelegramError as exc:
            logger.warning("automated action: member not removed", extra={"chat_id": act.chat_id,
                                                                          "error": exc.message})
            error = error or exc
    try:
        if act.sender_chat and kind == "ban":
            await telegram_call(bot.ban_chat_sender_chat, act.chat_id, act.user_id)
        elif kind not in ("delete", "warn"):
            await act_on_member(bot, act.chat_id, act.user_id, kind, until)
    except TelegramError as exc:
        error = exc
    await complete(core, recorded.id, error)
    for refusal in dict.fromkeys(refusal for refusal in (error, refused) if refusal is not None):
        if await lacks_rights(bot, act.chat_id, refusal):
            await _powerless(application, act, refusal)
            break
    if error is not None:
        logger.warning("automated action refused by Telegram", extra={"rule": act.rule, "chat_id": act.chat_id,
                                                                       "error": error.message})
    else:
        notice = await _warn_outcome(application, act, recorded) if kind == "warn" else None
        if act.notify:
            await _tell(bot, act, notice or _notice(act))
    # The messages that joined the act meanwhile (all of them when it deletes after acting); none can join after
    # the last check, as nothing is awaited between it and the act's end.
    deleted, _ = await delete_messages(bot, act.chat_id, act.delete, deleted)
    await delete_messages(bot, act.chat_id, act.delete, deleted)
    return FAILED if error is not None else EXECUTED


async def _powerless(application, act: Act, refusal: TelegramError) -> None:
    """Telegram refused the act for want of the bot's rights: the chat is remembered as such for a while, and told
    once what the bot needs."""
    auto = automation(application.bot_data)
    auto.powerless[act.chat_id] = refusal.message
    if act.chat_id in auto.told_powerless:
        return
    auto.told_powerless[act.chat_id] = True
    text = (f"I could not act on a message that breaks this group's {act.rule} ({html.escape(act.why or act.reason)}): "
            f"Telegram says \"{html.escape(refusal.message)}\". Make me an admin with the rights to delete messages "
            "and to ban users, or these rules do nothing here.")
    await _tell(application.bot, act, text)


def _notice(act: Act) -> str:
    done = act.deleted_words if act.kind == "delete" else DONE_WORDS[act.mode]
    text = f"{act.who()} {done}"
    if act.cause:
        text += f" for {act.cause}"
    if act.timed:
        text += f" ({describe_duration(act.duration_seconds)})"
    return text + _explained(act)


def _explained(act: Act) -> str:
    """': <why>' and the admins' reason, for the notice's end."""
    text = f": {html.escape(act.why)}" if act.why else ""
    if act.note and act.note != act.why:
        text += f". Reason: {html.escape(act.note)}"
    return text


async def _tell(bot, act: Act, notice: str) -> None:
    try:
        await bot.send_message(act.chat_id, notice + ("" if notice.endswith((".", "!", "?")) else "."))
    except TelegramError as exc:
        logger.info("automated action's notice not sent", extra={"chat_id": act.chat_id, "error": exc.message})


async def _warn_outcome(application, act: Act, warned) -> str | None:
    """A warn counts towards the group's warn limit as a manual /warn does; at the limit, the limit's action is
    recorded (automated, the same rule), done, and the warnings reset. The notice, or None for the plain one."""
    bot, core = application.bot, automation_core(application.bot_data)
    who = act.who()
    cause = f" for {act.cause}" if act.cause else ""
    try:
        state = await core.warnings(warned.group_id, warned.target_user_id)
        active, limit = state["active_warnings"], state["warn_limit"]
        if active < limit:
            return f"{who} has been warned{cause} ({active}/{limit})" + _explained(act)
        group = await core.group_get(warned.group_id)
    except (CoreError, CoreUnavailable) as exc:
        logger.warning("automated warn: warnings not read", extra={"chat_id": act.chat_id, "error": str(exc)})
        return None
    kind, seconds = group["warn_action"], group.get("warn_action_duration_seconds")
    if kind not in ("ban", "kick", "mute"):
        return None
    until = restriction_end(seconds) if kind != "kick" else None
    try:
        follow_up = await record_automated(
            core, rule=act.rule, chat_id=act.chat_id, type=kind, user_id=act.user_id, name=act.name,
            reason=f"warn limit reached ({limit})", until=until)
    except (CoreError, CoreUnavailable) as exc:
        logger.warning("automated warn: the warn limit's action was not recorded", extra={
            "chat_id": act.chat_id, "error": str(exc)})
        return None
    error = None
    try:
        await act_on_member(bot, act.chat_id, act.user_id, kind, until)
    except TelegramError as exc:
        error = exc
    await complete(core, follow_up.id, error)
    if error is not None:
        return None
    try:
        await core.warnings_reset(warned.group_id, warned.target_user_id, reason="warn limit reached")
    except (CoreError, CoreUnavailable) as exc:
        logger.warning("automated warn: warnings not reset", extra={"chat_id": act.chat_id, "error": str(exc)})
    outcome = {"ban": "banned", "kick": "kicked", "mute": "muted"}[kind]
    span = f" for {describe_duration(seconds)}" if seconds and kind != "kick" else ""
    by = f" by {act.cause}" if act.cause else ""
    return f"{who} reached {limit} warnings{by} and is {outcome}{span}" + _explained(act)
