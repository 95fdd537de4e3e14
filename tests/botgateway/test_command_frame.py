"""The command frame's group settings: disabled commands (core asked only when the command is disabled), their
deletion, clean commands, a handler's own request to delete its command, denials answered in private or in the
group. Telegram and core are recording doubles here; tests/e2e/test_quiet_moderation.py runs the same through the
sandbox and the real core."""

import asyncio
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from telegram import Chat, Message, Update, User
from telegram.error import Forbidden

from apps.botgateway.command_frame import delete_command_after, run_command, setting, typed_command
from apps.botgateway.context import BotData
from apps.botgateway.flows import Denial, StopCommand

GROUP = Chat(-100777, Chat.SUPERGROUP, title="Tea <room>")
MEMBER = User(501, "Mia", is_bot=False)


class Settings(dict):
    """The cached settings as the frame reads them: attributes or the wire mapping."""

    def __init__(self, version=1, **fields):
        super().__init__(fields)
        self.telegram_chat_id, self.version = GROUP.id, version


class Bot:
    def __init__(self, *, private_refused=False):
        self.calls = []
        self.private_refused = private_refused

    async def delete_message(self, chat_id, message_id):
        self.calls.append(("delete", chat_id, message_id))

    async def send_message(self, chat_id, text, **kwargs):
        if chat_id > 0 and self.private_refused:
            raise Forbidden("Forbidden: bot can't initiate conversation with a user")
        self.calls.append(("send", chat_id, text))


class Core:
    def __init__(self, allowed=False):
        self.allowed, self.checks = allowed, []

    async def check_permission(self, **query):
        self.checks.append(query)
        return SimpleNamespace(allowed=self.allowed)


def scene(settings=None, *, allowed=False, private_refused=False, text="/id"):
    bot, core = Bot(private_refused=private_refused), Core(allowed)
    data = BotData()
    if settings is not None:
        data.protection.store(settings)
    context = SimpleNamespace(bot=bot, core=core, bot_data=data)
    message = Message(42, datetime.now(UTC), GROUP, from_user=MEMBER, text=text)
    message.set_bot(bot)
    return Update(1, message=message), context, bot, core


def run(update, context, name, body):
    asyncio.run(run_command(update, context, name, body))


def body_recorder():
    ran = []

    async def body():
        ran.append(True)

    return body, ran


def test_a_command_that_is_not_disabled_runs_without_asking_core():
    update, context, bot, core = scene(Settings(disabled_commands=["info"]))
    body, ran = body_recorder()
    run(update, context, "id", body)
    assert ran == [True] and core.checks == [] and bot.calls == []


def test_a_members_disabled_command_is_ignored_and_deleted_only_with_disabledel():
    update, context, bot, core = scene(Settings(disabled_commands=["id"]))
    body, ran = body_recorder()
    run(update, context, "id", body)
    assert ran == [] and bot.calls == []
    assert core.checks == [{"permission": "MANAGE_SETTINGS", "telegram_chat_id": GROUP.id,
                            "telegram_user_id": MEMBER.id}]
    update, context, bot, _ = scene(Settings(disabled_commands=["id"], disabled_delete=True))
    run(update, context, "id", body)
    assert ran == [] and bot.calls == [("delete", GROUP.id, 42)]


def test_an_admin_still_uses_a_disabled_command():
    update, context, bot, core = scene(Settings(disabled_commands=["id"], disabled_delete=True), allowed=True)
    body, ran = body_recorder()
    run(update, context, "id", body)
    assert ran == [True] and bot.calls == [] and len(core.checks) == 1


def test_an_alias_is_disabled_by_the_name_typed():
    update, context, _, _ = scene(Settings(disabled_commands=["saved"]), text="/Saved@some_bot now")
    body, ran = body_recorder()
    run(update, context, "notes", body)
    assert ran == []


def test_clean_commands_deletes_the_command_once_handled_even_after_a_refusal():
    update, context, bot, _ = scene(Settings(clean_commands=True))

    async def refused():
        raise StopCommand("No.")

    run(update, context, "id", refused)
    assert bot.calls == [("send", GROUP.id, "No."), ("delete", GROUP.id, 42)]


def test_a_handler_asks_for_its_command_to_go():
    update, context, bot, _ = scene(Settings())

    async def silent():
        delete_command_after()

    run(update, context, "sban", silent)
    assert bot.calls == [("delete", GROUP.id, 42)]
    body, _ = body_recorder()
    bot.calls.clear()
    run(update, context, "id", body)  # the request was that command's only
    assert bot.calls == []


def denial_body():
    async def body():
        raise Denial("You need the BAN_USERS permission to do that.")

    return body


def test_denials_go_to_the_group_by_default():
    update, context, bot, _ = scene(Settings())
    run(update, context, "ban", denial_body())
    assert bot.calls == [("send", GROUP.id, "You need the BAN_USERS permission to do that.")]


def test_denials_private_answers_in_private_naming_the_group():
    update, context, bot, _ = scene(Settings(denials_private=True))
    run(update, context, "ban", denial_body())
    assert bot.calls == [("send", MEMBER.id, "In Tea &lt;room&gt;: You need the BAN_USERS permission to do that.")]


def test_a_member_who_never_started_the_bot_is_answered_in_the_group():
    update, context, bot, _ = scene(Settings(denials_private=True), private_refused=True)
    run(update, context, "ban", denial_body())
    assert bot.calls == [("send", GROUP.id, "You need the BAN_USERS permission to do that.")]


def test_settings_are_read_as_attributes_or_wire_fields():
    assert setting(None, "clean_commands", False) is False
    assert setting(Settings(clean_commands=True), "clean_commands", False) is True
    assert setting(SimpleNamespace(disabled_commands=["id"]), "disabled_commands", ()) == ["id"]
    assert setting(Settings(), "reports_enabled", True) is True


@pytest.mark.parametrize(("text", "typed"), [("/warns", "warns"), ("/Get@Bot note", "get"), ("hello", ""),
                                             ("", "")])
def test_typed_command(text, typed):
    assert typed_command(SimpleNamespace(text=text, caption=None)) == typed
