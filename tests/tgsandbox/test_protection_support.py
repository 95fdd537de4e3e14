"""What group protection needs from the sandbox, as the Bot API documents it: inline keyboards (callback_data
1-64 bytes), callback queries and answerCallbackQuery, restrictions with permissions and until_date, restricted
members refused, service messages deleted, member counts, joins (chat_member and new_chat_members), join floods,
channels and messages forwarded from them."""

import time

import pytest
import telegram
from telegram.constants import ChatMemberStatus
from telegram.error import BadRequest

from tests.tgsandbox.conftest import telegram_error
from tgsandbox.client import SandboxClient
from tgsandbox.errors import SandboxError

pytestmark = pytest.mark.anyio
ALLOWED = ["message", "chat_member", "my_chat_member", "callback_query", "channel_post"]


def keyboard(*data: str) -> telegram.InlineKeyboardMarkup:
    return telegram.InlineKeyboardMarkup([[telegram.InlineKeyboardButton(f"b{i}", callback_data=value)
                                           for i, value in enumerate(data)]])


def kinds(world) -> list[str]:
    return [next(k for k in update if k != "update_id") for update in world.bot().updates]


# --- inline keyboards ---------------------------------------------------------------------------------


async def test_callback_data_of_64_bytes_is_taken_and_65_refused(demo):
    async with demo.bot() as bot:
        sent = await bot.send_message(demo.group.id, "solve", reply_markup=keyboard("é" * 32))  # 64 bytes
        assert sent.reply_markup.inline_keyboard[0][0].callback_data == "é" * 32
        with telegram_error(BadRequest, "Button_data_invalid"):
            await bot.send_message(demo.group.id, "solve", reply_markup=keyboard("x" * 64 + "y"))
        with telegram_error(BadRequest, "Button_data_invalid"):
            await bot.edit_message_reply_markup(demo.group.id, sent.message_id, reply_markup=keyboard("é" * 33))


async def test_buttons_need_text_and_an_action(demo, http):
    def send(markup):
        return http.post(f"{demo.url}/bot{demo.token}/sendMessage",
                         json={"chat_id": demo.group.id, "text": "x", "reply_markup": markup}).json()

    assert send({"inline_keyboard": [[{"text": "a", "callback_data": ""}]]})["description"] == (
        "Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard")
    assert send({"inline_keyboard": [[{"text": "a"}]]})["description"].endswith("Text buttons are unallowed in the "
                                                                                  "inline keyboard")
    assert send({"inline_keyboard": [[{"callback_data": "a"}]]})["description"] == (
        'Bad Request: can\'t parse inline keyboard button: Can\'t find field "text"')
    assert send({"inline_keyboard": [[{"text": 5, "callback_data": "a"}]]})["description"] == (
        'Bad Request: can\'t parse inline keyboard button: Field "text" must be of type String')
    assert send({"inline_keyboard": [["a"]]})["description"].endswith("InlineKeyboardButton must be an Object")
    assert send({"inline_keyboard": [[{"text": "site", "url": "https://example.org"}]]})["ok"]
    assert demo.world.messages(demo.group, sender="bot")[-1].reply_markup["inline_keyboard"][0][0]["url"]


# --- callback queries ---------------------------------------------------------------------------------


async def test_a_press_reaches_the_bot_and_its_answer_is_kept(demo):
    demo.world.set_webhook("", allowed_updates=ALLOWED)
    async with demo.bot() as bot:
        sent = await bot.send_message(demo.group.id, "press", reply_markup=keyboard("cap:1:ok", "cap:1:no"))
        press = demo.world.press_button(demo.group, sent.message_id, "carol", "cap:1:ok")
        updates = await bot.get_updates(allowed_updates=ALLOWED)
        query = updates[-1].callback_query
        assert (query.id, query.data, query.from_user.username, query.message.message_id) == (
            press["id"], "cap:1:ok", "carol", sent.message_id)
        assert demo.world.callback_answer(query.id) == {"id": query.id, "answered": False, "answer": None}
        assert await bot.answer_callback_query(query.id, "Wrong button", show_alert=True, cache_time=5)
        assert demo.world.callback_answer(query.id)["answer"] == {
            "text": "Wrong button", "show_alert": True, "url": None, "cache_time": 5}
        message = "Query is too old and response timeout expired or query id is invalid"
        with telegram_error(BadRequest, message):  # answered already: once per press
            await bot.answer_callback_query(query.id, "again")
        with pytest.raises(SandboxError, match="no button"):
            demo.world.press_button(demo.group, sent.message_id, "carol", "cap:1:forged")


async def test_answer_text_is_at_most_200_characters(demo):
    async with demo.bot() as bot:
        sent = await bot.send_message(demo.group.id, "press", reply_markup=keyboard("go"))
        query_id = demo.world.press_button(demo.group, sent.message_id, "dave", "go")["id"]
        with telegram_error(BadRequest, "Message_too_long"):
            await bot.answer_callback_query(query_id, "x" * 201)
        assert not demo.world.callback_answer(query_id)["answered"]  # refused: still to be answered
        assert await bot.answer_callback_query(query_id, "x" * 200)


def test_the_control_api_waits_for_the_answer(demo):
    sent = demo.world.add_message(demo.group, from_id=demo.bot_id, text="press",
                                  reply_markup={"inline_keyboard": [[{"text": "a", "callback_data": "a"}]]})
    with SandboxClient(demo.url) as client:
        press = client.press_button(demo.group.id, sent.message_id, "carol", "a")
        assert client.callback_answer(press["id"])["answered"] is False
        demo.world.callback_queries[press["id"]].update(answered=True, answer={"text": "ok"})
        assert client.callback_answer(press["id"], wait=1)["answer"] == {"text": "ok"}
        with pytest.raises(SandboxError, match="no callback query"):
            client.callback_answer("404")


# --- restrictions -------------------------------------------------------------------------------------


async def test_restrict_with_permissions_and_until_date(demo):
    now = demo.world.now()
    async with demo.bot() as bot:
        muted = telegram.ChatPermissions.no_permissions()
        assert await bot.restrict_chat_member(demo.group.id, demo.carol.id, muted, until_date=now + 120)
        member = await bot.get_chat_member(demo.group.id, demo.carol.id)
        assert (member.status, member.can_send_messages, member.is_member) == (
            ChatMemberStatus.RESTRICTED, False, True)
        assert int(member.until_date.timestamp()) == now + 120
        for forever in (now + 10, now + 367 * 86400, 0):  # < 30 s, > 366 days, none: restricted forever
            await bot.restrict_chat_member(demo.group.id, demo.dave.id, muted, until_date=forever)
            assert demo.world.member(demo.group, demo.dave.id).until_date == 0
        # Legacy implications unless use_independent_chat_permissions.
        polls = telegram.ChatPermissions(can_send_polls=True)
        await bot.restrict_chat_member(demo.group.id, demo.dave.id, polls)
        assert demo.world.member(demo.group, demo.dave.id).permissions["can_send_messages"] is True
        await bot.restrict_chat_member(demo.group.id, demo.dave.id, polls, use_independent_chat_permissions=True)
        assert demo.world.member(demo.group, demo.dave.id).permissions["can_send_messages"] is False
    demo.world.advance_time(121)
    assert demo.world.member(demo.group, demo.carol.id).status == "member"  # the 2 minutes are over


async def test_a_restricted_member_cannot_write_and_the_refusal_says_so(demo):
    async with demo.bot() as bot:
        await bot.restrict_chat_member(demo.group.id, demo.carol.id, telegram.ChatPermissions.no_permissions())
    with pytest.raises(SandboxError) as refused:
        demo.world.send_message(demo.group, "carol", "let me out")
    assert refused.value.status == 403 and refused.value.message.startswith("CHAT_SEND_PLAIN_FORBIDDEN")
    with SandboxClient(demo.url) as client, pytest.raises(SandboxError) as over_http:
        client.send_message(demo.group.id, "carol", "let me out")
    assert over_http.value.status == 403


async def test_a_restriction_outlives_leaving_and_coming_back(demo):
    async with demo.bot() as bot:
        await bot.restrict_chat_member(demo.group.id, demo.carol.id, telegram.ChatPermissions.no_permissions())
        demo.world.remove_member(demo.group, "carol")
        left = await bot.get_chat_member(demo.group.id, demo.carol.id)
        assert (left.status, left.is_member) == (ChatMemberStatus.RESTRICTED, False)
        demo.world.add_member(demo.group, "carol")
        back = await bot.get_chat_member(demo.group.id, demo.carol.id)
        assert (back.status, back.is_member, back.can_send_messages) == (ChatMemberStatus.RESTRICTED, True, False)
        assert await bot.get_chat_member_count(demo.group.id) == 6  # alice, bob, carol, dave, spammer, the bot


# --- joins, service messages, member counts --------------------------------------------------------------


async def test_a_join_brings_chat_member_and_the_service_message_which_the_bot_may_delete(demo):
    demo.world.set_webhook("", allowed_updates=ALLOWED)
    eve = demo.world.create_user("Eve", username="eve")
    async with demo.bot() as bot:
        before = await bot.get_chat_member_count(demo.group.id)
        demo.world.add_member(demo.group, eve)
        updates = await bot.get_updates(allowed_updates=ALLOWED)
        joined = next(u.chat_member for u in updates if u.chat_member)
        assert (joined.old_chat_member.status, joined.new_chat_member.status, joined.new_chat_member.user.id) == (
            "left", "member", eve.id)
        notice = next(u.message for u in updates if u.message and u.message.new_chat_members)
        assert [user.id for user in notice.new_chat_members] == [eve.id]
        assert await bot.get_chat_member_count(demo.group.id) == before + 1
        assert await bot.delete_message(demo.group.id, notice.message_id)  # admin with can_delete_messages
        demo.world.remove_member(demo.group, eve)
        updates = await bot.get_updates(offset=updates[-1].update_id + 1, allowed_updates=ALLOWED)
        goodbye = next(u.message for u in updates if u.message and u.message.left_chat_member)
        assert await bot.delete_message(demo.group.id, goodbye.message_id)
        assert await bot.get_chat_member_count(demo.group.id) == before


async def test_a_bot_without_can_delete_messages_cannot_delete_a_join_notice(demo):
    demo.world.promote(demo.group, "sandbox_mod_bot", rights={"can_restrict_members": True})
    eve = demo.world.create_user("Eve")
    demo.world.add_member(demo.group, eve)
    notice = demo.world.messages(demo.group)[-1]
    assert notice.service == {"new_chat_members": [eve.id]}
    async with demo.bot() as bot:
        with telegram_error(BadRequest, "Message can't be deleted"):
            await bot.delete_message(demo.group.id, notice.message_id)


# --- join floods --------------------------------------------------------------------------------------------


def test_a_join_flood_spreads_fresh_users_over_the_time_given(demo):
    demo.world.set_webhook("", allowed_updates=ALLOWED)
    demo.world.bot().updates.clear()
    with SandboxClient(demo.url) as client:
        started = time.monotonic()
        joined = client.join_flood(demo.group.id, 20, 1.0, prefix="raider")
        took = time.monotonic() - started
    assert 0.9 <= took < 5
    assert len({entry["user"]["id"] for entry in joined}) == 20
    assert joined[0]["user"]["username"] == "raider_1" and joined[-1]["user"]["username"] == "raider_20"
    times = [entry["joined_at"] for entry in joined]
    assert times == sorted(times) and 0.85 <= times[-1] - times[0] <= 3
    assert kinds(demo.world).count("chat_member") == 20 and kinds(demo.world).count("message") == 20
    for entry in joined:
        assert demo.world.member(demo.group, entry["user"]["id"]).status == "member"
    again = demo.world.join_flood(demo.group, 2, prefix="raider")  # a second wave: new people again
    assert [entry["user"]["username"] for entry in again] == ["raider_21", "raider_22"]
    with pytest.raises(SandboxError):
        demo.world.join_flood(demo.group, 0)


# --- channels and forwarding --------------------------------------------------------------------------------


async def test_a_message_forwarded_from_a_channel_names_the_channel(demo):
    demo.world.set_webhook("", allowed_updates=ALLOWED)
    with SandboxClient(demo.url) as client:
        channel = client.create_chat("Mod Log", "alice", type="channel")
        client.add_member(channel["id"], "sandbox_mod_bot", by="alice", status="administrator",
                          rights={"can_post_messages": True})
        post = client.send_message(channel["id"], "alice", "log channel here")
        assert post["sender_chat"]["id"] == channel["id"] and "from" not in post
        forwarded = client.forward_message(demo.group.id, "alice", channel["id"], post["message_id"])
    assert forwarded["forward_origin"] == {"type": "channel", "date": post["date"],
                                           "chat": {"id": channel["id"], "title": "Mod Log", "type": "channel"},
                                           "message_id": post["message_id"]}
    async with demo.bot() as bot:
        updates = await bot.get_updates(allowed_updates=ALLOWED)
        message = next(u.message for u in updates if u.message and u.message.forward_origin)
        assert message.forward_origin.type == "channel"
        assert (message.forward_origin.chat.id, message.forward_origin.message_id) == (channel["id"],
                                                                                       post["message_id"])
        assert any(u.channel_post and u.channel_post.text == "log channel here" for u in updates)
        logged = await bot.send_message(channel["id"], "<b>Ban</b> of @spammer")
        assert logged.sender_chat.id == channel["id"] and logged.from_user is None
        member = await bot.get_chat_member(channel["id"], demo.bot_id)
        assert (member.status, member.can_post_messages) == (ChatMemberStatus.ADMINISTRATOR, True)
        demo.world.promote(channel["id"], "sandbox_mod_bot", rights={"can_edit_messages": True})
        with telegram_error(BadRequest, "Need administrator rights in the channel chat"):
            await bot.send_message(channel["id"], "no longer")


async def test_a_bot_not_in_a_channel_cannot_post_there(demo):
    channel = demo.world.create_chat("Elsewhere", "alice", type="channel", username="elsewhere")
    async with demo.bot() as bot:
        with telegram_error(telegram.error.Forbidden, "Forbidden: bot is not a member of the channel chat"):
            await bot.send_message(channel.id, "hi")
    demo.world.add_member(channel, "carol")  # a subscriber reads, only admins post
    assert demo.world.messages(channel)[-1].service == {"channel_chat_created": True}  # no join notice
    with pytest.raises(SandboxError, match="CHAT_ADMIN_REQUIRED"):
        demo.world.send_message(channel, "carol", "x")
    assert demo.world.send_message(channel, "alice", "news").sender_chat_id == channel.id


async def test_member_actions_may_be_rate_limited_like_a_mass_ban_on_telegram(demo):
    demo.world.set_rate_limits(actions_per_second=2)
    raiders = demo.world.join_flood(demo.group, 3, prefix="raider")
    async with demo.bot() as bot:
        assert await bot.ban_chat_member(demo.group.id, raiders[0]["user"]["id"])
        assert await bot.restrict_chat_member(demo.group.id, raiders[1]["user"]["id"],
                                              telegram.ChatPermissions.no_permissions())
        with pytest.raises(telegram.error.RetryAfter):
            await bot.ban_chat_member(demo.group.id, raiders[2]["user"]["id"])
        assert demo.world.member(demo.group, raiders[2]["user"]["id"]).status == "member"  # refused: not done
        demo.world.advance_time(1.1)
        assert await bot.ban_chat_member(demo.group.id, raiders[2]["user"]["id"])
        demo.world.set_rate_limits(actions_per_second=0)  # the default: not limited
        for raider in raiders:
            assert await bot.unban_chat_member(demo.group.id, raider["user"]["id"])
