"""botchat end to end: a person types in a group, a (tiny, PTB-driven) bot polls the sandbox and
moderates, and the terminal shows the bot's replies and the Bot API calls it made."""

import asyncio
import threading

import pytest
import telegram
from telegram.error import BadRequest, TelegramError

from tgsandbox.botchat import format_call, run_botchat


def scripted(*lines):
    """An input() that types ``lines`` and then hits Ctrl-D."""
    remaining = list(lines)

    def typed(prompt):
        if not remaining:
            raise EOFError
        return remaining.pop(0)

    return typed


class BotThread(threading.Thread):
    """A small bot of a test's own, run in a thread against the sandbox until `stopping` is set."""

    def __init__(self, demo):
        super().__init__(daemon=True)
        self.demo = demo
        self.stopping = threading.Event()
        self.ready = threading.Event()

    def run(self):
        asyncio.run(self.main())


class TinyModerator(BotThread):
    """Bans ``/ban @username reason`` targets it has seen talking; answers with the outcome."""

    async def main(self):
        known: dict[str, int] = {}
        async with self.demo.bot() as bot:
            self.ready.set()
            offset = 0
            while not self.stopping.is_set():
                try:
                    updates = await bot.get_updates(offset=offset, timeout=1)
                except TelegramError:
                    return
                for update in updates:
                    offset = update.update_id + 1
                    message = update.message
                    if message is None or not message.text:
                        continue
                    known[message.from_user.username] = message.from_user.id
                    if message.text.startswith("/ban"):
                        await self.ban(bot, message, known)

    async def ban(self, bot, message, known):
        _, target, *reason = message.text.split(maxsplit=2)
        name = target.lstrip("@")
        user_id = known.get(name) or self.demo.world.user(name).id
        try:
            await bot.ban_chat_member(message.chat.id, user_id)
        except BadRequest as error:
            await message.reply_text(f"Cannot ban @{name}: {error.message}")
            return
        await message.reply_html(f"Banned <b>@{name}</b>: {' '.join(reason) or 'no reason'}")


@pytest.fixture
def moderator(demo):
    bot = TinyModerator(demo)
    bot.start()
    assert bot.ready.wait(5)
    yield bot
    bot.stopping.set()
    demo.world.reset()  # ends the long poll at once
    bot.join(5)


def test_a_moderation_session(demo, moderator):
    lines = scripted("/as spammer", "cheap pills, click here", "/as bob_mod", "/ban @spammer flooding",
                     "/ban @alice because", "/members", "/sandbox", "//as literal", "/quit")
    output: list[str] = []
    run_botchat(demo.url, input_fn=lines, output=output.append, settle=0.3, max_wait=1)
    text = "\n".join(output)
    assert "bot @sandbox_mod_bot (123456): polling" in text
    assert "you are @alice in Sandbox Group" in text
    assert "  you are now @spammer" in text
    assert "#7 @spammer: cheap pills, click here" in text
    assert "  (no reaction from the bot)" in text
    assert f"  api  banChatMember(chat_id={demo.group.id}, user_id={demo.spammer.id}) -> true" in text
    # #9 is Telegram's service message about the removal
    assert "  bot> #10 @sandbox_mod_bot (reply to #8): Banned @spammer: flooding" in text
    assert (f"  api! banChatMember(chat_id={demo.group.id}, user_id={demo.alice.id}) -> 400 Bad Request: "
            "can't remove chat owner") in text
    assert "Cannot ban @alice: Can't remove chat owner" in text
    assert "  @spammer             kicked" in text
    assert "/as <user>" in text  # the help
    assert "@bob_mod: /as literal" in text


def test_botchat_commands_without_a_bot(demo):
    demo.world.add_member(demo.group, demo.world.create_user("Frank", username="frank"))
    lines = scripted("/in Basic Group", "/as carol", "hello basic", "/reply 999 nope", "/upgrade", "/as alice",
                     "/upgrade", "/chats", "/in @sandbox_mod_bot", "/start", "/history 1", "/in nowhere", "/users")
    output: list[str] = []
    run_botchat(demo.url, input_fn=lines, output=output.append, settle=0.1, max_wait=0.3)
    text = "\n".join(output)
    assert "bot @sandbox_mod_bot (123456): not connected yet" in text
    assert "@carol: hello basic" in text
    assert "  sandbox: message 999 not found in this chat" in text
    assert "  sandbox: only the owner can upgrade the group" in text
    assert "  upgraded: Basic Group is now supergroup -100" in text
    assert "-> upgraded to -100" in text
    assert "you are now in private chat with @sandbox_mod_bot" in text
    assert "@alice in private: /start" in text
    assert "  sandbox: no such chat: nowhere" in text
    assert "@frank" in text


def test_format_call_shortens_results():
    call = {"method": "sendMessage", "params": {"chat_id": "-100", "text": "x" * 100}, "ok": True,
            "result": {"message_id": 5, "chat": {}}}
    assert format_call(call) == f"  api  sendMessage(chat_id=-100, text={'x' * 57}...) -> <message 5>"
    telegram.Bot  # noqa: B018 - PTB stays importable alongside botchat


class ButtonBot(BotThread):
    """Answers "/verify" with a button challenge; a press on the right button is answered with an alert."""

    async def main(self):
        async with self.demo.bot() as bot:
            self.ready.set()
            offset = 0
            while not self.stopping.is_set():
                try:
                    updates = await bot.get_updates(offset=offset, timeout=1,
                                                    allowed_updates=["message", "callback_query"])
                except TelegramError:
                    return
                for update in updates:
                    offset = update.update_id + 1
                    if update.message and update.message.text == "/verify":
                        human = f"cap:{update.message.from_user.id}:ok"
                        keyboard = telegram.InlineKeyboardMarkup([[
                            telegram.InlineKeyboardButton("I am human", callback_data=human),
                            telegram.InlineKeyboardButton("I am a bot", callback_data="cap:0:no")]])
                        await update.message.reply_text("Press a button", reply_markup=keyboard)
                    elif update.callback_query and update.callback_query.data.endswith(":ok"):
                        await update.callback_query.answer("Welcome!", show_alert=True)
                    # the wrong button is left unanswered


def test_pressing_a_button_shows_the_bots_answer(demo):
    bot = ButtonBot(demo)
    bot.start()
    assert bot.ready.wait(5)
    try:
        lines = scripted("/as carol", "/verify", "/history 1", "/press 8 I am human", "/press 8 cap:0:no",
                         "/press 8 nonsense")
        output: list[str] = []
        run_botchat(demo.url, input_fn=lines, output=output.append, settle=0.3, max_wait=2)
    finally:
        bot.stopping.set()
        demo.world.reset()
        bot.join(5)
    text = "\n".join(output)
    assert f"[I am human -> cap:{demo.carol.id}:ok | I am a bot -> cap:0:no]" in text
    assert "  @carol pressed [I am human]" in text
    assert "answerCallbackQuery(" in text and "  alert: Welcome!" in text
    assert "  (the bot has not answered the press: the button keeps spinning)" in text
    assert "  sandbox: the message has no button with callback_data 'nonsense'" in text
