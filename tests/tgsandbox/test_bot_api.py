"""PTB itself as the client: results parse into PTB objects, errors raise PTB's exceptions with
Telegram's texts (PTB drops "Bad Request: " and capitalises the rest)."""

import pytest
import telegram
from telegram.constants import ChatMemberStatus, MessageEntityType
from telegram.error import BadRequest, EndPointNotFound, Forbidden, InvalidToken

from tests.tgsandbox.conftest import telegram_error

pytestmark = pytest.mark.anyio
NOT_MODIFIED = ("Message is not modified: specified new message content and reply markup are exactly the same as a "
                "current content and reply markup of the message")


async def test_get_me_is_the_token_owner(demo):
    async with demo.bot() as bot:
        me = await bot.get_me()
    assert me.id == 123456 == int(demo.token.split(":")[0])
    assert (me.is_bot, me.username, me.can_join_groups, me.can_read_all_group_messages) == (
        True, "sandbox_mod_bot", True, False)


async def test_unknown_token_is_unauthorized_and_malformed_token_not_found(demo, http):
    with pytest.raises(InvalidToken, match="was rejected by the server"):
        async with demo.bot("999:unknown-token") as bot:
            await bot.get_me()
    response = http.post(f"{demo.url}/bot999:unknown-token/getMe")
    assert (response.status_code, response.json()) == (401, {"ok": False, "error_code": 401,
                                                             "description": "Unauthorized"})
    response = http.post(f"{demo.url}/botnot-a-token/getMe")
    assert (response.status_code, response.json()) == (404, {"ok": False, "error_code": 404,
                                                             "description": "Not Found"})


async def test_unknown_method_is_not_found(demo, http):
    async with demo.bot() as bot:
        with pytest.raises(EndPointNotFound):
            await bot.do_api_request("sendTelepathicMessage", api_kwargs={"chat_id": 1})
    response = http.get(f"{demo.url}/bot{demo.token}/getme")  # method names are case-insensitive
    assert response.json()["result"]["id"] == demo.bot_id


async def test_send_message_with_html_reply_and_keyboard(demo):
    question = demo.world.send_message(demo.group, demo.carol, "is this allowed?")
    keyboard = telegram.InlineKeyboardMarkup([[telegram.InlineKeyboardButton("Rules", callback_data="rules")]])
    async with demo.bot() as bot:
        sent = await bot.send_message(demo.group.id, "  <b>Read</b> the <a href='https://t.me/rules'>rules</a> 😀 ",
                                      parse_mode="HTML", reply_to_message_id=question.message_id,
                                      reply_markup=keyboard)
    assert isinstance(sent, telegram.Message)
    assert sent.text == "Read the rules 😀"
    assert sent.from_user.id == demo.bot_id and sent.chat.type == "supergroup"
    assert sent.reply_to_message.message_id == question.message_id
    assert sent.reply_to_message.from_user.username == "carol"
    assert sent.reply_markup == keyboard
    assert sent.parse_entities() == {
        telegram.MessageEntity(MessageEntityType.BOLD, 0, 4): "Read",
        telegram.MessageEntity(MessageEntityType.TEXT_LINK, 9, 5, url="https://t.me/rules"): "rules",
    }
    stored = demo.world.messages(demo.group, sender="bot")[-1]
    assert (stored.message_id, stored.text) == (sent.message_id, "Read the rules 😀")


async def test_markup_errors_are_telegrams(demo):
    async with demo.bot() as bot:
        with pytest.raises(BadRequest) as error:
            await bot.send_message(demo.group.id, "Banned for 1.5 hours", parse_mode="MarkdownV2")
        assert error.value.message == ("Can't parse entities: character '.' is reserved and must be escaped "
                                       "with the preceding '\\'")
        with telegram_error(BadRequest, "Can't parse entities: unsupported start tag \"div\" at byte offset 0"):
            await bot.send_message(demo.group.id, "<div>x</div>", parse_mode="HTML")
        with telegram_error(BadRequest, "Message text is empty"):
            await bot.send_message(demo.group.id, "   ")
        with telegram_error(BadRequest, "Message is too long"):
            await bot.send_message(demo.group.id, "x" * 4097)
        with telegram_error(BadRequest, "Message to be replied not found"):
            await bot.send_message(demo.group.id, "hi", reply_to_message_id=9999)
        sent = await bot.send_message(demo.group.id, "hi", reply_parameters=telegram.ReplyParameters(
            9999, allow_sending_without_reply=True))
        assert sent.reply_to_message is None


async def test_unknown_chat_and_invisible_chat(demo):
    hidden = demo.world.create_chat("Secret", demo.alice)  # the bot never was there
    async with demo.bot() as bot:
        for chat_id in (-1009999999999, hidden.id, "@no_such_group"):
            with telegram_error(BadRequest, "Chat not found"):
                await bot.send_message(chat_id, "hello")
        with telegram_error(BadRequest, "Chat not found"):
            await bot.get_chat(hidden.id)
        chat = await bot.get_chat("@sandbox_group")
    assert chat.id == demo.group.id


async def test_chat_info_parses(demo, http):
    pinned = demo.world.send_message(demo.group, demo.alice, "Welcome! Rules: be nice.")
    async with demo.bot() as bot:
        await bot.pin_chat_message(demo.group.id, pinned.message_id)
        chat = await bot.get_chat(demo.group.id)
        admins = await bot.get_chat_administrators(demo.group.id)
        count = await bot.get_chat_member_count(demo.group.id)
        owner = await bot.get_chat_member(demo.group.id, demo.alice.id)
        bob = await bot.get_chat_member(demo.group.id, demo.bob.id)
        stranger = demo.world.create_user("Eve", username="eve")
        outsider = await bot.get_chat_member(demo.group.id, stranger.id)
        with telegram_error(BadRequest, "User not found"):
            await bot.get_chat_member(demo.group.id, 123)
    invalid = http.post(f"{demo.url}/bot{demo.token}/getChatMember", data={"chat_id": demo.group.id, "user_id": "x"})
    assert invalid.json() == {"ok": False, "error_code": 400, "description": "Bad Request: invalid user_id specified"}
    assert isinstance(chat, telegram.ChatFullInfo)
    assert (chat.title, chat.username, chat.pinned_message.text) == ("Sandbox Group", "sandbox_group",
                                                                    "Welcome! Rules: be nice.")
    assert chat.permissions.can_send_messages is True
    assert [a.status for a in admins] == [ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR,
                                          ChatMemberStatus.ADMINISTRATOR]
    assert count == 6  # alice, bob, carol, dave, spammer, the bot
    assert isinstance(owner, telegram.ChatMemberOwner)
    assert isinstance(bob, telegram.ChatMemberAdministrator)
    assert (bob.can_restrict_members, bob.can_promote_members, bob.can_be_edited) == (True, False, False)
    assert isinstance(outsider, telegram.ChatMemberLeft)


async def test_edit_and_delete_own_messages(demo):
    async with demo.bot() as bot:
        sent = await bot.send_message(demo.group.id, "Warning 1/3")
        edited = await bot.edit_message_text("Warning <b>2/3</b>", demo.group.id, sent.message_id,
                                             parse_mode="HTML")
        assert (edited.text, edited.edit_date is not None) == ("Warning 2/3", True)
        with telegram_error(BadRequest, NOT_MODIFIED):
            await bot.edit_message_text("Warning <b>2/3</b>", demo.group.id, sent.message_id, parse_mode="HTML")
        users_message = demo.world.send_message(demo.group, demo.carol, "hello")
        with telegram_error(BadRequest, "Message can't be edited"):
            await bot.edit_message_text("hacked", demo.group.id, users_message.message_id)
        assert await bot.delete_message(demo.group.id, sent.message_id) is True
        with telegram_error(BadRequest, "Message to delete not found"):
            await bot.delete_message(demo.group.id, sent.message_id)
        with telegram_error(BadRequest, "Message to edit not found"):
            await bot.edit_message_text("gone", demo.group.id, sent.message_id)


async def test_commands_and_webhook_info_and_misc(demo):
    async with demo.bot() as bot:
        commands = [telegram.BotCommand("ban", "Ban a user"), telegram.BotCommand("mute", "Mute a user")]
        assert await bot.set_my_commands(commands) is True
        assert await bot.get_my_commands() == tuple(commands)
        scope = telegram.BotCommandScopeChatAdministrators(demo.group.id)
        assert await bot.get_my_commands(scope=scope) == ()
        with telegram_error(BadRequest, "Bot_command_invalid"):
            await bot.set_my_commands([telegram.BotCommand("Bad-Name", "x")])
        assert await bot.delete_my_commands() is True
        assert await bot.get_my_commands() == ()
        info = await bot.get_webhook_info()
        assert (info.url, info.pending_update_count) == ("", 0)
        assert await bot.send_chat_action(demo.group.id, "typing") is True
        assert await bot.log_out() is True and await bot.close() is True


async def test_private_chats(demo):
    async with demo.bot() as bot:
        with telegram_error(Forbidden, "Forbidden: bot can't initiate conversation with a user"):
            await bot.send_message(demo.dave.id, "hi")
        with telegram_error(BadRequest, "Chat not found"):
            await bot.send_message(424242, "hi")
        demo.world.start_bot(demo.dave)
        updates = await bot.get_updates()
        assert updates[-1].message.text == "/start" and updates[-1].message.chat.type == "private"
        sent = await bot.send_message(demo.dave.id, "Hello Dave")
        assert sent.chat.id == demo.dave.id and sent.chat.username == "dave"
        demo.world.block_bot(demo.dave)
        with telegram_error(Forbidden, "Forbidden: bot was blocked by the user"):
            await bot.send_message(demo.dave.id, "still there?")
        blocked = (await bot.get_updates(offset=updates[-1].update_id + 1))[-1]
        assert blocked.my_chat_member.new_chat_member.status == ChatMemberStatus.BANNED


async def test_bodies_in_json_form_and_multipart_are_all_understood(demo, http):
    base = f"{demo.url}/bot{demo.token}"
    as_json = http.post(f"{base}/sendMessage", json={"chat_id": demo.group.id, "text": "json",
                                                      "reply_markup": {"inline_keyboard": [[{
                                                          "text": "ok", "callback_data": "ok"}]]}})
    as_form = http.post(f"{base}/sendMessage", data={"chat_id": str(demo.group.id), "text": "form"})
    as_multipart = http.post(f"{base}/sendMessage", data={"chat_id": str(demo.group.id), "text": "multipart"},
                              files={"document": ("a.txt", b"hello")})
    as_query = http.get(f"{base}/sendMessage", params={"chat_id": demo.group.id, "text": "query"})
    bodies = [r.json() for r in (as_json, as_form, as_multipart, as_query)]
    assert [b["result"]["text"] for b in bodies] == ["json", "form", "multipart", "query"]
    assert bodies[0]["result"]["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "ok"
    bad = http.post(f"{base}/sendMessage", content=b"{not json", headers={"Content-Type": "application/json"})
    assert bad.status_code == 400 and bad.json()["ok"] is False
