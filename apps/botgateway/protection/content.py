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
(their join message deleted).

A message that breaks nothing may answer a filter or ask for a #note: their replies (filters.py, notes.py) run on a
task of their own.
"""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import MessageHandler, filters

from . import filters as filter_replies
from . import notes as note_replies
from .enforcement import Act, automation, cached_settings, carry_out

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
    if settings is None or settings.rules.empty:
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
        _joiners(bot_data, settings, rules, message)
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
            removes: tuple[int, ...] = ()) -> None:
    """Starts the act for `verdict` on the message's sender (or `target`), or adds the message to the one in flight
    for them."""
    auto = automation(bot_data)
    application = auto.application
    if application is None:  # not started (post_init binds it)
        return
    chat_id, message_id = message["chat"]["id"], message["message_id"]
    user_id, name, is_channel = target or _sender(message)
    key = (chat_id, user_id)
    if key in auto.exempt or chat_id in auto.powerless:
        return
    deletes = _deletes(settings, verdict)
    if not deletes and verdict.mode == "delete":
        return  # the group keeps blocklisted messages and asks for nothing else
    pending = auto.acting.get(key)
    if pending is not None and not removes:  # one act per member at a time: this message goes with it
        if deletes:
            pending.add(message_id)
        return
    edited = "edit_date" in message
    act = Act(rule=verdict.rule, chat_id=chat_id, user_id=user_id, name=name, mode=verdict.mode,
              duration_seconds=verdict.duration_seconds, reason=verdict.reason or verdict.why, why=verdict.why,
              note=verdict.reason, message_id=message_id, delete=[message_id] if deletes else [],
              notify=_notifies(settings, verdict), sender_chat=is_channel, removes=removes,
              details={"kind": verdict.kind, "mode": verdict.mode, "why": verdict.why, "edited": edited})
    if pending is None:
        auto.acting[key] = act
    # (A bot a member brings in while an act of theirs runs is removed by an act of its own: it is no message.)
    auto.spawn(_carry_out(application, act, key))


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


def _joiners(bot_data, settings, rules, message: dict) -> None:
    members = [member for member in message["new_chat_members"] if isinstance(member, dict)]
    application = automation(bot_data).application
    # Neither the adder nor this bot itself (added back to the group) is removed.
    spared = {(message.get("from") or {}).get("id"), application.bot.id if application is not None else None}
    verdict = rules.evaluate(message)
    if verdict is not None and verdict.rule == "locks" and verdict.kind == "bot":
        bots = tuple(member["id"] for member in members if member.get("is_bot") and member.get("id") not in spared)
        if bots:
            _act_on(bot_data, settings, message, verdict, removes=bots)
    if not settings.blocklist_joiner_names:
        return
    for member in members:
        if member.get("is_bot"):
            continue
        name = full_name(member)
        found = rules.match_name(name)
        if found is None and member.get("username"):
            found = rules.match_name(member["username"])
        if found is not None:
            _act_on(bot_data, settings, message, found, target=(member["id"], name, False))


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
