"""Join verification, the bot's half: core keeps every challenge (and its answer); the bot restricts, asks, relays
presses and carries out how a round ends.

- A join (joins.py) -> `start_challenge`: core starts a round (or answers the pending one: never two) and records the
  mute; the bot restricts the member (every permission off), completes the mute, sends the question with one button
  per option and tells core the message's id.
- A press -> `on_press`: core judges it (only the challenged member may answer; wrong answers are counted) and the
  bot always answers the callback query with a short text. Solved: the restriction is lifted, the unmute completed,
  the challenge's messages deleted, the welcome sent. Failed: the kick (when the group kicks) carried out and
  completed, the messages deleted.
- A sweeper (`ChallengeSweeper`, started in post_init) asks core every few seconds for the rounds whose time ran
  out. Core hands each out once, and hands out again, after a lease, an ended round whose kick or unmute was never
  completed (the bot stopped between core's answer and Telegram): a bot restart neither forgets a challenge nor
  ends it twice.
"""

import asyncio
import contextlib
import html
import logging
from datetime import UTC, datetime

from django.conf import settings as django_settings
from telegram import Chat, ChatPermissions, InlineKeyboardButton, InlineKeyboardMarkup, Update, User
from telegram.error import TelegramError
from telegram.ext import CallbackQueryHandler

from apps.common.error_codes import ErrorCode
from apps.coreclient import CoreError, CoreUnavailable

from ..ordering import PerChatUpdateProcessor
from .enforcement import act_on_member, complete, telegram_call
from .settings_cache import protection_settings
from .welcome import send_welcome

logger = logging.getLogger(__name__)

CALLBACK_PREFIX = "cap"
SWEEP_BATCH = 100
DELETE_BATCH = 100

PRESS_ANSWERS = {
    "solved": "Thanks, you're verified. Welcome!",
    "failed": "Wrong answer, and no tries left.",
    ErrorCode.NOT_YOUR_CHALLENGE: "This challenge is for someone else.",
    ErrorCode.CONFLICT: "This challenge is over.",
    "unavailable": "The moderation service is unavailable; press again in a minute.",
    "error": "That did not work; press again.",
}


def callback_data(challenge: dict, index: int) -> str:
    """`cap:<challenge id>:<round>:<option>`: at most 42 bytes (an ObjectId is 24), under Telegram's 64."""
    return f"{CALLBACK_PREFIX}:{challenge['id']}:{challenge['round']}:{index}"


def parse_callback(data: str | None) -> tuple[str, int, str] | None:
    parts = (data or "").split(":")
    if len(parts) != 4 or parts[0] != CALLBACK_PREFIX or not parts[2].isdigit() or not parts[3].isdigit():
        return None
    return parts[1], int(parts[2]), parts[3]


def keyboard(challenge: dict) -> InlineKeyboardMarkup:
    buttons = [InlineKeyboardButton(label, callback_data=callback_data(challenge, index))
               for index, label in enumerate(challenge["options"])]
    width = 3 if len(buttons) > 4 else 4  # emoji: two rows of three; a sum's four options in one row
    return InlineKeyboardMarkup([buttons[start:start + width] for start in range(0, len(buttons), width)])


def _time_left(expires_at: str) -> str:
    seconds = max(0, round((datetime.fromisoformat(expires_at) - datetime.now(UTC)).total_seconds()))
    if seconds >= 120:
        return f"{round(seconds / 60)} minutes"
    return f"{seconds} seconds"


def question_text(challenge: dict, user: User) -> str:
    mention = f'<a href="tg://user?id={user.id}">{html.escape(user.full_name)}</a>'
    lines = [f"Welcome, {mention}! Before you can write here: {html.escape(challenge['question'])}"]
    if challenge["mode"] != "button":
        tries = challenge["max_attempts"]
        lines.append(f"You have {tries} {'try' if tries == 1 else 'tries'}.")
    failure = "you will be removed" if challenge["failure_action"] == "kick" else "you stay muted"
    lines.append(f"Answer within {_time_left(challenge['expires_at'])}, or {failure}.")
    return "\n".join(lines)


async def start_challenge(context, chat: Chat, user: User, settings, *, reason: str = "join") -> bool:
    """Challenges a member who just joined. True when a challenge runs for them (started now, or already pending);
    False when none does (an exempt member, captcha off, core away): the caller then welcomes them."""
    core = context.core
    try:
        answer = await core.challenge_create(telegram_chat_id=chat.id, telegram_user_id=user.id,
                                             username=user.username or "", display_name=user.full_name,
                                             reason=reason)
    except CoreError as exc:
        if exc.code not in (ErrorCode.EXEMPT_MEMBER, ErrorCode.CONFLICT):
            logger.warning("core refused a challenge", extra={"chat_id": chat.id, "error": str(exc)})
        return False
    except CoreUnavailable as exc:
        logger.warning("captcha: core unavailable, the member is not challenged",
                       extra={"chat_id": chat.id, "error": str(exc)})
        return False
    challenge = answer["challenge"]
    if not answer["created"]:
        return True  # the same join seen twice, or another replica's: that round runs
    error = await set_permissions(context.bot, chat.id, user.id, ChatPermissions.no_permissions(),
                                  failure="the member could not be restricted")
    await complete(core, challenge["restrict_action_id"], error)
    try:
        message = await telegram_call(context.bot.send_message, chat.id, question_text(challenge, user),
                                      reply_markup=keyboard(challenge))
    except TelegramError as exc:
        logger.warning("captcha: the challenge could not be sent", extra={"chat_id": chat.id, "error": exc.message})
        return True
    try:
        await core.challenge_messages(challenge["id"], message_ids=[message.message_id], round=challenge["round"])
    except (CoreError, CoreUnavailable) as exc:  # the message is then left when the round ends
        logger.warning("captcha: core does not know the challenge's message", extra={"error": str(exc)})
    return True


async def on_press(update: Update, context) -> None:
    query = update.callback_query
    parsed = parse_callback(query.data)
    if parsed is None or query.message is None:  # not a button of ours as sent, or a message too old to reach
        await _answer_query(query, PRESS_ANSWERS["error"])
        return
    challenge_id, round_number, index = parsed
    try:
        challenge = await context.core.challenge_answer(challenge_id, telegram_user_id=query.from_user.id,
                                                        answer=index, round=round_number)
    except CoreError as exc:
        await _answer_query(query, PRESS_ANSWERS.get(exc.code, PRESS_ANSWERS["error"]))
        return
    except CoreUnavailable:
        await _answer_query(query, PRESS_ANSWERS["unavailable"])
        return
    status = challenge["status"]
    if status == "pending":
        left = challenge["max_attempts"] - challenge["attempts"]
        await _answer_query(query, f"Wrong answer. {left} {'try' if left == 1 else 'tries'} left.")
        return
    await _answer_query(query, PRESS_ANSWERS.get(status, PRESS_ANSWERS["error"]))
    chat, extra = query.message.chat, [query.message.message_id]
    if status == "solved":
        await solved(context, chat, query.from_user, challenge, extra)
    else:
        await ended(context.application, challenge, challenge["follow_up_action_id"], extra)


async def _answer_query(query, text: str) -> None:
    try:
        await query.answer(text)
    except TelegramError as exc:  # the press is older than Telegram keeps it answerable
        logger.info("callback query not answered", extra={"error": exc.message})


async def set_permissions(bot, chat_id: int, user_id: int, permissions: ChatPermissions, *,
                          failure: str) -> TelegramError | None:
    """Restricts (or frees) the member on Telegram; Telegram's refusal is logged and returned, for the record."""
    try:
        await telegram_call(bot.restrict_chat_member, chat_id, user_id, permissions,
                            use_independent_chat_permissions=True)
    except TelegramError as exc:
        logger.warning(f"captcha: {failure}", extra={"chat_id": chat_id, "error": exc.message})
        return exc
    return None


async def solved(context, chat: Chat, user: User, challenge: dict, extra_message_ids: list[int]) -> None:
    """Lifts the restriction (every permission: the member then has the chat's default permissions, as Telegram's
    docs say for lifting one), completes the unmute, deletes the challenge, sends the welcome."""
    error = await set_permissions(context.bot, chat.id, user.id, ChatPermissions.all_permissions(),
                                  failure="the restriction could not be lifted")
    if challenge["follow_up_action_id"]:
        await complete(context.core, challenge["follow_up_action_id"], error)
    await delete_messages(context.bot, chat.id, [*challenge["message_ids"], *extra_message_ids])
    await send_welcome(context, chat, user, await protection_settings(context, chat.id))


async def ended(application, challenge: dict, action_id: str | None, extra_message_ids: list[int] = ()) -> None:
    """A failed or expired round: the kick when core recorded one (else the member stays muted), then the
    challenge's messages deleted."""
    chat_id, user_id = challenge["telegram_chat_id"], challenge["telegram_user_id"]
    if action_id:
        error = None
        try:
            await act_on_member(application.bot, chat_id, user_id, "kick", None)
        except TelegramError as exc:
            error = exc
            logger.warning("captcha: the member could not be removed", extra={"chat_id": chat_id,
                                                                              "error": exc.message})
        await complete(application.bot_data.core, action_id, error)
    await delete_messages(application.bot, chat_id, [*challenge["message_ids"], *extra_message_ids])


async def delete_messages(bot, chat_id: int, message_ids: list[int]) -> None:
    unique = list(dict.fromkeys(message_ids))
    for start in range(0, len(unique), DELETE_BATCH):
        try:
            await telegram_call(bot.delete_messages, chat_id, unique[start:start + DELETE_BATCH])
        except TelegramError as exc:  # gone already, or the bot lacks "Delete messages"
            logger.info("challenge messages not deleted", extra={"chat_id": chat_id, "error": exc.message})


class ChallengeSweeper:
    """Every `interval` seconds: the rounds whose time ran out, each ended in its chat's turn (never interleaved
    with that chat's updates). Core hands each out once, so two replicas (or a restarted bot) never end one twice."""

    def __init__(self, application, *, interval: float | None = None):
        self.application = application
        self.interval = interval if interval is not None else django_settings.BOT_CAPTCHA_SWEEP_SECONDS
        self._task: asyncio.Task | None = None
        self._work: set[asyncio.Task] = set()

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._work:
            await asyncio.gather(*self._work, return_exceptions=True)

    async def _run(self) -> None:
        while True:
            try:
                await self.sweep()
            except Exception:  # the next round tries again
                logger.exception("captcha sweep failed")
            await asyncio.sleep(self.interval)

    async def sweep(self) -> int:
        try:
            claimed = (await self.application.bot_data.core.challenges_claim_expired(limit=SWEEP_BATCH))["items"]
        except (CoreUnavailable, CoreError) as exc:
            logger.info("captcha sweep: core unavailable", extra={"error": str(exc)})
            return 0
        for item in claimed:
            task = asyncio.get_running_loop().create_task(self._end(item["challenge"], item["action"]))
            self._work.add(task)
            task.add_done_callback(self._work.discard)
        return len(claimed)

    async def _end(self, challenge: dict, action: dict | None) -> None:
        if challenge["status"] == "solved":  # handed out again: the bot stopped before letting them in
            work = self._let_in(challenge)
        else:
            work = ended(self.application, challenge, action["id"] if action else None)
        processor = self.application.update_processor
        try:
            if isinstance(processor, PerChatUpdateProcessor):
                await processor.in_chat_turn(challenge["telegram_chat_id"], work)
            else:
                await work
        except Exception:
            logger.exception("captcha: an expired challenge was not ended", extra={"challenge_id": challenge["id"]})


    async def _let_in(self, challenge: dict) -> None:
        bot = self.application.bot
        chat = await bot.get_chat(challenge["telegram_chat_id"])
        member = await bot.get_chat_member(challenge["telegram_chat_id"], challenge["telegram_user_id"])
        context = self.application.context_types.context(self.application)
        await solved(context, chat, member.user, challenge, [])


def handlers():
    return [CallbackQueryHandler(on_press, pattern=rf"^{CALLBACK_PREFIX}:")]
