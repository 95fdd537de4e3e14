"""Every reply of the lock, blocklist, filter and note commands is Telegram HTML that Telegram accepts: a bare <word>
in a usage text makes Telegram refuse the whole message ("can't parse entities"), and the member sees nothing.

The bot's real application (in process) against the Telegram sandbox, whose sendMessage/editMessageText parse HTML as
Telegram does (tgsandbox/markup.py), and core (a live server): each command of these modules is sent with a range of
arguments (none, wrong ones, HTML-looking ones, real ones), by the group's owner and by a member, with the group's
rules empty and then filled in, and the confirmation buttons pressed; no message the bot sends may be refused. The
/help lines and usage constants are held to the same rules as /help and the usage replies send them."""

import asyncio
import html

import pytest
from telegram.ext import CommandHandler

from apps.botgateway.protection import content_commands, filters, notes
from apps.contentrules.services import note_save
from tgsandbox.errors import SandboxError
from tgsandbox.markup import parse_html

from .content_harness import Bot, core_group, sandbox_fixtures, update_of

MODULES = (content_commands, filters, notes)
SENDING = {"sendmessage", "editmessagetext", "sendphoto", "senddocument", "sendsticker", "sendanimation",
           "sendvideo", "sendaudio", "sendvoice", "copymessage"}
# Arguments every command gets (none, wrong, HTML-looking), and those that make each one do its work.
ARGUMENTS = ["", "bogus <b>", "<word> & <mode>"]
REAL_ARGUMENTS = {
    "lock": ["sticker <reason>", "url tmute", "gif tban 1h No <b>gifs</b>"],
    "unlock": ["sticker", "all"],
    "locks": ["list"],
    "lockwarns": ["off", "on"],
    "addblocklist": ["crypto {ban}", '(one, "two words") <i>why</i>', "tmute", "a\n<b>\nb&c"],
    "rmblocklist": ["one", "nothing <here>"],
    "blocklistmode": ["tmute", "tban 2d", "warn"],
    "blocklistdelete": ["off"],
    "blocklistnames": ["on"],
    "filter": ['prefix:<x> hi <b>there</b>', '"unclosed', "(hi, hello) Hey {first} & co"],
    "stop": ["hi", "<x>"],
    "save": ["faq Read the <b>FAQ</b> & more", "<bad> name"],
    "get": ["faq", "faq noformat", "faq extra words"],
    "clear": ["nothing", "faq"],
    "privatenotes": ["on", "off"],
}
ONCE = ("stopall", "clearall", "unblocklistall")  # answered by a confirmation: no arguments


def commands() -> list[str]:
    names = []
    for module in MODULES:
        for handler in module.handlers():
            if isinstance(handler, CommandHandler):
                names.extend(sorted(handler.commands))
    return names


def _without_rate_limits(world):
    world.set_rate_limits(enabled=False)  # hundreds of answers in a minute: Telegram's per-group limit aside


sandbox, world = sandbox_fixtures(prepare=_without_rate_limits)


def refusals(world, since: int) -> list[dict]:
    return [call for call in world.call_log(since=since) if call["method"].lower() in SENDING and not call["ok"]]


@pytest.mark.django_db(transaction=True)
def test_every_reply_of_the_content_commands_is_html_telegram_accepts(world, sandbox, live_server, tmp_path):
    chat, group = core_group(world)
    names = commands()
    assert {"lock", "locks", "blocklist", "blocklistmode", "addblocklist", "filter", "filters", "save", "get",
            "notes", "stopall", "clearall", "unblocklistall"} <= set(names)
    mark = world.call_seq

    async def scenario():
        async with Bot(sandbox, live_server, tmp_path) as bot:
            # Hundreds of answers in one group: the bot's own pacing of Telegram's 20 a minute per group set aside.
            bot.application.bot.rate_limiter._group_rate = (10_000, 1)
            await bot.know(chat.id, group.pk)
            update_id = 0

            async def send(user, text):
                nonlocal update_id
                update_id += 1
                message = world.send_message(chat, user, text)
                await bot.handle(update_of(world, message, update_id=update_id))
                await bot.settle()
                return message

            async def press_all(after: int):
                """Every button under the bot's messages since `after`, pressed by the owner then by a member."""
                bot_id = world.bot().id
                for message in list(world.chat(chat.id).messages.values()):
                    if message.message_id <= after or message.from_id != bot_id or not message.reply_markup:
                        continue
                    for row in message.reply_markup.get("inline_keyboard", []):
                        for button in row:
                            if "callback_data" not in button:
                                continue
                            for user in ("dave", "alice"):
                                try:
                                    query = world.press_button(chat, message.message_id, user,
                                                               button["callback_data"])
                                except SandboxError:  # the message was edited meanwhile (its buttons gone)
                                    continue
                                update_id_local = 10 ** 6 + int(query["id"])
                                await bot.handle({"update_id": update_id_local, "callback_query": query})

            for name in names:  # the group's rules empty: "nothing here" answers
                await send("alice", f"/{name}")
            for name in names:
                for argument in ARGUMENTS + REAL_ARGUMENTS.get(name, []):
                    if name in ONCE and argument:
                        continue
                    await send("alice", f"/{name} {argument}".strip())
            for name in names:  # a member: refused, or answered
                for argument in ARGUMENTS[:2]:
                    await send("dave", f"/{name} {argument}".strip())
            await asyncio.to_thread(note_save, group=group, name="faq", text="Read the <b>FAQ</b>")
            await bot.data.protection.load(bot.data.core, chat.id)
            await send("alice", "/lock url forward warn No <i>links</i> & no forwards")  # (/unlock all ran)
            for name in names:  # the rules filled in: the lists
                await send("alice", f"/{name}")
            for name in ONCE:
                before = max(world.chat(chat.id).messages)
                await send("alice", f"/{name}")
                await press_all(before)

    asyncio.run(asyncio.wait_for(scenario(), timeout=240))  # a hang fails here, not at CI's limit
    refused = refusals(world, mark)
    assert not refused, [(call["method"], call["description"], call["params"].get("text")) for call in refused]
    sent = [call for call in world.call_log(since=mark, method="sendMessage") if call["ok"]]
    assert len(sent) > len(names) * 2  # the commands were answered
    texts = [call["params"].get("text", "") for call in sent]
    for start in ("Nothing is locked here.", "The blocklist is empty.", "Blocklist mode:", "No filters in",
                  "No notes in", "Locked here:", "Blocklist (", "Filters in", "Notes in", "Added blocklist entry",
                  "Saved note", "Use /lock"):
        assert any(text.startswith(start) for text in texts), start


def as_sent(text: str) -> str:
    """What Telegram shows of an HTML text (raising as Telegram refuses it)."""
    return parse_html(text)[0]


def test_help_lines_and_usage_texts_are_sent_as_telegram_shows_them():
    """/help escapes each line (handlers.info) and a usage error is escaped (command_frame): what the member reads
    is the text as written, and Telegram accepts it."""
    texts = [text for module in MODULES for line in module.HELP_LINES for text in (line.usage, line.text)]
    texts += [value for module in MODULES for key, value in vars(module).items()
              if key.endswith("USAGE") and isinstance(value, str)]
    assert len(texts) > 20
    for text in texts:
        assert as_sent(html.escape(text)) == text


def test_a_bare_tag_is_what_telegram_refuses():
    """The check above would catch the bug it is for: the sandbox refuses a bare <word> as Telegram does."""
    with pytest.raises(Exception, match="can't parse entities"):
        as_sent("The blocklist is empty. /addblocklist <word> adds one.")
