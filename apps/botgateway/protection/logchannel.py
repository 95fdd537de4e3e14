"""The log channel in the bot: the poster that carries core's log entries to each group's log chat, and /setlog,
/unsetlog.

Core writes each entry (its text rendered there) when the thing it tells happened; `LogPoster` claims a batch
(leased to this process for 60 s: a bot that dies holding them loses nothing, another claims them after), posts
them through the bot (so through the send limiter; consecutive entries for one log chat share a message), and
reports each sent or failed with Telegram's error. Core answers whether that failure is the first since the log
chat was set: then the group is told, once.

/setlog follows Rose: send /setlog in the channel (the bot an admin there) and forward that message to the group,
or reply /setlog to a message forwarded from the channel. The bot checks it may post there; core checks the
sender holds MANAGE_SETTINGS (the PATCH carries the actor) and keeps the log chat.
"""

import asyncio
import contextlib
import html
import logging

from telegram import ChatMemberAdministrator, ChatMemberOwner, LinkPreviewOptions, Message, MessageOriginChannel, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, TelegramError
from telegram.ext import CommandHandler, filters

from apps.coreclient import CoreError, CoreUnavailable

from ..command_frame import run_command
from ..flows import StopCommand, core_call, ensure_group, reply, require_permission, resolve_actor
from ..parsing import UsageError

logger = logging.getLogger(__name__)

POLL_SECONDS = 1.0  # between claims when the last one was not a full batch
BATCH = 50
CORE_AWAY_BACKOFF_SECONDS = (1, 2, 5, 10, 30)
PERMISSION = "MANAGE_SETTINGS"
SETLOG_USAGE = ("To set a log channel: add me to the channel as an admin with the right to post messages, send "
                "/setlog in the channel, and forward that message here (or reply /setlog to a message forwarded from "
                "the channel).")
_NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
TELEGRAM_TEXT_LIMIT = 4096  # characters of a message; an entry's HTML is longer than its text, so this is safe
SEPARATOR = "\n\n"


class LogPoster:
    def __init__(self, application, *, poll_seconds: float = POLL_SECONDS, batch: int = BATCH):
        self.application = application
        self.poll_seconds = poll_seconds
        self.batch = batch
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="log-channel-poster")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        away = 0
        while True:
            try:
                claimed = await self.run_once()
                away = 0
            except (CoreUnavailable, CoreError) as exc:  # away, or refusing the claim (a key out of scope)
                delay = CORE_AWAY_BACKOFF_SECONDS[min(away, len(CORE_AWAY_BACKOFF_SECONDS) - 1)]
                away += 1
                level = logging.INFO if isinstance(exc, CoreUnavailable) else logging.WARNING
                logger.log(level, "log channel: entries not claimed", extra={"error": str(exc),
                                                                            "retry_seconds": delay})
                await asyncio.sleep(delay)
                continue
            except Exception:  # a bug must not end the loop: the entries wait in core
                logger.exception("log channel: a round failed")
                claimed = 0
            if claimed < self.batch:
                await asyncio.sleep(self.poll_seconds)

    async def run_once(self) -> int:
        """Claims one batch and posts it. Returns how many entries were claimed."""
        items = (await self.application.bot_data.core.log_claim(limit=self.batch))["items"]
        for pack in packs(items):
            await self.post(pack)
        return len(items)

    async def post(self, pack: list[dict]) -> None:
        """One message to the pack's log chat, and each of its entries reported sent or failed."""
        log_chat_id = pack[0]["log_chat_id"]
        try:
            await self.application.bot.send_message(log_chat_id, SEPARATOR.join(item["text"] for item in pack),
                                                    parse_mode=ParseMode.HTML, link_preview_options=_NO_PREVIEW)
            status, error = "sent", ""
        except (BadRequest, Forbidden, ChatMigrated) as exc:  # Telegram's answer for this chat: it will not change
            status, error = "failed", exc.message
            logger.warning("log entries could not be posted", extra={
                "entries": len(pack), "log_chat_id": log_chat_id, "error": error})
        except TelegramError as exc:  # timed out, flood wait beyond the limiter's retries: claimed again later
            logger.warning("log entries not posted yet", extra={"entries": len(pack), "error": str(exc)})
            return
        for item in pack:
            try:
                answer = await self.application.bot_data.core.log_result(item["id"], status=status,
                                                                         error=error or None)
            except CoreError as exc:  # already reported (a retried report): nothing more to do
                logger.info("log entry result refused", extra={"entry_id": item["id"], "code": exc.code})
                continue
            if answer.get("report_in_group"):
                await self.report_in_group(item["telegram_chat_id"], error)

    async def report_in_group(self, chat_id: int, error: str) -> None:
        text = (f"I can't post to this group's log channel ({html.escape(error)}). Make me an admin there with the "
                "right to post messages, or turn the log channel off with /unsetlog.")
        try:
            await self.application.bot.send_message(chat_id, text, parse_mode=ParseMode.HTML)
        except TelegramError as exc:
            logger.warning("could not tell the group its log channel fails", extra={"chat_id": chat_id,
                                                                                    "error": str(exc)})


def packs(items: list[dict]) -> list[list[dict]]:
    """The claimed entries as messages: consecutive entries for one log chat share a message while it stays within
    Telegram's length (a raid's hundreds of removals are a few posts, not hundreds at a channel's 20 a minute).
    Each log chat's entries keep their order."""
    by_chat: dict[int, list[list[dict]]] = {}
    order: list[list[dict]] = []
    for item in items:
        chat_packs = by_chat.setdefault(item["log_chat_id"], [])
        last = chat_packs[-1] if chat_packs else None
        if last is not None and _length(last) + len(SEPARATOR) + len(item["text"]) <= TELEGRAM_TEXT_LIMIT:
            last.append(item)
            continue
        chat_packs.append([item])
        order.append(chat_packs[-1])
    return order


def _length(pack: list[dict]) -> int:
    return sum(len(item["text"]) for item in pack) + len(SEPARATOR) * (len(pack) - 1)


def forwarded_channel(message: Message | None):
    """The channel a message was forwarded from, or None."""
    origin = message.forward_origin if message is not None else None
    return origin.chat if isinstance(origin, MessageOriginChannel) else None


async def _require_posting_right(context, channel) -> None:
    title = html.escape(channel.title or str(channel.id))
    try:
        me = await context.bot.get_chat_member(channel.id, context.bot.id)
    except TelegramError as exc:
        logger.info("setlog: channel not visible", extra={"channel_id": channel.id, "error": str(exc)})
        raise StopCommand(f"I can't see {title}: add me to it as an admin with the right to post messages, "
                          "then try again.") from exc
    if isinstance(me, ChatMemberOwner):
        return
    if not isinstance(me, ChatMemberAdministrator) or not me.can_post_messages:
        raise StopCommand(f"I can't post in {title}: make me an admin there with the right to post messages, "
                          "then try again.")


async def setlog(update: Update, context) -> None:
    async def body():
        message, chat = update.effective_message, update.effective_chat
        channel = forwarded_channel(message) or forwarded_channel(message.reply_to_message)
        if channel is None:
            raise UsageError(SETLOG_USAGE)
        actor = await resolve_actor(context, message)
        await require_permission(context, chat, actor, PERMISSION)
        await _require_posting_right(context, channel)
        group_id = await ensure_group(context, chat)
        settings = await core_call(context.core.protection_update(group_id, log_chat_id=channel.id,
                                                                  **actor.record_kwargs()))
        context.bot_data.protection.store(settings)
        await reply(update, f"Log channel set: <b>{html.escape(channel.title or str(channel.id))}</b>. Every "
                            "moderation action and settings change here is posted there.")

    await run_command(update, context, "setlog", body)


async def unsetlog(update: Update, context) -> None:
    async def body():
        message, chat = update.effective_message, update.effective_chat
        actor = await resolve_actor(context, message)
        await require_permission(context, chat, actor, PERMISSION)
        group_id = await ensure_group(context, chat)
        settings = await core_call(context.core.protection_update(group_id, log_chat_id=None,
                                                                  **actor.record_kwargs()))
        context.bot_data.protection.store(settings)
        await reply(update, "Log channel turned off: nothing is posted to it any more.")

    await run_command(update, context, "unsetlog", body)


def handlers() -> list[CommandHandler]:
    message_only = filters.UpdateType.MESSAGE
    return [
        CommandHandler("setlog", setlog, filters=message_only),
        CommandHandler("unsetlog", unsetlog, filters=message_only),
    ]
