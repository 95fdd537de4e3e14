"""The /fed... commands (issue 16), with Rose's names, argument order and answers. A ban list is a "federation" in
the bot's words. Core decides every permission (in the list's own scope, or the group's for joining and leaving)
and audits every change; the bot parses, picks the list (choice.py), asks core and answers (texts.py).

/newfed <name> (in private), /delfed [id] (the owner, after a confirmation button), /renamefed [id] <name>,
/fedinfo [id], /fedadmins [id], /fedpromote <user> [id], /feddemote <user> [id], /joinfed <id>, /leavefed [id],
/fedchats [id], /fban <user> [id] [reason], /unfban <user> [id] [reason], /fbanlist [id] [csv|json] (a file),
/fedstat [user] [id], /setfedlog [id] (in the log chat; /fedlog), /unsetfedlog [id], /subfed [id] <source id>,
/unsubfed [id] <source id>, /fedsubs [id], /myfeds.
"""

from __future__ import annotations

import asyncio
import html
import logging
import re

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Update
from telegram.error import TelegramError
from telegram.ext import CallbackQueryHandler, CommandHandler, filters

from apps.common.error_codes import ErrorCode
from apps.coreclient import CoreError, CoreUnavailable

from ..command_frame import run_command
from ..flows import (
    UNAVAILABLE_REPLY,
    Actor,
    StopCommand,
    core_call,
    core_refusal,
    core_user,
    ensure_group,
    refuse_self,
    reply,
    resolve_actor,
    resolve_target,
)
from ..helplines import HelpLine
from ..parsing import TargetRef, UsageError, parse_target_args
from ..protection.logchannel import forwarded_channel
from . import choice, texts
from . import worker as propagation_worker

logger = logging.getLogger(__name__)

VIEW, BAN, MANAGE, ROLES, SUBSCRIBE = "BAN_LIST_VIEW", "BAN_LIST_BAN", "BAN_LIST_MANAGE", "MANAGE_ROLES", \
    "BAN_LIST_SUBSCRIBE"
DELETE_PREFIX = "fdel"
UPLOAD_BYTES = 50 * 1000 * 1000  # the Bot API's limit on a file a bot sends
# Sending a file takes longer than a message: an upload of a big list on a slow link.
UPLOAD_SECONDS = 120

HELP_LINES: list[HelpLine] = [
    HelpLine("/newfed <name>", "create a federation (a ban list shared by many groups; in private)", anywhere=True),
    HelpLine("/myfeds", "the federations you own or admin", anywhere=True),
    HelpLine("/fedinfo [fed id], /fedadmins [fed id], /fedsubs [fed id]", "a federation, its admins, the "
             "federations it takes bans from", anywhere=True),
    HelpLine("/joinfed <fed id>, /leavefed [fed id]", "this group takes a federation's bans, or stops (the group's "
             "owner)", SUBSCRIBE),
    HelpLine("/fban <user> [fed id] [reason], /unfban <user> [fed id] [reason]", "ban or unban in every chat of the "
             "federation (its admins)", anywhere=True),
    HelpLine("/fedstat [user] [fed id]", "the federations a user is banned in", anywhere=True),
    HelpLine("/fedchats [fed id], /fbanlist [fed id] [csv|json]", "a federation's chats, its bans as a file "
             "(BAN_LIST_VIEW)", anywhere=True),
    HelpLine("/fedpromote <user> [fed id], /feddemote <user> [fed id]", "a federation's admins (its owner)",
             anywhere=True),
    HelpLine("/renamefed [fed id] <name>, /delfed [fed id]", "rename or delete your federation", anywhere=True),
    HelpLine("/setfedlog [fed id], /unsetfedlog [fed id]", "this chat (or the channel a replied-to message was "
             "forwarded from) gets the federation's log", anywhere=True),
    HelpLine("/subfed [fed id] <source fed id>, /unsubfed [fed id] <source fed id>", "a federation takes (or stops "
             "taking) another's bans", anywhere=True),
]

USAGE = {
    "newfed": "Use /newfed <name>, in private with me.",
    "delfed": "Use /delfed <fed id>.",
    "renamefed": "Use /renamefed <fed id> <new name>.",
    "fedinfo": "Use /fedinfo <fed id>.",
    "fedadmins": "Use /fedadmins <fed id>.",
    "fedpromote": "Use /fedpromote <user> <fed id> (reply to them, or name them by @username or id).",
    "feddemote": "Use /feddemote <user> <fed id> (reply to them, or name them by @username or id).",
    "joinfed": "Use /joinfed <fed id> in the group (the group's owner).",
    "leavefed": "Use /leavefed <fed id> in the group (the group's owner).",
    "fedchats": "Use /fedchats <fed id>.",
    "fban": "Use /fban <user> <fed id> [reason] (reply to them, or name them by @username or id).",
    "unfban": "Use /unfban <user> <fed id> [reason] (reply to them, or name them by @username or id).",
    "fbanlist": "Use /fbanlist <fed id> [csv|json].",
    "fedstat": "Use /fedstat [user] [fed id].",
    "setfedlog": "Use /setfedlog <fed id> in the chat that gets the log (or reply to a message forwarded from the "
                 "channel).",
    "unsetfedlog": "Use /unsetfedlog <fed id>.",
    "subfed": "Use /subfed <fed id> <source fed id>: the first federation takes the bans of the second.",
    "unsubfed": "Use /unsubfed <fed id> <source fed id>.",
    "fedsubs": "Use /fedsubs <fed id>.",
}


# -- the steps the commands share


async def fed_call(coroutine, ban_list_id: str):
    """A core call about one list: unknown (or deleted) -> the bot's own words, an outage -> the usual reply."""
    try:
        return await core_call(coroutine)
    except CoreError as exc:
        if exc.code == ErrorCode.NOT_FOUND:
            raise StopCommand(f"I don't know a federation with the id {texts.code(ban_list_id)}.") from None
        raise


async def get_list(context, ban_list_id: str) -> dict:
    return await fed_call(context.core.ban_list_get(ban_list_id), ban_list_id)


async def actor_of(update: Update, context, *, writes: bool = True) -> Actor:
    """Who asks. For a change, a Telegram account core has never seen (someone who only ever wrote to the bot in
    private) is made known to core first, as the moderation commands do for members: core refuses an unknown actor."""
    actor = await resolve_actor(context, update.effective_message)
    if writes and actor.telegram_user_id is not None:
        user = update.effective_message.from_user
        await core_user(context, actor.telegram_user_id, create=True, telegram_username=user.username or "",
                        display_name=user.full_name)
    return actor


def args_of(context) -> list[str]:
    return list(context.args or [])


def _telegram_actor(actor: Actor, what: str) -> int:
    if actor.telegram_user_id is None:
        raise StopCommand(f"{what} as yourself, not anonymously.")
    return actor.telegram_user_id


def _display(ref, telegram_user_id: int) -> str:
    if ref.display.startswith("<a "):  # a reply's mention, already HTML
        return ref.display
    label = ref.display or str(telegram_user_id)
    return f'<a href="tg://user?id={int(telegram_user_id)}">{html.escape(label)}</a>'


def reply_target(update: Update) -> TargetRef | None:
    """The author of the replied-to message (as the moderation commands read it; handlers/ imports this package for
    its /help lines, so it is not imported from there)."""
    replied = update.effective_message.reply_to_message
    if replied is None or replied.from_user is None:
        return None
    return TargetRef(telegram_user_id=replied.from_user.id, display=replied.from_user.mention_html())


async def target_of(update: Update, context, args: list[str]):
    """(telegram id, display, the words after the user) of a command's <user>: a reply, @username or id."""
    parsed = parse_target_args(args, reply_from=reply_target(update), duration=None)
    target_id = await resolve_target(context, update.effective_chat, parsed.target)
    refuse_self(context, target_id)
    return target_id, _display(parsed.target, target_id), parsed.rest


def kick_worker(application) -> None:
    """The propagation worker claims at once (core has just owed bans or unbans to the list's groups), and the
    ban-list cache reads the new version soon; the worker's own poll brings them out anyway if this fails."""
    try:
        propagation_worker.kick(application)
    except Exception:
        logger.warning("the propagation worker could not be woken", exc_info=True)


async def send_parts(update: Update, parts: list[str]) -> None:
    for part in parts:
        await reply(update, part)


def _first_id(args: list[str], usage: str) -> tuple[str | None, list[str]]:
    """A leading fed id among the arguments, and the rest."""
    if args and texts.is_list_id(args[0]):
        return texts.list_id(args[0], usage), args[1:]
    return None, args


# -- creating, deleting, renaming


async def newfed(update: Update, context) -> None:
    async def body():
        if update.effective_chat.type != "private":
            raise StopCommand("Federations are created in private: send me /newfed &lt;name&gt; there.")
        name = texts.fed_name(" ".join(args_of(context)), USAGE["newfed"])
        actor = await actor_of(update, context)
        created = await core_call(context.core.ban_list_create(name=name, **actor.record_kwargs()))
        await reply(update, f"Created new federation {texts.fed_label(created)}.\nFedID: {texts.code(created['id'])}"
                            f"\nUse /joinfed {texts.esc(created['id'])} in your groups (as their owner) to make them "
                            "take its bans; /fedpromote adds admins.")

    await run_command(update, context, "newfed", body, anywhere=True)


async def renamefed(update: Update, context) -> None:
    async def body():
        args = args_of(context)
        given, rest = _first_id(args, USAGE["renamefed"]) if len(args) > 1 else (None, args)
        name = texts.fed_name(" ".join(rest), USAGE["renamefed"])
        actor = await actor_of(update, context)
        chosen = await choice.choose(context, update, actor, MANAGE, given=given, usage=USAGE["renamefed"])
        before = await get_list(context, chosen.id)
        after = await fed_call(context.core.ban_list_update(chosen.id, name=name, **actor.record_kwargs()), chosen.id)
        await reply(update, f"Renamed the federation {texts.esc(before.get('name'))} to {texts.fed_label(after)}.")

    await run_command(update, context, "renamefed", body, anywhere=True)


async def delfed(update: Update, context) -> None:
    """Asks the owner to confirm with a button; the press is theirs only, and core checks BAN_LIST_MANAGE again."""
    async def body():
        given, rest = _first_id(args_of(context), USAGE["delfed"])
        if rest:
            raise UsageError(USAGE["delfed"])
        actor = await actor_of(update, context)
        telegram_id = _telegram_actor(actor, "Delete a federation")
        chosen = await choice.choose(context, update, actor, MANAGE, given=given, usage=USAGE["delfed"])
        ban_list = await get_list(context, chosen.id)
        await choice.require(context, actor, MANAGE, chosen.id)
        data = f"{chosen.id}:{telegram_id}"  # at most 49 bytes with the prefix (Telegram allows 64)
        keyboard = InlineKeyboardMarkup([
            [InlineKeyboardButton("Delete the federation", callback_data=f"{DELETE_PREFIX}:y:{data}")],
            [InlineKeyboardButton("Cancel", callback_data=f"{DELETE_PREFIX}:n:{data}")]])
        chats = int(ban_list.get("groups_count") or 0)
        try:
            await update.effective_message.reply_html(
                f"Are you sure you want to delete the federation {texts.fed_label(ban_list)}? Its "
                f"{int(ban_list.get('bans_count') or 0)} bans go with it, and its {chats} chat"
                f"{'s' if chats != 1 else ''} stop taking them. This can't be undone.",
                do_quote=False, reply_markup=keyboard)
        except TelegramError as exc:
            logger.warning("could not ask to confirm /delfed", extra={"error": str(exc)})

    await run_command(update, context, "delfed", body, anywhere=True)


async def _answer(query, text: str | None = None, alert: bool = False) -> None:
    try:
        await query.answer(text[:200] if text else None, show_alert=alert)
    except TelegramError as exc:
        logger.info("press not answered", extra={"error": str(exc)})


async def _edit(query, text: str) -> None:
    try:
        await query.edit_message_text(text, reply_markup=None)
    except TelegramError as exc:
        logger.info("confirmation not edited", extra={"error": str(exc)})


def _plain(text: str | None) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", text or ""))


async def on_delete_press(update: Update, context) -> None:
    query = update.callback_query
    try:
        _, verdict, ban_list_id, asker = query.data.split(":")
        asker_id = int(asker)
    except ValueError:
        await _answer(query)
        return
    if query.from_user is None or query.from_user.id != asker_id:
        await _answer(query, "Only the one who asked can confirm this.", alert=True)
        return
    if verdict != "y":
        await _answer(query)
        await _edit(query, "Deleting the federation has been cancelled.")
        return
    try:
        ban_list = await context.core.ban_list_get(ban_list_id)
        await context.core.ban_list_delete(ban_list_id, actor_telegram_user_id=asker_id)
    except CoreUnavailable:
        await _answer(query, UNAVAILABLE_REPLY, alert=True)
        return
    except CoreError as exc:
        text = ("That federation no longer exists." if exc.code == ErrorCode.NOT_FOUND
                else _plain(core_refusal(exc)))
        await _answer(query, text, alert=True)
        return
    await _answer(query)
    await _edit(query, f"Deleted the federation {texts.fed_label(ban_list)}. Its chats no longer take its bans.")


# -- information


async def _fed_id_only(update: Update, context, command: str, permission: str | None) -> tuple[Actor, str]:
    given, rest = _first_id(args_of(context), USAGE[command])
    if rest:
        raise UsageError(USAGE[command] if given else f"{rest[0]} is not a federation id. {USAGE[command]}")
    actor = await actor_of(update, context, writes=False)
    chosen = await choice.choose(context, update, actor, permission, given=given, usage=USAGE[command])
    return actor, chosen.id


async def fedinfo(update: Update, context) -> None:
    async def body():
        _, ban_list_id = await _fed_id_only(update, context, "fedinfo", None)
        ban_list, follows = await asyncio.gather(get_list(context, ban_list_id),
                                                 fed_call(context.core.ban_list_follows(ban_list_id), ban_list_id))
        await reply(update, texts.fed_info(ban_list, follows))

    await run_command(update, context, "fedinfo", body, anywhere=True)


async def fedadmins(update: Update, context) -> None:
    async def body():
        _, ban_list_id = await _fed_id_only(update, context, "fedadmins", None)
        ban_list, admins = await asyncio.gather(get_list(context, ban_list_id),
                                                fed_call(context.core.ban_list_admins(ban_list_id), ban_list_id))
        await send_parts(update, texts.fed_admins(ban_list, admins))

    await run_command(update, context, "fedadmins", body, anywhere=True)


async def fedchats(update: Update, context) -> None:
    async def body():
        actor, ban_list_id = await _fed_id_only(update, context, "fedchats", VIEW)
        ban_list = await get_list(context, ban_list_id)
        await choice.require(context, actor, VIEW, ban_list_id)
        page = await fed_call(context.core.ban_list_subscriptions(ban_list_id, limit=100), ban_list_id)
        await send_parts(update, texts.fed_chats(ban_list, *texts.page_items(page)))

    await run_command(update, context, "fedchats", body, anywhere=True)


async def fedsubs(update: Update, context) -> None:
    async def body():
        _, ban_list_id = await _fed_id_only(update, context, "fedsubs", None)
        ban_list, follows = await asyncio.gather(get_list(context, ban_list_id),
                                                 fed_call(context.core.ban_list_follows(ban_list_id), ban_list_id))
        await send_parts(update, texts.fed_subs(ban_list, follows))

    await run_command(update, context, "fedsubs", body, anywhere=True)


async def myfeds(update: Update, context) -> None:
    async def body():
        actor = await actor_of(update, context, writes=False)
        telegram_id = _telegram_actor(actor, "Ask")
        answer = await core_call(context.core.ban_lists(admin_telegram_user_id=telegram_id, limit=100))
        await send_parts(update, texts.my_feds(texts.page_items(answer)[0], telegram_id))

    await run_command(update, context, "myfeds", body, anywhere=True)


async def fedstat(update: Update, context) -> None:
    """/fedstat: yours; /fedstat <user>: theirs (reply, @username or id); a fed id after it: that ban's reason."""
    async def body():
        args = args_of(context)
        replied = reply_target(update)
        only = None
        if replied is not None or len(args) == 2:
            # "/fedstat <fed id>" as a reply, "/fedstat <user> <fed id>"
            if len(args) > (1 if replied is not None else 2):
                raise UsageError(USAGE["fedstat"])
            if len(args) == (1 if replied is not None else 2):
                only = texts.list_id(args.pop(), USAGE["fedstat"])
        elif len(args) == 1 and not args[0].startswith("@") and not args[0].lstrip("-").isdigit():
            only = texts.list_id(args.pop(), USAGE["fedstat"])  # "/fedstat <fed id>": yours in that one
        elif len(args) > 2:
            raise UsageError(USAGE["fedstat"])
        if args or replied is not None:
            target_id, display, rest = await target_of(update, context, args)
            if rest:
                raise UsageError(USAGE["fedstat"])
        else:
            user = update.effective_user
            if user is None:
                raise StopCommand(None)
            target_id, display = user.id, user.mention_html()
        answer = await core_call(context.core.user_ban_lists(telegram_user_id=target_id))
        await send_parts(update, texts.fed_stat(display, answer, only))

    await run_command(update, context, "fedstat", body, anywhere=True)


# -- admins


async def _admin_change(update: Update, context, command: str, call_name: str) -> None:
    async def body():
        target_id, display, rest = await target_of(update, context, args_of(context))
        given, rest = _first_id(rest, USAGE[command])
        if rest:
            raise UsageError(USAGE[command])
        actor = await actor_of(update, context)
        chosen = await choice.choose(context, update, actor, ROLES, given=given, usage=USAGE[command])
        ban_list = await get_list(context, chosen.id)
        await core_user(context, target_id, create=True)  # promoted before they ever wrote where the bot is
        call = getattr(context.core, call_name)
        answer = await fed_call(call(chosen.id, telegram_user_id=target_id, **actor.record_kwargs()), chosen.id)
        if command == "fedpromote":
            already = isinstance(answer, dict) and answer.get("created") is False
            text = (f"{display} is already an admin of {texts.fed_label(ban_list)}." if already
                    else f"{display} is now an admin of {texts.fed_label(ban_list)}: they can /fban and /unfban.")
        else:
            gone = not (isinstance(answer, dict) and answer.get("removed") is False)
            text = (f"{display} is no longer an admin of {texts.fed_label(ban_list)}." if gone
                    else f"{display} isn't an admin of {texts.fed_label(ban_list)}.")
        await reply(update, text)

    await run_command(update, context, command, body, anywhere=True)


async def fedpromote(update: Update, context) -> None:
    await _admin_change(update, context, "fedpromote", "ban_list_admin_add")


async def feddemote(update: Update, context) -> None:
    await _admin_change(update, context, "feddemote", "ban_list_admin_remove")


# -- groups joining and leaving


async def _reload_settings(context, chat_id: int) -> None:
    """The group's effective lists changed: its cached settings are read again (the checks on arrival use them)."""
    cache = context.bot_data.protection
    cache.invalidate(chat_id)
    try:
        await cache.load(context.core, chat_id)
    except (CoreUnavailable, CoreError) as exc:  # the settings poller brings it in later
        logger.info("settings not reloaded after a federation change", extra={"chat_id": chat_id, "error": str(exc)})


async def _refresh_settings(context) -> None:
    """The cached groups whose settings core changed (their effective lists) are read again now, not at the next
    poll (one versions call for every cached group)."""
    try:
        await context.bot_data.protection.refresh(context.core)
    except (CoreUnavailable, CoreError) as exc:  # the settings poller brings it in later
        logger.info("settings not refreshed after a federation change", extra={"error": str(exc)})


async def joinfed(update: Update, context) -> None:
    async def body():
        args = args_of(context)
        if len(args) != 1:
            raise UsageError(USAGE["joinfed"])
        ban_list_id = texts.list_id(args[0], USAGE["joinfed"])
        chat = update.effective_chat
        actor = await actor_of(update, context)
        await ensure_group(context, chat)
        ban_list = await get_list(context, ban_list_id)
        answer = await fed_call(context.core.ban_list_subscribe(ban_list_id, telegram_chat_id=chat.id,
                                                                **actor.record_kwargs()), ban_list_id)
        await _reload_settings(context, chat.id)
        kick_worker(context.application)  # the list's bans owed to members core knows here
        if isinstance(answer, dict) and answer.get("created") is False:
            await reply(update, f"This chat is already in the federation {texts.fed_label(ban_list)}.")
            return
        await reply(update, f"Successfully joined the federation {texts.fed_label(ban_list)}! Its bans now hold "
                            "here: members it bans are banned here too.")

    await run_command(update, context, "joinfed", body)


async def leavefed(update: Update, context) -> None:
    async def body():
        given, rest = _first_id(args_of(context), USAGE["leavefed"])
        if rest:
            raise UsageError(USAGE["leavefed"])
        chat = update.effective_chat
        actor = await actor_of(update, context)
        await ensure_group(context, chat)
        chosen = await choice.choose(context, update, actor, None, given=given, usage=USAGE["leavefed"])
        ban_list = await get_list(context, chosen.id)
        answer = await fed_call(context.core.ban_list_unsubscribe(chosen.id, telegram_chat_id=chat.id,
                                                                  **actor.record_kwargs()), chosen.id)
        await _reload_settings(context, chat.id)
        if isinstance(answer, dict) and answer.get("removed") is False:
            await reply(update, f"This chat hasn't joined {texts.fed_label(ban_list)} (its bans may hold here "
                                "through another federation that takes them: /fedsubs).")
            return
        await reply(update, f"This chat has left the federation {texts.fed_label(ban_list)}: its bans no longer "
                            "hold here.")

    await run_command(update, context, "leavefed", body)


# -- bans


async def _ban_change(update: Update, context, command: str) -> None:
    async def body():
        target_id, display, rest = await target_of(update, context, args_of(context))
        token = rest[0] if rest and texts.is_list_id(rest[0]) else None
        actor = await actor_of(update, context)
        if command == "fban" and target_id == actor.telegram_user_id:
            raise StopCommand("You can't fban yourself.")
        chosen = await choice.choose(context, update, actor, BAN, token=token, usage=USAGE[command])
        reason = " ".join(rest[1:] if chosen.token_used else rest).strip()[:1024]
        name_known = {"id": chosen.id, "name": chosen.name}
        if command == "fban":
            call = context.core.ban_list_ban(chosen.id, telegram_user_id=target_id, reason=reason,
                                             **actor.record_kwargs())
        else:
            call = context.core.ban_list_unban(chosen.id, telegram_user_id=target_id, reason=reason,
                                               **actor.record_kwargs())
        answer = await fed_call(call, chosen.id)
        kick_worker(context.application)
        ban_list = name_known if chosen.name else await get_list(context, chosen.id)
        done = texts.fban_done if command == "fban" else texts.unfban_done
        await reply(update, done(ban_list, actor.display, display, target_id, answer, reason))

    await run_command(update, context, command, body, anywhere=True)


async def fban(update: Update, context) -> None:
    await _ban_change(update, context, "fban")


async def unfban(update: Update, context) -> None:
    await _ban_change(update, context, "unfban")


async def fbanlist(update: Update, context) -> None:
    async def body():
        given, fmt = texts.fbanlist_args(args_of(context), USAGE["fbanlist"])
        actor = await actor_of(update, context, writes=False)
        chosen = await choice.choose(context, update, actor, VIEW, given=given, usage=USAGE["fbanlist"])
        ban_list = await get_list(context, chosen.id)
        await choice.require(context, actor, VIEW, chosen.id)
        count = int(ban_list.get("bans_count") or 0)
        if not count:
            await reply(update, f"Nobody is banned in {texts.fed_label(ban_list)}.")
            return
        # Core's own export (CSV or JSON: telegram_user_id, reason, date), read whole and uploaded as it is.
        content = await fed_call(context.core.ban_list_export(chosen.id, format=fmt), chosen.id)
        if len(content) > UPLOAD_BYTES:
            raise StopCommand(f"The list is {len(content) // 1_000_000} MB as a file, more than Telegram lets me "
                              "send (50 MB): export it from the dashboard.")
        caption = (f"The {count} ban{'s' if count != 1 else ''} of {texts.fed_label(ban_list)} "
                   f"({fmt.upper()}: telegram_user_id, reason, date).")
        try:
            await context.bot.send_document(update.effective_chat.id,
                                            InputFile(content, filename=f"fbanlist-{chosen.id}.{fmt}"),
                                            caption=caption, read_timeout=UPLOAD_SECONDS,
                                            write_timeout=UPLOAD_SECONDS)
        except TelegramError as exc:
            logger.warning("fbanlist not sent", extra={"chat_id": update.effective_chat.id, "error": str(exc)})
            raise StopCommand(f"Telegram refused the file: {html.escape(exc.message)}") from exc

    await run_command(update, context, "fbanlist", body, anywhere=True)


# -- the log chat and follows


async def _log_chat(update: Update, context):
    """The chat that gets the log: a channel a message (or the replied-to one) was forwarded from, else this chat."""
    message = update.effective_message
    channel = forwarded_channel(message) or forwarded_channel(message.reply_to_message)
    if channel is None:
        return update.effective_chat
    try:
        me = await context.bot.get_chat_member(channel.id, context.bot.id)
    except TelegramError as exc:
        raise StopCommand(f"I can't see {texts.esc(channel.title or channel.id)}: add me to it as an admin with the "
                          "right to post messages, then try again.") from exc
    if me.status != "creator" and not getattr(me, "can_post_messages", False):
        raise StopCommand(f"I can't post in {texts.esc(channel.title or channel.id)}: make me an admin there with "
                          "the right to post messages, then try again.")
    return channel


async def setfedlog(update: Update, context) -> None:
    async def body():
        given, rest = _first_id(args_of(context), USAGE["setfedlog"])
        if rest:
            raise UsageError(USAGE["setfedlog"])
        actor = await actor_of(update, context)
        chosen = await choice.choose(context, update, actor, MANAGE, given=given, usage=USAGE["setfedlog"])
        target = await _log_chat(update, context)
        answer = await fed_call(context.core.ban_list_update(chosen.id, log_chat_id=target.id,
                                                             **actor.record_kwargs()), chosen.id)
        where = "This chat" if target.id == update.effective_chat.id else \
            f"<b>{texts.esc(target.title or target.id)}</b>"
        await reply(update, f"{where} is now the log of the federation {texts.fed_label(answer)}: every fban, unfban "
                            "and import is posted there.")

    await run_command(update, context, "setfedlog", body, anywhere=True)


async def unsetfedlog(update: Update, context) -> None:
    async def body():
        given, rest = _first_id(args_of(context), USAGE["unsetfedlog"])
        if rest:
            raise UsageError(USAGE["unsetfedlog"])
        actor = await actor_of(update, context)
        chosen = await choice.choose(context, update, actor, MANAGE, given=given, usage=USAGE["unsetfedlog"])
        answer = await fed_call(context.core.ban_list_update(chosen.id, log_chat_id=None, **actor.record_kwargs()),
                                chosen.id)
        await reply(update, f"The federation {texts.fed_label(answer)} has no log chat any more.")

    await run_command(update, context, "unsetfedlog", body, anywhere=True)


async def _follow_change(update: Update, context, command: str) -> None:
    async def body():
        args = args_of(context)
        if not 1 <= len(args) <= 2:
            raise UsageError(USAGE[command])
        ids = [texts.list_id(token, USAGE[command]) for token in args]
        source = ids[-1]
        given = ids[0] if len(ids) == 2 else None
        actor = await actor_of(update, context)
        chosen = await choice.choose(context, update, actor, MANAGE, given=given, usage=USAGE[command])
        if chosen.id == source:
            raise StopCommand("A federation can't take its own bans.")
        ban_list = await get_list(context, chosen.id)
        source_list = await get_list(context, source)
        call = context.core.ban_list_follow if command == "subfed" else context.core.ban_list_unfollow
        answer = await fed_call(call(chosen.id, source_id=source, **actor.record_kwargs()), chosen.id)
        kick_worker(context.application)
        await _refresh_settings(context)  # every group of the list (and of those taking its bans) changed
        if command == "subfed":
            text = (f"{texts.fed_label(ban_list)} already takes the bans of {texts.fed_label(source_list)}."
                    if isinstance(answer, dict) and answer.get("created") is False else
                    f"{texts.fed_label(ban_list)} now takes the bans of {texts.fed_label(source_list)}: its chats ban "
                    "whom that federation bans.")
        else:
            text = (f"{texts.fed_label(ban_list)} doesn't take the bans of {texts.fed_label(source_list)}."
                    if isinstance(answer, dict) and answer.get("removed") is False else
                    f"{texts.fed_label(ban_list)} no longer takes the bans of {texts.fed_label(source_list)}.")
        await reply(update, text)

    await run_command(update, context, command, body, anywhere=True)


async def subfed(update: Update, context) -> None:
    await _follow_change(update, context, "subfed")


async def unsubfed(update: Update, context) -> None:
    await _follow_change(update, context, "unsubfed")


def handlers() -> list:
    message_only = filters.UpdateType.MESSAGE
    commands = {
        "newfed": newfed, "delfed": delfed, "renamefed": renamefed,
        "fedinfo": fedinfo, "fedadmins": fedadmins, "fedchats": fedchats, "fedsubs": fedsubs, "myfeds": myfeds,
        "fedstat": fedstat, "fedpromote": fedpromote, "feddemote": feddemote,
        "joinfed": joinfed, "leavefed": leavefed,
        "fban": fban, "unfban": unfban, "fbanlist": fbanlist,
        "setfedlog": setfedlog, "fedlog": setfedlog, "unsetfedlog": unsetfedlog,
        "subfed": subfed, "unsubfed": unsubfed,
    }
    return [*(CommandHandler(name, handle, filters=message_only) for name, handle in commands.items()),
            CallbackQueryHandler(on_delete_press, pattern=rf"^{DELETE_PREFIX}:")]
