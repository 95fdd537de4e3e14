"""The send limiter serves Telegram actions before chat replies that wait for the same budget (per chat and
overall); the denial throttle answers a member's first denials and then ignores them for a while."""

import asyncio

import pytest
from telegram.error import RetryAfter

from apps.botgateway.ratelimit import DenialThrottle, PriorityLimiter, SendRateLimiter


def _recorder():
    calls: list[str] = []

    async def request(name):
        calls.append(name)
        return True

    return calls, request


async def _send(limiter, request, endpoint, chat_id, label=None):
    label = label or endpoint
    return await limiter.process_request(request, (label,), {}, endpoint, {"chat_id": chat_id}, None)


def test_a_ban_goes_ahead_of_the_replies_queued_in_its_chat():
    # One request per 50 ms in a group: a chat whose replies queue up, then a ban for the same chat.
    limiter = SendRateLimiter(overall_max_rate=1000, group_max_rate=1, group_time_period=0.05)
    calls, request = _recorder()

    async def scenario():
        await _send(limiter, request, "sendMessage", -100, "reply 0")
        replies = [asyncio.create_task(_send(limiter, request, "sendMessage", -100, f"reply {n}")) for n in (1, 2, 3)]
        await asyncio.sleep(0)  # the replies are queued first
        ban = asyncio.create_task(_send(limiter, request, "banChatMember", -100, "ban"))
        await asyncio.gather(ban, *replies)

    asyncio.run(scenario())
    assert calls == ["reply 0", "ban", "reply 1", "reply 2", "reply 3"]


@pytest.mark.parametrize("action", ["banChatMember", "restrictChatMember", "deleteMessages", "unbanChatMember"])
def test_actions_go_ahead_of_other_chats_replies_in_the_overall_budget(action):
    limiter = SendRateLimiter(overall_max_rate=1, overall_time_period=0.05, group_max_rate=1000)
    calls, request = _recorder()

    async def scenario():
        await _send(limiter, request, "sendMessage", -1, "busy chat 0")
        busy = [asyncio.create_task(_send(limiter, request, "sendMessage", -1, f"busy chat {n}")) for n in (1, 2)]
        private = asyncio.create_task(_send(limiter, request, "sendMessage", 42, "private reply"))
        await asyncio.sleep(0)
        acted = asyncio.create_task(_send(limiter, request, action, -2, "action elsewhere"))
        await asyncio.gather(acted, private, *busy)

    asyncio.run(scenario())
    assert calls == ["busy chat 0", "action elsewhere", "busy chat 1", "busy chat 2", "private reply"]


def test_the_rate_is_kept_whatever_the_order():
    # Actions and messages share the overall budget (a group's budget is for messages only).
    limiter = SendRateLimiter(overall_max_rate=2, overall_time_period=0.1, group_max_rate=1000)
    calls, request = _recorder()

    async def scenario():
        loop = asyncio.get_running_loop()
        started = loop.time()
        sends = [_send(limiter, request, "sendMessage" if n % 2 else "deleteMessage", -5, str(n)) for n in range(6)]
        await asyncio.gather(*sends)
        return loop.time() - started

    elapsed = asyncio.run(scenario())
    # Two at once, then one every 50 ms: the last of six leaves after about 200 ms.
    assert elapsed >= 0.18
    assert sorted(calls) == [str(n) for n in range(6)]


def test_a_cancelled_waiter_gives_its_place_to_the_next():
    async def scenario():
        limiter = PriorityLimiter(1, 0.05)
        await limiter.acquire()
        order = []

        async def take(name, priority):
            await limiter.acquire(priority)
            order.append(name)

        cancelled = asyncio.create_task(take("cancelled", 0))
        waiting = asyncio.create_task(take("waiting", 1))
        await asyncio.sleep(0)
        cancelled.cancel()
        await asyncio.wait_for(waiting, 1)
        return order

    assert asyncio.run(scenario()) == ["waiting"]


def test_a_flood_limit_answer_is_waited_out_and_retried():
    limiter = SendRateLimiter(max_retries=1)
    attempts = []

    async def request(name):
        attempts.append(name)
        if len(attempts) == 1:
            raise RetryAfter(0)
        return "sent"

    result = asyncio.run(limiter.process_request(request, ("x",), {}, "sendMessage", {"chat_id": -1}, None))
    assert (result, len(attempts)) == ("sent", 2)


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_a_members_denials_are_answered_up_to_the_allowance_then_ignored_for_a_while():
    clock = Clock()
    throttle = DenialThrottle(answered=3, window=60, quiet=120, clock=clock)
    member, other = (-100, 7), (-100, 8)
    assert [throttle.note(member) for _ in range(2)] == [True, True]
    assert not throttle.quiet(member)
    assert throttle.note(member) is True  # the third within the minute is answered, and silence starts
    assert throttle.quiet(member) and not throttle.quiet(other)
    assert throttle.note(member) is False
    assert throttle.note(other) is True  # another member of the same chat is answered
    clock.now += 119
    assert throttle.quiet(member)
    clock.now += 2
    assert not throttle.quiet(member)
    assert throttle.note(member) is True and not throttle.quiet(member)  # a fresh allowance after the quiet time


def test_denials_spread_out_beyond_the_window_are_all_answered():
    clock = Clock()
    throttle = DenialThrottle(answered=3, window=60, quiet=120, clock=clock)
    for _ in range(10):
        assert throttle.note((-1, 1)) is True and not throttle.quiet((-1, 1))
        clock.now += 31  # at most two in any minute


def test_a_full_throttle_forgets_the_least_recent_member_only():
    clock = Clock()
    throttle = DenialThrottle(answered=1, window=60, quiet=120, clock=clock, capacity=2)
    first, second, third = (-1, 1), (-1, 2), (-1, 3)
    for member in (first, second, third):
        throttle.note(member)
        clock.now += 1
    assert [throttle.quiet(member) for member in (first, second, third)] == [False, True, True]


def test_actions_take_the_overall_budget_only_not_the_groups_message_budget():
    # A group's budget of one message per minute: a raid's 50 removals there go at the overall pace, while a second
    # reply in that group still waits for the group's minute.
    limiter = SendRateLimiter(overall_max_rate=1000, group_max_rate=1, group_time_period=60)
    calls, request = _recorder()

    async def scenario():
        await _send(limiter, request, "sendMessage", -100, "notice")
        reply = asyncio.create_task(_send(limiter, request, "sendMessage", -100, "second notice"))
        bans = [_send(limiter, request, "banChatMember", -100, f"ban {n}") for n in range(50)]
        await asyncio.wait_for(asyncio.gather(*bans), timeout=5)
        assert not reply.done()
        reply.cancel()

    asyncio.run(scenario())
    assert calls == ["notice", *(f"ban {n}" for n in range(50))]
