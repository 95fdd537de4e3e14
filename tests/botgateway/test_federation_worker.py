"""The ban lists' propagation worker (federations/worker.py) against the real core (a live server, the bot's key and
scope) and the Telegram sandbox: a ban on a list reaches every subscribed group (banChatMember, its moderation record
executed), an unban lifts it without removing a member who is in the group (only_if_banned), an exempt member's group
is told instead, Telegram's refusal is on the record, 429s are waited out and the same item tried again, calls are
paced at the configured rate, what a killed bot had claimed is done by the next one after its lease, kick() claims at
once, Telegram calls go at the rate's pace while core's reports are slow (not one after the other), the next batch
is claimed while one runs, and stop() lets the calls in flight finish and gives what was not started back to core
at once (the next bot takes it without waiting out the lease)."""

import asyncio
import time
from datetime import timedelta
from types import SimpleNamespace

import pytest
import telegram
from django.utils import timezone

from apps.banlists.bans import ban_list_ban, ban_list_unban
from apps.banlists.models import Propagation
from apps.banlists.services import ban_list_create, ban_list_subscribe
from apps.botgateway.context import BotData
from apps.botgateway.federations.worker import Pacer, PropagationWorker, kick, notify_text
from apps.botgateway.telegram_request import AiohttpRequest
from apps.coreclient import AsyncCoreClient
from apps.moderation.models import ModerationAction
from tests.factories import make_group, make_user
from tgsandbox.seed import DEFAULT_BOT_TOKEN

from .content_harness import PEOPLE, core_group, sandbox_fixtures

pytestmark = pytest.mark.django_db(transaction=True)

sandbox, world = sandbox_fixtures()


class Worker:
    """A PropagationWorker on a bot of the sandbox and a core client with the bot's key, as post_init makes it."""

    def __init__(self, sandbox, live_server, **options):
        self.sandbox, self.live_server, self.options = sandbox, live_server, options

    async def __aenter__(self) -> PropagationWorker:
        self.bot = telegram.Bot(DEFAULT_BOT_TOKEN, base_url=f"{self.sandbox.url}/bot",
                                request=AiohttpRequest(connect_timeout=5, read_timeout=10))  # the bot's own
        await self.bot.initialize()
        data = BotData()
        data.core = AsyncCoreClient(self.live_server.url, "bot-key", timeout=10)
        self.application = SimpleNamespace(bot=self.bot, bot_data=data)
        data.banlist_worker = self.worker = PropagationWorker(self.application, **self.options)
        return self.worker

    async def __aexit__(self, *exc):
        await self.worker.stop()
        await self.bot.shutdown()
        await self.application.bot_data.core.aclose()


def run(scenario):
    return asyncio.run(scenario())


def federation(world, name="Spam Watch", **protection):
    """The sandbox's group in core, subscribed to a new list."""
    chat, group = core_group(world, **protection)
    owner = make_user(username="fedowner", telegram_user_id=3000001, display_name="Fed Owner")
    ban_list = ban_list_create(name=name, actor=owner)
    ban_list_subscribe(ban_list=ban_list, group=group, actor=None)
    return chat, group, ban_list


def propagations(**filters):
    return list(Propagation.objects.filter(**filters).order_by("created_at", "pk"))


def member_status(world, chat, telegram_user_id):
    return world.member(world.chat(chat.id), telegram_user_id).status


def test_a_ban_reaches_the_group_and_its_record_is_executed(world, sandbox, live_server):
    chat, group, ban_list = federation(world)
    ban_list_ban(ban_list=ban_list, telegram_user_id=PEOPLE["spammer"], reason="crypto spam")
    stranger = world.create_user("Stranger", username="stranger_spam").id  # not in the group: banned all the same
    ban_list_ban(ban_list=ban_list, telegram_user_id=stranger, reason="known spammer")

    async def scenario():
        async with Worker(sandbox, live_server) as worker:
            assert await worker.run_once() == 2
            assert await worker.run_once() == 0

    run(scenario)
    assert member_status(world, chat, PEOPLE["spammer"]) == "kicked"
    assert member_status(world, chat, stranger) == "kicked"
    rows = propagations(group=group)
    assert [(row.action, row.status, row.error) for row in rows] == [("ban", "done", "")] * 2
    record = ModerationAction.objects.get(pk=rows[0].moderation_action_id)
    assert (record.type, record.status, record.rule) == ("ban", "executed", "banlist")
    bans = world.call_log(method="banChatMember")
    assert [(int(call["params"]["chat_id"]), int(call["params"]["user_id"])) for call in bans] == [
        (chat.id, PEOPLE["spammer"]), (chat.id, stranger)]


def test_an_unban_lifts_the_ban_and_leaves_a_present_member_in(world, sandbox, live_server):
    chat, group, ban_list = federation(world)
    ban_list_ban(ban_list=ban_list, telegram_user_id=PEOPLE["spammer"], reason="spam")
    ban_list_ban(ban_list=ban_list, telegram_user_id=PEOPLE["carol"], reason="mistake")

    async def scenario():
        async with Worker(sandbox, live_server) as worker:
            await worker.run_once()
            world.add_member(world.chat(chat.id), PEOPLE["carol"], by="alice", status="member")  # let back by hand
            for login in ("spammer", "carol"):
                await asyncio.to_thread(ban_list_unban, ban_list=ban_list, telegram_user_id=PEOPLE[login])
            assert await worker.run_once() == 2

    run(scenario)
    assert member_status(world, chat, PEOPLE["spammer"]) == "left"  # may join again
    assert member_status(world, chat, PEOPLE["carol"]) == "member"  # in the group: left in it
    unbans = world.call_log(method="unbanChatMember")
    assert all(call["params"].get("only_if_banned") in (True, "true", "True") for call in unbans) and unbans
    assert [row.status for row in propagations(group=group, action="unban")] == ["done", "done"]


def test_an_exempt_members_group_is_told_and_nobody_is_banned(world, sandbox, live_server):
    chat, group, ban_list = federation(world)
    ban_list_ban(ban_list=ban_list, telegram_user_id=PEOPLE["bob_mod"], reason="banned elsewhere")
    [row] = propagations(group=group)
    if row.action != "notify":
        pytest.skip("core owes a ban here: bob_mod does not bypass protection in this build")

    async def scenario():
        async with Worker(sandbox, live_server) as worker:
            assert await worker.run_once() == 1

    run(scenario)
    assert member_status(world, chat, PEOPLE["bob_mod"]) == "administrator"
    texts = [m.text for m in world.chat(chat.id).messages.values() if m.from_id == world.bot().id]
    assert texts == [f"Moderators: {PEOPLE['bob_mod']} was banned in the federation Spam Watch (reason: banned "
                     "elsewhere), but is exempt here (approved or an admin), so I have not banned them."]  # as shown
    row.refresh_from_db()
    assert row.status == "done"


def test_telegrams_refusal_is_on_the_propagation_and_its_record(world, sandbox, live_server):
    basic = world.chat("Basic Group")  # the bot is a plain member there: no right to ban
    group = make_group(telegram_chat_id=basic.id, title=basic.title)
    owner = make_user(username="fedowner", telegram_user_id=3000001, display_name="Fed Owner")
    ban_list = ban_list_create(name="Refused", actor=owner)
    ban_list_subscribe(ban_list=ban_list, group=group, actor=None)
    ban_list_ban(ban_list=ban_list, telegram_user_id=PEOPLE["carol"], reason="spam")

    async def scenario():
        async with Worker(sandbox, live_server) as worker:
            assert await worker.run_once() == 1

    run(scenario)
    [row] = propagations(group=group)
    assert (row.status, row.error) == ("failed", "Need to be inviter of a user to kick it from a basic group")
    record = ModerationAction.objects.get(pk=row.moderation_action_id)
    assert record.status == "failed" and record.error == row.error
    assert member_status(world, basic, PEOPLE["carol"]) == "member"


def test_a_429_is_waited_out_and_the_same_item_tried_again(world, sandbox, live_server):
    chat, group, ban_list = federation(world)
    ban_list_ban(ban_list=ban_list, telegram_user_id=PEOPLE["spammer"], reason="spam")
    world.fail_next("banChatMember", retry_after=1)

    async def scenario():
        async with Worker(sandbox, live_server) as worker:
            started = time.monotonic()
            assert await worker.run_once() == 1
            return worker.retry_afters, time.monotonic() - started

    retries, took = run(scenario)
    assert retries == 1 and took >= 1.0
    assert member_status(world, chat, PEOPLE["spammer"]) == "kicked"
    assert [row.status for row in propagations(group=group)] == ["done"]
    assert len(world.call_log(method="banChatMember")) == 2  # the 429, then the ban


def test_calls_are_paced_at_the_configured_rate_within_telegrams_limits(world, sandbox, live_server):
    world.set_rate_limits(enabled=True, actions_per_second=30)
    chat, _group, ban_list = federation(world)
    banned = [world.create_user(f"Raider {number}", username=f"raider{number}").id for number in range(21)]
    for telegram_user_id in banned:
        ban_list_ban(ban_list=ban_list, telegram_user_id=telegram_user_id, reason="raid")

    async def scenario():
        async with Worker(sandbox, live_server, rate=20) as worker:
            started = time.monotonic()
            assert await worker.run_once() == 21
            return worker.retry_afters, time.monotonic() - started

    retries, took = run(scenario)
    assert retries == 0  # never over Telegram's limit
    assert took >= 1.0  # 21 calls at 20 a second: 20 intervals of 50 ms at least
    calls = world.call_log(method="banChatMember")
    dates = [call["date"] for call in calls]
    assert len(dates) == 21 and dates[-1] - dates[0] >= 0.95
    assert all(member_status(world, chat, uid) == "kicked" for uid in banned)


def test_what_a_killed_bot_had_claimed_is_done_by_the_next_after_its_lease(world, sandbox, live_server):
    chat, group, ban_list = federation(world)
    for login in ("spammer", "dave"):
        ban_list_ban(ban_list=ban_list, telegram_user_id=PEOPLE[login], reason="spam")

    async def scenario():
        core = AsyncCoreClient(live_server.url, "bot-key", timeout=10)
        try:
            claimed = (await core.ban_propagations_claim(limit=50, lease_seconds=600))["results"]  # then it died
            assert len(claimed) == 2
        finally:
            await core.aclose()
        async with Worker(sandbox, live_server) as worker:
            assert await worker.run_once() == 0  # leased to the dead bot
            await asyncio.to_thread(Propagation.objects.update, claimed_until=timezone.now() - timedelta(seconds=1))
            assert await worker.run_once() == 2  # its lease over: claimed and done

    run(scenario)
    assert [row.status for row in propagations(group=group)] == ["done", "done"]
    assert all(row.claims == 2 for row in propagations(group=group))
    assert member_status(world, chat, PEOPLE["spammer"]) == member_status(world, chat, PEOPLE["dave"]) == "kicked"


def test_kick_claims_at_once_and_stop_gives_back_what_was_not_started(world, sandbox, live_server):
    chat, group, ban_list = federation(world)

    async def scenario():
        async with Worker(sandbox, live_server, poll_seconds=3600, lease_seconds=600) as worker:
            worker.start()
            await asyncio.sleep(0.3)  # its first (empty) round is over: it sleeps for an hour
            await asyncio.to_thread(ban_list_ban, ban_list=ban_list, telegram_user_id=PEOPLE["spammer"], reason="x")
            kick(worker.application)
            async with asyncio.timeout(10):
                while member_status(world, chat, PEOPLE["spammer"]) != "kicked":
                    await asyncio.sleep(0.02)
            # Now a ban that meets a 429 (retry_after 30 s): stopped while it waits for its next turn, the worker
            # gives it back to core at once instead of holding it for its ten-minute lease.
            world.fail_next("banChatMember", retry_after=30)
            await asyncio.to_thread(ban_list_ban, ban_list=ban_list, telegram_user_id=PEOPLE["dave"], reason="x")
            kick(worker.application)
            async with asyncio.timeout(10):
                while worker.retry_afters < 1:
                    await asyncio.sleep(0.01)
            started = time.monotonic()
            await worker.stop()
            assert worker._task is None and time.monotonic() - started < 5
            assert worker.released == 1
        [dave] = await asyncio.to_thread(propagations, group=group, telegram_user_id=PEOPLE["dave"])
        assert (dave.status, dave.claimed_until, dave.claims) == ("pending", None, 1)
        async with Worker(sandbox, live_server) as restarted:  # the next bot: no lease to wait out
            assert await restarted.run_once() == 1

    run(scenario)
    assert [row.status for row in propagations(group=group)] == ["done", "done"]
    assert member_status(world, chat, PEOPLE["dave"]) == "kicked"
    assert len(world.call_log(method="banChatMember")) == 3  # spammer, dave's 429, dave


def test_a_stop_gives_back_the_batch_claimed_and_not_started(world, sandbox, live_server):
    chat, group, ban_list = federation(world)
    banned = [world.create_user(f"Raider {number}", username=f"raider{number}").id for number in range(30)]
    for telegram_user_id in banned:
        ban_list_ban(ban_list=ban_list, telegram_user_id=telegram_user_id, reason="raid")

    async def scenario():
        async with Worker(sandbox, live_server, rate=10, batch=10, lease_seconds=600, poll_seconds=3600) as worker:
            worker.start()
            async with asyncio.timeout(10):
                while len(await asyncio.to_thread(world.call_log, method="banChatMember")) < 3:
                    await asyncio.sleep(0.02)
            await worker.stop()
            released = worker.released
        rows = await asyncio.to_thread(propagations, group=group)
        done = [row for row in rows if row.status == "done"]
        waiting = [row for row in rows if row.status == "pending"]
        assert len(done) + len(waiting) == 30 and len(done) >= 3
        # The batch running and the one claimed ahead: what was not started is claimable at once.
        assert released >= 10 and sum(row.claimed_until is None and row.claims == 1 for row in waiting) == released
        async with Worker(sandbox, live_server, rate=50) as restarted:
            while await restarted.run_once():
                pass
        return len(done)

    run(scenario)
    assert all(row.status == "done" for row in propagations(group=group))
    assert all(member_status(world, chat, uid) == "kicked" for uid in banned)
    assert len(world.call_log(method="banChatMember")) == 30  # none done twice


def test_calls_keep_the_rates_pace_while_cores_reports_are_slow(world, sandbox, live_server):
    chat, group, ban_list = federation(world)
    banned = [world.create_user(f"Raider {number}", username=f"raider{number}").id for number in range(12)]
    for telegram_user_id in banned:
        ban_list_ban(ban_list=ban_list, telegram_user_id=telegram_user_id, reason="raid")
    events = []

    async def scenario():
        async with Worker(sandbox, live_server, rate=20, batch=6, poll_seconds=3600) as worker:
            core = worker.application.bot_data.core
            report, claim = core.ban_propagation_complete, core.ban_propagations_claim
            ban_chat_member = worker.application.bot.ban_chat_member

            async def slow_report(*args, **kwargs):  # core's writes queued behind other work
                events.append("report")
                await asyncio.sleep(0.4)
                events.append("reported")
                return await report(*args, **kwargs)

            async def claiming(**kwargs):
                events.append("claim")
                return await claim(**kwargs)

            async def banning(*args, **kwargs):
                events.append("ban")
                return await ban_chat_member(*args, **kwargs)

            core.ban_propagation_complete, core.ban_propagations_claim = slow_report, claiming
            worker.application = SimpleNamespace(bot=SimpleNamespace(ban_chat_member=banning),
                                                 bot_data=worker.application.bot_data)
            worker.start()
            async with asyncio.timeout(30):
                while await asyncio.to_thread(Propagation.objects.filter(status="done").count) < 12:
                    await asyncio.sleep(0.05)

    run(scenario)
    assert events.count("ban") == 12
    # Reports do not hold up the calls: one after the other, each ban would wait for the previous ban's report (0.4 s).
    # Here the bans go out at the rate's pace (50 ms apart) while the first reports are still on their way.
    first_report_answered = events.index("reported")
    assert events[:first_report_answered].count("ban") >= 3, events
    assert events.index("claim", 1) < [i for i, e in enumerate(events) if e == "ban"][5]  # claimed ahead
    assert all(member_status(world, chat, uid) == "kicked" for uid in banned)
    assert [row.status for row in propagations(group=group)] == ["done"] * 12


def test_the_pacer_spreads_calls_and_holds_after_a_429():
    now = [0.0]
    slept = []

    async def sleep(seconds):
        slept.append(seconds)
        now[0] += seconds

    async def scenario():
        pacer = Pacer(10, clock=lambda: now[0], sleep=sleep)
        for _ in range(3):
            await pacer.wait()
        pacer.hold(2.0)
        await pacer.wait()

    asyncio.run(scenario())
    assert [round(value, 3) for value in slept] == [0.1, 0.1, 2.0]


def test_a_hold_also_stops_a_call_already_waiting_its_turn():
    now = [0.0]
    slept = []

    async def sleep(seconds):
        slept.append(seconds)
        await asyncio.sleep(0)
        now[0] += seconds

    async def scenario():
        pacer = Pacer(10, clock=lambda: now[0], sleep=sleep)
        await pacer.wait()  # at 0
        waiting = asyncio.create_task(pacer.wait())  # its turn at 0.1: it sleeps
        await asyncio.sleep(0)
        pacer.hold(2.0)  # a 429 meanwhile
        await waiting
        return now[0]

    assert asyncio.run(scenario()) == 2.0
    assert [round(value, 3) for value in slept] == [0.1, 1.9]


def test_the_notice_names_the_member_the_list_and_the_reason_html_safe():
    text = notify_text({"telegram_user_id": 42, "ban_list_name": "<Spam & co>", "reason": "a<b"})
    assert text == ('Moderators: <a href="tg://user?id=42">42</a> was banned in the federation <b>&lt;Spam &amp; '
                    'co&gt;</b> (reason: a&lt;b), but is exempt here (approved or an admin), so I have not banned '
                    "them.")
