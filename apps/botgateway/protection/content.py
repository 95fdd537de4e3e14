"""Locks and the blocklist on the bot's message stream, and the filters' and notes' triggers.

`observe_content` sees every group message once, from either path (the webhook's plain-message shortcut, with
Telegram's JSON as it came, and the application's `activity.count` and edited-message handler, with the message's
JSON made again from python-telegram-bot's objects): the same dict, the same verdict. It reads the group's cached
settings and their compiled rules (compiled once per settings version), so a message that breaks no rule costs a few
dict lookups and no core call, and nothing is awaited on the caller's path.

A message that breaks a rule (a lock first, in LOCK_TYPES order, then the blocklist) starts one background act
(enforcement.py): core records it first (rule "locks" or "blocklist", actor system:<rule>) and refuses it for exempt
members (admins, approved members: remembered for a while, their messages left alone), then the message is deleted
(always for a lock; for the blocklist when the group deletes blocklisted messages), the mode's action is taken, the
record completed and the group told (a delete-mode lock only with lock warnings on; a delete-mode blocklist entry
silently, as Rose). One act per member at a time: a flood of violations makes one core record, and the member's
further violations while it runs are deleted with it (or left alone, when core says the member is exempt).

Edits are checked as new messages are. A message sent as a channel has no member behind it: it is deleted, and a ban
mode bans the channel (banChatSenderChat); core's record names the channel by its chat id. Messages sent as the group
itself (anonymous admins) and the linked channel's automatic forwards are the group's own: never acted on.

Members joining: the "bot" lock removes a bot a member added (the adder, whom core checks for exemption, gets the
lock's mode); with blocklist_joiner_names, a joiner whose name or username is blocklisted gets the blocklist's mode
(their join message deleted). A join is told by its service message (new_chat_members), by a chat_member update
(admin bots that ask for them), or by both: it is checked once, from whichever arrives first (joins.py hands both
over; Automation.joins remembers each member's checked join until they are seen leaving); a chat_member telling has
no message to delete, and the join message's later telling is deleted with the act.

A message that breaks nothing may answer a filter or ask for a #note: their replies (filters.py, notes.py) run on a
task of their own.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from telegram import Update
from telegram.ext import MessageHandler, filters

from . import filters as filter_replies
from . import notes as note_replies
from .enforcement import Act, automation, cached_settings, carry_out, delete_messages

logger = logging.getLogger(__name__)

SERVICE_SENDER_IDS = frozenset({777000, 1087968824})  # Telegram (linked channel posts), GroupAnonymousBot


def observe_content(bot_data, message: dict, *, edited: bool = False) -> None:
    """Every group message (and edit), once, from either path. Never raises: it runs on the webhook's path."""
    try:
        _observe(bot_data, message, edited)
    except Exception:
        logger.exception("content rules failed on a message", extra={"chat_id": (message.get("chat") or {}).get("id"),
                                                                       "message_id": message.get("message_id")})


def observe_message_object(bot_data, message, *, edited: bool = False) -> None:
    """The application's path: python-telegram-bot's Message, made into Telegram's JSON only when the group has
    rules to check it against."""
    settings = cached_settings(bot_data, message.chat.id)
    if settings is None or (settings.rules.empty and not settings.ban_lists):
        return
    observe_content(bot_data, message_json(message), edited=edited)


def message_json(message) -> dict:
    """The message as Telegram sent it: python-telegram-bot's to_dict, without the false flags it adds (Telegram
    leaves out a flag that is false)."""
    return {key: value for key, value in message.to_dict().items() if value is not False}


def _observe(bot_data, message: dict, edited: bool) -> None:
    chat_id = message["chat"]["id"]
    settings = cached_settings(bot_data, chat_id)
    if settings is None:
        return
    if settings.ban_lists and bot_data.banlist_checks.observe_message(bot_data, settings, message):
        return  # its sender is on a list the group follows: banned, the message deleted with the ban
    rules = settings.rules
    if rules.empty:
        return
    sender_chat = message.get("sender_chat")
    sender = message.get("from")
    if sender_chat is not None:
        if sender_chat.get("id") == chat_id or message.get("is_automatic_forward"):
            return  # the group's anonymous admins, or its linked channel's post
    elif sender is None or sender.get("id") in SERVICE_SENDER_IDS:
        return
    if "new_chat_members" in message:
        _joiners(bot_data, settings, message)
        return
    verdict = rules.evaluate(message, edited=edited)
    if verdict is not None:
        _act_on(bot_data, settings, message, verdict)
    elif not edited:
        _replies(bot_data, rules, chat_id, message)


def _sender(message: dict) -> tuple[int, str, bool]:
    """(id, name, whether it is a channel) of who sent the message."""
    sender_chat = message.get("sender_chat")
    if sender_chat is not None:
        return sender_chat["id"], sender_chat.get("title") or sender_chat.get("username") or "", True
    return message["from"]["id"], full_name(message["from"]), False


def full_name(user: dict) -> str:
    first, last = user.get("first_name") or "", user.get("last_name") or ""
    return f"{first} {last}" if last else first


def _deletes(settings, verdict) -> bool:
    return verdict.rule == "locks" or settings.blocklist_delete


def _notifies(settings, verdict) -> bool:
    if verdict.mode != "delete":
        return True
    return verdict.rule == "locks" and settings.lock_warns


def _act_on(bot_data, settings, message: dict, verdict, *, target: tuple[int, str, bool] | None = None,
            removes: tuple[int, ...] = ()) -> bool:
    """Starts the act for `verdict` on the message's sender (or `target`), or adds the message to the one in flight
    for them. `message` may have no message_id (None: a join told by a chat_member update). False when nothing is
    done (an exempt member, a chat where the bot lacks its rights, a kept message asking for nothing else)."""
    auto = automation(bot_data)
    application = auto.application
    if application is None:  # not started (post_init binds it)
        return False
    chat_id, message_id = message["chat"]["id"], message.get("message_id")
    user_id, name, is_channel = target or _sender(message)
    key = (chat_id, user_id)
    if key in auto.exempt or chat_id in auto.powerless:
        return False
    deletes = _deletes(settings, verdict)
    if not deletes and verdict.mode == "delete":
        return False  # the group keeps blocklisted messages and asks for nothing else
    pending = auto.acting.get(key)
    if pending is not None and not removes:  # one act per member at a time: this message goes with it
        if deletes and message_id is not None:
            pending.add(message_id)
        return True
    edited = "edit_date" in message
    act = Act(rule=verdict.rule, chat_id=chat_id, user_id=user_id, name=name, mode=verdict.mode,
              duration_seconds=verdict.duration_seconds, reason=verdict.reason or verdict.why, why=verdict.why,
              note=verdict.reason, message_id=message_id,
              delete=[message_id] if deletes and message_id is not None else [],
              notify=_notifies(settings, verdict), sender_chat=is_channel, removes=removes,
              details={"kind": verdict.kind, "mode": verdict.mode, "why": verdict.why, "edited": edited})
    if pending is None:
        auto.acting[key] = act
    # (A bot a member brings in while an act of theirs runs is removed by an act of its own: it is no message.)
    auto.spawn(_carry_out(application, act, key))
    return True


async def _carry_out(application, act: Act, key: tuple[int, int]) -> None:
    auto = automation(application.bot_data)
    try:
        async with auto.act_slots():
            await carry_out(application, act)
    except Exception:  # a task's failure would go unseen otherwise
        logger.exception("content rule action failed", extra={"chat_id": act.chat_id, "rule": act.rule})
    finally:
        if auto.acting.get(key) is act:
            del auto.acting[key]


def _joiners(bot_data, settings, message: dict) -> None:
    members = [member for member in message["new_chat_members"] if isinstance(member, dict) and "id" in member]
    _check_join(bot_data, settings, message["chat"], members, message.get("from"), message.get("message_id"))


def observe_join(bot_data, settings, chat: dict, joiners: list[dict], adder: dict | None,
                 message_id: int | None = None) -> None:
    """Members joining, from either telling of the join: the `new_chat_members` service message (`message_id`) or a
    chat_member update (none; Telegram may send only that one, e.g. when the group hides join messages). Each join
    is checked once however many tellings arrive (Automation.joins, until the member is seen leaving); a later
    telling with a message deletes that join message with the act, when the act deletes. Never raises."""
    try:
        _check_join(bot_data, settings, chat, joiners, adder, message_id)
    except Exception:
        logger.exception("content rules failed on a join", extra={"chat_id": chat.get("id")})


def member_left(bot_data, chat_id: int, user_id: int) -> None:
    """A member left (or was removed): their next join is a new one, checked again."""
    automation(bot_data).joins.pop((chat_id, user_id), None)


def join_verdict(bot_data, chat_id: int, user_id: int):
    """The verdict the joiner's own check came to (their name blocklisted), or None (nothing found, not checked, or
    only the bot lock on whoever added them)."""
    check = automation(bot_data).joins.get((chat_id, user_id))
    return check.verdict if check is not None and check.target == user_id else None


@dataclass(frozen=True, slots=True)
class JoinCheck:
    """What one join's check came to: the verdict and the act's member (the joiner, or the adder of a bot), when it
    fired; `deferred`: a delete-only verdict told without a message, left for the join message's telling."""

    verdict: object = None
    target: int | None = None
    deletes: bool = False
    deferred: bool = False


CLEAR = JoinCheck()


def _check_join(bot_data, settings, chat: dict, members: list[dict], adder: dict | None,
                message_id: int | None) -> None:
    chat_id = chat["id"]
    seen = automation(bot_data).joins
    fresh = []
    for member in members:
        check = seen.get((chat_id, member["id"]))
        if check is None:
            fresh.append(member)
        elif check.deferred and message_id is not None:
            fresh.append(member)  # now there is a message to delete: the act it was waiting for
        elif check.deletes and message_id is not None:
            _delete_with(bot_data, chat_id, check.target, message_id)
    if not fresh:
        return
    for member in fresh:
        seen[(chat_id, member["id"])] = CLEAR
    rules = settings.rules
    if rules.empty:
        return
    application = automation(bot_data).application
    where = {"chat": chat, "message_id": message_id}
    # Neither the adder nor this bot itself (added back to the group) is removed.
    spared = {(adder or {}).get("id"), application.bot.id if application is not None else None}
    verdict = rules.evaluate({**where, "from": adder, "new_chat_members": fresh}) if adder else None
    if verdict is not None and verdict.rule == "locks" and verdict.kind == "bot":
        bots = tuple(member["id"] for member in fresh if member.get("is_bot") and member.get("id") not in spared)
        if bots and _act_on(bot_data, settings, where, verdict, target=(adder["id"], full_name(adder), False),
                            removes=bots):
            check = JoinCheck(verdict, adder["id"], _deletes(settings, verdict))
            for bot_id in bots:
                seen[(chat_id, bot_id)] = check
    if not settings.blocklist_joiner_names:
        return
    for member in fresh:
        if member.get("is_bot"):
            continue
        name = full_name(member)
        found = rules.match_name(name)
        if found is None and member.get("username"):
            found = rules.match_name(member["username"])
        if found is None:
            continue
        deletes = _deletes(settings, found)
        if message_id is None and found.mode == "delete":
            # Only the join message would go, and this telling has none: the join message's telling acts.
            seen[(chat_id, member["id"])] = JoinCheck(found, member["id"], deletes, deferred=True)
            continue
        if _act_on(bot_data, settings, where, found, target=(member["id"], name, False)):
            seen[(chat_id, member["id"])] = JoinCheck(found, member["id"], deletes)


def _delete_with(bot_data, chat_id: int, target: int, message_id: int) -> None:
    """A join's later telling, whose check already acted: its message goes with the act (or on its own, when the act
    is over)."""
    auto = automation(bot_data)
    pending = auto.acting.get((chat_id, target))
    if pending is not None:
        pending.add(message_id)
    elif auto.application is not None:
        auto.spawn(delete_messages(auto.application.bot, chat_id, [message_id]))


def _replies(bot_data, rules, chat_id: int, message: dict) -> None:
    """A filter's answer, or a #note asked for, for a message that broke no rule."""
    text = message.get("text")
    if text is None:
        text = message.get("caption")
    if not text or text.startswith("/"):
        return
    auto = automation(bot_data)
    if auto.application is None:
        return
    found = rules.match_filter(text)
    if found is not None:
        auto.spawn(filter_replies.reply_filter(auto.application, chat_id, message, found))
        return
    name = rules.note_request(text)
    if name is not None:
        auto.spawn(note_replies.reply_hashtag(auto.application, chat_id, message, name))


async def on_edit(update: Update, context) -> None:
    message = update.edited_message
    if message is not None:
        observe_message_object(context.bot_data, message, edited=True)


def handlers() -> list:
    # Group -1 with activity.count, which takes new messages (joiners included, whose checks it starts): one
    # handler per group runs, so this one takes only edits.
    return [MessageHandler(filters.UpdateType.EDITED_MESSAGE & filters.ChatType.GROUPS, on_edit)]
