"""Builds the python-telegram-bot Application: handlers by feature, shared clients made in post_init and
closed in post_shutdown, one error handler."""

import contextlib
import functools
import json
import logging
import uuid

from django.conf import settings
from telegram import Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import Application, ApplicationBuilder, ContextTypes, Defaults, TypeHandler

from apps.common.context import bind_context
from apps.coreclient import AsyncCoreClient, CoreError, CoreUnavailable

from .context import BotApplication, BotContext, BotData
from .federations import commands as federation_commands
from .federations import worker as federation_worker
from .flows import StopCommand, ensure_group, sync_admins
from .handlers import activity, info, lifecycle, moderation, stats
from .ordering import PerChatUpdateProcessor
from .outbox import EventShipper, Outbox
from .protection import antiraid, captcha, content, content_commands, filters, joins, logchannel, notes, rules
from .protection import commands as protection_commands
from .ratelimit import SendRateLimiter
from .replicas.consumer import CapturingEventShipper
from .telegram_request import AiohttpRequest

logger = logging.getLogger(__name__)

ALLOWED_UPDATES = ["message", "edited_message", "chat_member", "my_chat_member", "callback_query"]


async def post_init(application: BotApplication) -> None:
    data = application.bot_data
    data.core = AsyncCoreClient(settings.CORE_API_URL, settings.CORE_API_KEY,
                                timeout=settings.BOT_CORE_TIMEOUT_SECONDS, retries=1)
    outbox = Outbox(settings.BOT_OUTBOX_PATH, synchronous=settings.BOT_OUTBOX_SYNCHRONOUS)
    # With the shared update log, events recorded while a stream entry is handled ship with its batch (replicas/).
    shipper_class = CapturingEventShipper if settings.BOT_REDIS_URL else EventShipper
    data.shipper = shipper_class(outbox, data.core,
                                register_chats=functools.partial(register_chats, application),
                                resync=functools.partial(resync, application))
    if isinstance(application.update_processor, PerChatUpdateProcessor):
        application.update_processor.on_processed = data.shipper.update_handled
    data.flood.application = application  # the flood tasks act through this bot and core client
    data.flood.open_core(settings.CORE_API_URL, settings.CORE_API_KEY)
    if isinstance(application.update_processor, PerChatUpdateProcessor):
        application.update_processor.on_arrival = functools.partial(antiraid.on_arrival, application)
    await replay_stored_updates(application)
    data.shipper.start()
    data.challenge_sweeper = captcha.ChallengeSweeper(application)
    data.challenge_sweeper.start()
    data.log_poster = logchannel.LogPoster(application)
    data.log_poster.start()
    data.protection.start(data.core, settings.BOT_PROTECTION_REFRESH_SECONDS)
    federation_worker.start(application)


async def replay_stored_updates(application: BotApplication) -> None:
    """Queues the updates a previous run acknowledged (stored by the webhook) but did not finish handling, ahead
    of any new one: a kill between the 200 and the end of the handlers loses nothing. Their events are made again
    under the same ids, which core stores once."""
    shipper = application.bot_data.shipper
    for update_id, body in await shipper.replay():
        try:
            update = Update.de_json(json.loads(body), application.bot)
        except Exception as exc:  # stored by a version that parsed it differently: nothing to hand on
            logger.error("a stored update could not be read again", extra={"update_id": update_id,
                                                                            "error": str(exc)[:200]})
            shipper.update_handled(update_id)
            continue
        await application.update_queue.put(update)


async def post_shutdown(application: BotApplication) -> None:
    data = application.bot_data
    await federation_worker.stop(application)
    if data.log_poster is not None:
        await data.log_poster.stop()
    if data.challenge_sweeper is not None:
        await data.challenge_sweeper.stop()
    await data.protection.stop()
    await data.flood.close_core()
    if data.shipper is not None:
        await data.shipper.stop()
        data.shipper.outbox.close()
    if data.core is not None:
        await data.core.aclose()


@contextlib.contextmanager
def _core_down_again():
    """The command flows answer an unreachable core with StopCommand (the user's reply); for the shipper's work it
    is CoreUnavailable, so the work waits for its next round."""
    try:
        yield
    except StopCommand as exc:
        raise CoreUnavailable(str(exc)) from exc


async def register_chats(application: BotApplication, chat_ids: set[int]) -> None:
    """Registers chats whose events core refused as naming an unknown group: chats the bot met while core was
    down. A chat Telegram no longer shows the bot is skipped (its events are then dropped, and logged)."""
    context = BotContext(application)
    for chat_id in chat_ids:
        try:
            chat = await application.bot.get_chat(chat_id)
        except TelegramError as exc:
            logger.warning("a chat core does not know could not be looked up", extra={"chat_id": chat_id,
                                                                                      "error": str(exc)})
            continue
        with _core_down_again():  # the events stay in the outbox
            await ensure_group(context, chat)


async def resync(application: BotApplication, chat_id: int, telegram_user_id: int | None) -> None:
    """After a change core missed: the chat's admins, and the member's status when one is named, as Telegram has
    them now (not as the missed update had them: later changes may have followed it). Runs in the chat's turn, so
    no update of that chat is handled meanwhile. A chat Telegram no longer shows the bot is left alone."""
    processor = application.update_processor
    work = _resync(application, chat_id, telegram_user_id)
    if isinstance(processor, PerChatUpdateProcessor):
        await processor.in_chat_turn(chat_id, work)
    else:
        await work


async def _resync(application: BotApplication, chat_id: int, telegram_user_id: int | None) -> None:
    context = BotContext(application)
    try:
        chat = await application.bot.get_chat(chat_id)
        member = await application.bot.get_chat_member(chat_id, telegram_user_id) if telegram_user_id else None
    except TelegramError as exc:
        logger.warning("resync: Telegram does not show the chat or member", extra={
            "chat_id": chat_id, "telegram_user_id": telegram_user_id, "error": str(exc)})
        return
    try:
        with _core_down_again():
            if member is not None and not member.user.is_bot:
                await lifecycle.apply_member(context, chat, member)
            await sync_admins(context, chat)
    except (CoreError, TelegramError) as exc:  # refused for good: trying again would not help
        logger.warning("resync: not done", extra={
            "chat_id": chat_id, "telegram_user_id": telegram_user_id, "error": str(exc)})


async def trace_update(update: Update, context: BotContext) -> None:
    """Gives the update its request id: every core call made for it carries it (X-Request-ID), so core's log lines
    and audit events of this update share it with the bot's. Commands are logged at INFO, other updates at DEBUG."""
    request_id = f"tg-{update.update_id}-{uuid.uuid4().hex[:12]}"
    bind_context(request_id=request_id, service="bot")
    message = update.effective_message
    text = (message.text or "") if message is not None else ""
    command = text.split()[0][1:].split("@")[0][:64] if text.startswith("/") else None
    level = logging.INFO if command else logging.DEBUG
    if logger.isEnabledFor(level):
        chat = update.effective_chat
        logger.log(level, "update", extra={
            "update_id": update.update_id, "command": command, "chat_id": chat.id if chat else None,
            "message_id": message.message_id if message is not None else None})


async def on_error(update: object, context: BotContext) -> None:
    """Logs with the update id; the update counts as handled, so Telegram never redelivers it forever."""
    update_id = update.update_id if isinstance(update, Update) else None
    logger.error("update failed", exc_info=context.error, extra={"update_id": update_id})
    message = update.effective_message if isinstance(update, Update) else None
    if message is not None and (message.text or "").startswith("/"):
        try:
            await message.reply_text("Sorry, something went wrong with that command.")
        except Exception:  # the reply is a courtesy; the error is already logged
            logger.debug("could not apologise", exc_info=True)


def build_application(*, with_updater: bool) -> BotApplication:
    builder: ApplicationBuilder = (
        Application.builder()
        .token(settings.TELEGRAM_BOT_TOKEN)
        .base_url(settings.TELEGRAM_API_BASE_URL)
        .base_file_url(settings.TELEGRAM_API_BASE_URL.replace("/bot", "/file/bot"))
        .context_types(ContextTypes(context=BotContext, bot_data=BotData))
        .defaults(Defaults(parse_mode=ParseMode.HTML))
        .rate_limiter(SendRateLimiter(max_retries=2))
        .concurrent_updates(PerChatUpdateProcessor())
        .post_init(post_init)
        .post_shutdown(post_shutdown)
        .request(AiohttpRequest(connect_timeout=5, read_timeout=10))
        .get_updates_request(AiohttpRequest(connection_pool_size=1, connect_timeout=5, read_timeout=10))
    )
    if not with_updater:
        builder = builder.updater(None)
    application = builder.build()
    # Group -2 runs first for every update, so whatever the update causes carries that update's request id.
    application.add_handler(TypeHandler(Update, trace_update), group=-2)
    application.add_handlers(activity.handlers(), group=-1)
    # rules' and notes' /start take only their deep link's payload, so they go ahead of info's /start.
    application.add_handlers([*moderation.handlers(), *rules.handlers(), *notes.start_handlers(),
                              *logchannel.handlers(), *info.handlers(), *stats.handlers(),
                              *lifecycle.handlers()])
    # Members joining and leaving, and challenge presses: after lifecycle's membership bookkeeping (group 0 takes
    # chat_member updates first, and one handler per group runs).
    application.add_handlers(joins.handlers(), group=1)
    application.add_handlers(protection_commands.handlers())  # the in-chat protection settings and approvals
    application.add_handlers([*content_commands.handlers(), *filters.handlers(), *notes.handlers()])
    application.add_handlers(federation_commands.handlers())
    # Edited messages and joiners seen by locks and the blocklist, before anything else acts on them.
    application.add_handlers(content.handlers(), group=-1)
    application.add_error_handler(on_error)
    return application
