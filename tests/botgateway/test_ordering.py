"""Per-chat order: one chat's updates are handled one after another in arrival order; other chats meanwhile."""

import asyncio

from telegram import Chat, Message, Update

from apps.botgateway.ordering import PerChatUpdateProcessor
from apps.botgateway.ratelimit import UNPACED_READS, SendRateLimiter


def message_update(update_id: int, chat_id: int) -> Update:
    chat = Chat(chat_id, Chat.SUPERGROUP)
    return Update(update_id, message=Message(update_id, date=None, chat=chat, text="hi"))


async def _run(updates, durations, processor=None):
    processor = processor or PerChatUpdateProcessor()
    log: list[tuple[str, int, int]] = []

    async def handle(update):
        chat = update.effective_chat.id
        log.append(("start", chat, update.update_id))
        await asyncio.sleep(durations.get(update.update_id, 0.01))
        log.append(("end", chat, update.update_id))

    # As python-telegram-bot does with concurrent updates: one task per update, created in queue order.
    tasks = [asyncio.create_task(processor.process_update(update, handle(update))) for update in updates]
    await asyncio.gather(*tasks)
    return processor, log


def test_one_chats_updates_run_in_turn_and_in_order_while_other_chats_go_on():
    updates = [message_update(1, -100), message_update(2, -100), message_update(3, -200), message_update(4, -100)]
    processor, log = asyncio.run(_run(updates, {1: 0.15, 3: 0.01}))
    chat_a = [(kind, update_id) for kind, chat, update_id in log if chat == -100]
    assert chat_a == [("start", 1), ("end", 1), ("start", 2), ("end", 2), ("start", 4), ("end", 4)]
    # The other chat neither waited for the slow update nor was waited for.
    assert log.index(("end", -200, 3)) < log.index(("end", -100, 1))
    assert processor.chats_in_progress == 0  # no per-chat state left behind


def test_a_migrated_groups_new_chat_waits_for_the_old_chats_updates():
    old_chat, new_chat = Chat(-5, Chat.GROUP), Chat(-1005, Chat.SUPERGROUP)
    migrate_to = Update(1, message=Message(1, date=None, chat=old_chat, migrate_to_chat_id=new_chat.id))
    migrate_from = Update(2, message=Message(1, date=None, chat=new_chat, migrate_from_chat_id=old_chat.id))
    processor, log = asyncio.run(_run([migrate_to, migrate_from, message_update(3, -1005)], {1: 0.15}))
    assert [entry[2] for entry in log] == [1, 1, 2, 2, 3, 3]  # the old chat's update ends before the new chat's
    assert processor.chats_in_progress == 0 and processor._migrated == {}
    # Once the old chat is done, the new chat has a turn of its own again.
    processor, log = asyncio.run(_run([message_update(4, -1005), message_update(5, -5)], {4: 0.15}, processor))
    assert log.index(("end", -5, 5)) < log.index(("end", -1005, 4))


def test_a_failing_update_releases_its_chat():
    processor = PerChatUpdateProcessor()

    async def fail():
        raise RuntimeError("handler failed")

    async def ok():
        return None

    async def scenario():
        first = asyncio.create_task(processor.process_update(message_update(1, -1), fail()))
        second = asyncio.create_task(processor.process_update(message_update(2, -1), ok()))
        results = await asyncio.gather(first, second, return_exceptions=True)
        return results

    results = asyncio.run(scenario())
    assert isinstance(results[0], RuntimeError) and results[1] is None
    assert processor.chats_in_progress == 0


def test_reads_bypass_the_send_limiter_and_sends_are_paced():
    limiter = SendRateLimiter(overall_max_rate=1, overall_time_period=60, max_retries=0)
    calls: list[str] = []

    async def request(name):
        calls.append(name)
        return True

    async def scenario():
        await limiter.initialize()
        await limiter.process_request(request, ("sendMessage",), {}, "sendMessage", {"chat_id": -1}, None)
        # The one send a minute is spent: another send waits, a read does not.
        blocked = asyncio.create_task(
            limiter.process_request(request, ("sendMessage",), {}, "sendMessage", {"chat_id": -1}, None))
        await asyncio.wait_for(
            limiter.process_request(request, ("getChatMember",), {}, "getChatMember", {"chat_id": -1}, None), 1)
        await asyncio.sleep(0.2)
        still_waiting = not blocked.done()
        blocked.cancel()
        return still_waiting

    assert asyncio.run(scenario()) is True
    assert calls == ["sendMessage", "getChatMember"]
    assert "getChatMember" in UNPACED_READS and "sendMessage" not in UNPACED_READS


def test_work_on_a_chat_without_an_update_takes_the_chats_turn():
    processor = PerChatUpdateProcessor()
    log = []

    async def step(name, seconds):
        log.append(("start", name))
        await asyncio.sleep(seconds)
        log.append(("end", name))
        return name

    async def scenario():
        # Update 1 runs long enough that the other chat's short step ends first even on a loaded machine.
        first = asyncio.create_task(processor.process_update(message_update(1, -7), step("update 1", 0.5)))
        await asyncio.sleep(0.01)
        resync = asyncio.create_task(processor.in_chat_turn(-7, step("resync", 0.01)))
        await asyncio.sleep(0.01)
        later = asyncio.create_task(processor.process_update(message_update(2, -7), step("update 2", 0.01)))
        other = asyncio.create_task(processor.in_chat_turn(-8, step("other chat", 0.01)))
        return await asyncio.gather(first, resync, later, other)

    results = asyncio.run(scenario())
    assert results[1] == "resync"
    chat = [entry for entry in log if entry[1] != "other chat"]
    assert chat == [("start", "update 1"), ("end", "update 1"), ("start", "resync"), ("end", "resync"),
                    ("start", "update 2"), ("end", "update 2")]
    assert log.index(("end", "other chat")) < log.index(("end", "update 1"))
    assert processor.chats_in_progress == 0


def test_the_arrival_hook_sees_each_update_before_it_waits_for_its_chats_turn():
    processor = PerChatUpdateProcessor()
    seen: list[int] = []

    def on_arrival(update):
        seen.append(update.update_id)
        if update.update_id == 3:
            raise RuntimeError("a sensor's failure")

    processor.on_arrival = on_arrival
    updates = [message_update(n, -100) for n in range(1, 5)]
    arrived_before_handled = []

    async def scenario():
        async def handle(update):
            arrived_before_handled.append((update.update_id, list(seen)))
            await asyncio.sleep(0.05)

        tasks = [asyncio.create_task(processor.process_update(update, handle(update))) for update in updates]
        await asyncio.gather(*tasks)

    asyncio.run(scenario())
    # All four arrived while the first was still being handled; the hook's failure held up nothing.
    assert seen == [1, 2, 3, 4]
    assert [update_id for update_id, _ in arrived_before_handled] == [1, 2, 3, 4]
    assert arrived_before_handled[1][1] == [1, 2, 3, 4]
