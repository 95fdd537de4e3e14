"""Webhook delivery (secret header, order, retries, replies in the response) and the knobs tests use
to make Telegram misbehave on purpose: flood limits (429 retry_after) and injected faults."""

import socket
import time

import pytest
import telegram
from telegram.error import BadRequest, ChatMigrated, Forbidden, RetryAfter

from tests.tgsandbox.conftest import retry_seconds, telegram_error

# PTB warns about RetryAfter.retry_after becoming a timedelta when it builds the exception.
pytestmark = [pytest.mark.anyio, pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")]


def wait_until(predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        time.sleep(0.02)


async def test_updates_are_posted_with_the_secret_header(demo, receiver, http):
    async with demo.bot() as bot:
        assert await bot.set_webhook(receiver.url, secret_token="dev-webhook-secret",
                                     allowed_updates=["message", "chat_member"]) is True
        demo.world.send_message(demo.group, demo.carol, "hello webhook")
        demo.world.promote(demo.group, demo.dave, rights={"can_pin_messages": True})
        requests = receiver.wait_for(2)
        wait_until(lambda: not demo.world.bot().updates)
        info = await bot.get_webhook_info()
    assert [r["headers"]["X-Telegram-Bot-Api-Secret-Token"] for r in requests] == ["dev-webhook-secret"] * 2
    assert requests[0]["headers"]["Content-Type"] == "application/json"
    first, second = (telegram.Update.de_json(r["body"], None) for r in requests)
    assert first.message.text == "hello webhook"
    assert isinstance(second.chat_member.new_chat_member, telegram.ChatMemberAdministrator)
    assert second.update_id == first.update_id + 1
    assert (info.url, info.pending_update_count, info.allowed_updates) == (receiver.url, 0,
                                                                           ("message", "chat_member"))
    again = http.post(f"{demo.url}/bot{demo.token}/setWebhook", data={"url": receiver.url,
                                                                     "secret_token": "dev-webhook-secret"})
    assert again.json() == {"ok": True, "result": True, "description": "Webhook is already set"}
    deleted = http.post(f"{demo.url}/bot{demo.token}/deleteWebhook")
    assert deleted.json() == {"ok": True, "result": True, "description": "Webhook was deleted"}


async def test_failed_deliveries_are_retried_in_order(demo, receiver):
    receiver.answers = [(500, None), (502, None)]
    async with demo.bot() as bot:
        await bot.set_webhook(receiver.url)
        demo.world.send_message(demo.group, demo.carol, "first")
        demo.world.send_message(demo.group, demo.carol, "second")
        requests = receiver.wait_for(4)
        info = await bot.get_webhook_info()
    texts = [(r["body"]["message"]["text"], r["status"]) for r in requests]
    assert texts == [("first", 500), ("first", 502), ("first", 200), ("second", 200)]
    assert info.last_error_message == "Wrong response from the webhook: 502 Bad Gateway"
    assert info.last_error_date is not None


async def test_unreachable_webhook_keeps_updates_pending(demo):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    async with demo.bot() as bot:
        await bot.set_webhook(f"http://127.0.0.1:{closed_port}/hook")
        demo.world.send_message(demo.group, demo.carol, "anyone?")
        wait_until(lambda: demo.world.bot().webhook_last_error_message is not None)
        info = await bot.get_webhook_info()
        assert (info.pending_update_count, info.last_error_message) == (1, "Connection refused")
        await bot.delete_webhook()
        assert [u.message.text for u in await bot.get_updates()] == ["anyone?"]  # kept for polling
        await bot.set_webhook(f"http://127.0.0.1:{closed_port}/hook", drop_pending_updates=True)
        assert (await bot.get_webhook_info()).pending_update_count == 0


async def test_a_method_in_the_webhook_response_is_executed(demo, receiver):
    receiver.answers = [(200, {"method": "sendMessage", "chat_id": demo.group.id, "text": "pong"})]
    async with demo.bot() as bot:
        await bot.set_webhook(receiver.url)
        demo.world.send_message(demo.group, demo.carol, "ping")
        replies = demo.world.wait_messages(demo.group, timeout=5)
    assert [m.text for m in replies][-1] == "pong"
    call = demo.world.call_log(method="sendMessage")[-1]
    assert (call["via"], call["ok"], call["params"]["text"]) == ("webhook_reply", True, "pong")


async def test_group_flood_limit_answers_429_with_retry_after(demo):
    demo.world.set_rate_limits(group_per_minute=3)
    async with demo.bot() as bot:
        for n in range(3):
            await bot.send_message(demo.group.id, f"message {n}")
        with pytest.raises(RetryAfter) as limited:
            await bot.send_message(demo.group.id, "one too many")
        assert 58 <= retry_seconds(limited.value) <= 60
        call = demo.world.call_log()[-1]
        assert (call["error_code"], call["parameters"]) == (429, {"retry_after": retry_seconds(limited.value)})
        await bot.send_message(demo.basic.id, "other chats are fine")
        demo.world.advance_time(61)
        await bot.send_message(demo.group.id, "after the pause")


async def test_global_flood_limit_and_switching_limits_off(demo):
    demo.world.set_rate_limits(global_per_second=2)
    async with demo.bot() as bot:
        await bot.send_message(demo.group.id, "a")
        await bot.send_message(demo.basic.id, "b")
        with pytest.raises(RetryAfter) as limited:
            await bot.send_message(demo.group.id, "c")
        assert retry_seconds(limited.value) == 1
        demo.world.set_rate_limits(enabled=False)
        for n in range(25):
            await bot.send_message(demo.group.id, str(n))


async def test_telegrams_default_limit_is_20_per_minute_in_a_group(demo):
    async with demo.bot() as bot:
        for n in range(20):
            await bot.send_message(demo.group.id, str(n))
        with pytest.raises(RetryAfter):
            await bot.send_message(demo.group.id, "21st")


async def test_injected_faults(demo):
    world = demo.world
    world.fail_next("banChatMember", retry_after=7)
    world.fail_next("sendMessage", error_code=403, description="Forbidden: bot was kicked from the supergroup chat",
                    chat=demo.group.id)
    world.fail_next("getChat", migrate_to_chat_id=-1009876543210)
    world.fail_next("deleteMessage", description="Bad Request: message to delete not found", times=2)
    async with demo.bot() as bot:
        with pytest.raises(RetryAfter) as limited:
            await bot.ban_chat_member(demo.group.id, demo.spammer.id)
        assert retry_seconds(limited.value) == 7
        assert await bot.ban_chat_member(demo.group.id, demo.spammer.id) is True
        await bot.send_message(demo.basic.id, "another chat is not affected")
        with telegram_error(Forbidden, "Forbidden: bot was kicked from the supergroup chat"):
            await bot.send_message(demo.group.id, "hello")
        await bot.send_message(demo.group.id, "only once")
        with pytest.raises(ChatMigrated):
            await bot.get_chat(demo.group.id)
        mine = await bot.send_message(demo.group.id, "delete me")
        for _ in range(2):
            with telegram_error(BadRequest, "Message to delete not found"):
                await bot.delete_message(demo.group.id, mine.message_id)
        assert await bot.delete_message(demo.group.id, mine.message_id) is True
    assert world.faults == []
