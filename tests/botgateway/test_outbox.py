"""The event shipper: events of chats core does not know yet are registered and shipped, not dropped."""

import asyncio

import pytest

from apps.botgateway.outbox import EventShipper, Outbox
from apps.coreclient import CoreError, CoreUnavailable


class Core:
    """Core's events endpoint as the shipper sees it: refuses a batch naming a chat it has no group for."""

    def __init__(self, known: set[int], wording: str = "Unknown group."):
        self.known = known
        self.wording = wording
        self.stored: list[dict] = []
        self.down = False

    async def events_batch(self, events: list[dict]):
        if self.down:
            raise CoreUnavailable("core is down")
        unknown = {str(index): [self.wording] for index, event in enumerate(events)
                   if event["telegram_chat_id"] not in self.known}
        if unknown:
            raise CoreError("unknown_group", f"{len(unknown)} event(s) name an unknown group", 400,
                            {"events": unknown})
        self.stored.extend(events)
        return {"accepted": len(events)}


def events(chat_id: int, count: int, start: int = 0) -> list[dict]:
    return [{"event_id": f"{chat_id}:{number}", "type": "message", "telegram_chat_id": chat_id,
             "occurred_at": "2026-11-26T12:00:00+00:00"} for number in range(start, start + count)]


@pytest.fixture
def outbox(tmp_path):
    box = Outbox(tmp_path / "outbox.sqlite3")
    yield box
    box.close()


def ship(shipper: EventShipper, batch: list[dict]):
    shipper.outbox.append(batch)
    asyncio.run(shipper.ship())


def test_a_chat_core_does_not_know_is_registered_then_its_events_are_shipped(outbox):
    core = Core(known={-100})
    registered = []

    async def register(chat_ids):
        registered.append(chat_ids)
        core.known |= chat_ids

    shipper = EventShipper(outbox, core, register_chats=register)
    ship(shipper, events(-100, 3) + events(-200, 2) + events(-100, 2, start=3))
    assert registered == [{-200}]
    assert [event["event_id"] for event in core.stored] == [
        "-100:0", "-100:1", "-100:2", "-200:0", "-200:1", "-100:3", "-100:4"]
    assert outbox.depth() == 0


def test_the_unknown_group_is_recognized_by_cores_code_whatever_its_wording(outbox):
    core = Core(known={-100}, wording="No such group (reworded).")
    registered = []

    async def register(chat_ids):
        registered.append(chat_ids)
        core.known |= chat_ids

    ship(EventShipper(outbox, core, register_chats=register), events(-100, 1) + events(-200, 1))
    assert registered == [{-200}]
    assert [event["event_id"] for event in core.stored] == ["-100:0", "-200:0"]


def test_events_of_a_chat_that_cannot_be_registered_are_dead_lettered_and_the_rest_shipped(outbox):
    core = Core(known={-100})

    async def register(chat_ids):
        pass  # Telegram no longer shows the bot that chat

    shipper = EventShipper(outbox, core, register_chats=register, max_attempts=1)
    ship(shipper, events(-100, 2) + events(-300, 1) + events(-100, 2, start=2))
    assert [event["event_id"] for event in core.stored] == ["-100:0", "-100:1", "-100:2", "-100:3"]
    assert outbox.depth() == 0
    assert [event["event_id"] for event, _ in outbox.dead_letters()] == ["-300:0"]


def test_core_down_while_registering_keeps_the_events_for_later(outbox):
    core = Core(known=set())

    async def register(chat_ids):
        core.down = True
        raise CoreUnavailable("core went away")

    shipper = EventShipper(outbox, core, register_chats=register)
    with pytest.raises(CoreUnavailable):
        ship(shipper, events(-400, 3))
    assert outbox.depth() == 3 and not core.stored


def test_resyncs_wait_on_disk_for_core_and_run_once_it_answers(tmp_path):
    path = tmp_path / "outbox.sqlite3"
    core = Core(known={-100})
    done = []

    async def resync(chat_id, user_id):
        if core.down:
            raise CoreUnavailable("core is down")
        done.append((chat_id, user_id))

    async def scenario(shipper):
        await shipper.mark_resync(-100, 42)
        await shipper.mark_resync(-100)
        await shipper.mark_resync(-100, 42)  # once is enough
        with pytest.raises(CoreUnavailable):
            await shipper.resync_pending()

    first = Outbox(path)
    core.down = True
    asyncio.run(scenario(EventShipper(first, core, resync=resync)))
    first.close()
    assert done == []

    again = Outbox(path)  # the bot restarted; core is back
    core.down = False
    shipper = EventShipper(again, core, resync=resync)
    asyncio.run(shipper.resync_pending())
    assert done == [(-100, None), (-100, 42)]
    asyncio.run(shipper.resync_pending())
    assert len(done) == 2 and again.resyncs() == []
    again.close()


# -- the inbox: what the webhook acknowledged, until handled


def test_a_stored_update_is_replayed_after_a_restart_until_marked_handled(tmp_path):
    path = tmp_path / "outbox.sqlite3"

    async def first_run(shipper):
        assert await asyncio.gather(shipper.persist_update(5, b'{"update_id": 5}'),
                                    shipper.persist_update(6, b'{"update_id": 6}'),
                                    shipper.persist_update(5, b'{"update_id": 5}')) == [True, True, False]
        shipper.record({"event_id": "made-for-5"})
        shipper.update_handled(5)
        await shipper.flush_to_disk()  # update 5 handled, its event written with it; 6 was not finished

    first = Outbox(path)
    asyncio.run(first_run(EventShipper(first, Core(known=set()))))
    first.close()

    again = Outbox(path)  # the process died; a new one opens the file
    shipper = EventShipper(again, Core(known=set()))
    assert asyncio.run(shipper.replay()) == [(6, b'{"update_id": 6}')]
    assert [row.event for row in again.peek(10)] == [{"event_id": "made-for-5"}]
    # A redelivery of either (Telegram never got the 200) is recognized: not handled a second time.
    assert asyncio.run(shipper.persist_update(5, b"{}")) is False
    assert asyncio.run(shipper.persist_update(6, b"{}")) is False
    shipper.update_handled(6)
    asyncio.run(shipper.flush_to_disk())
    assert asyncio.run(shipper.replay()) == []
    again.close()


def test_an_update_whose_handling_every_restart_fails_to_finish_is_given_up(tmp_path):
    outbox = Outbox(tmp_path / "outbox.sqlite3")
    outbox.write(updates=[(7, b"{}")])
    for _ in range(3):
        assert outbox.updates_to_replay(max_replays=3) == ([(7, b"{}")], [])
    assert outbox.updates_to_replay(max_replays=3) == ([], [7])
    assert outbox.pending_updates() == 0
    outbox.close()


def test_concurrent_callers_share_one_transaction(outbox):
    """Group commit: 300 requests arriving together cost one write of the file, and each returns once its own
    part is in it."""
    writes = []
    write = outbox.write

    def counted(*args):
        writes.append(args)
        return write(*args)

    outbox.write = counted
    shipper = EventShipper(outbox, Core(known=set()))

    async def requests():
        await asyncio.gather(*(shipper.persist_events([{"event_id": f"e{number}"}]) for number in range(200)),
                             *(shipper.persist_update(number, b"{}") for number in range(100)))

    asyncio.run(requests())
    assert len(writes) == 1
    assert outbox.depth() == 200 and outbox.pending_updates() == 100


CHILD = """
import asyncio, sys
from pathlib import Path
from apps.botgateway.outbox import EventShipper, Outbox

async def main():
    shipper = EventShipper(Outbox(Path(sys.argv[1])), core=None)
    for number in range(100_000):
        await asyncio.gather(*(shipper.persist_events([{"event_id": f"{number}:{part}"}]) for part in range(10)))
        print(number, flush=True)  # acknowledged: ten events committed

asyncio.run(main())
"""


def test_a_commit_survives_the_process_being_killed(tmp_path):
    """WAL with synchronous=NORMAL and no checkpoint at all: every commit acknowledged before a SIGKILL is read
    back by the next process."""
    import os
    import signal
    import subprocess
    import sys

    from tests.e2e.processes import ROOT

    path = tmp_path / "outbox.sqlite3"
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(path)], cwd=ROOT, stdout=subprocess.PIPE, text=True,
                             env={**os.environ, "PYTHONPATH": str(ROOT)})
    acknowledged = -1
    for line in child.stdout:
        acknowledged = int(line)
        if acknowledged >= 300:
            break
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    reopened = Outbox(path)
    try:
        assert reopened.depth() >= (acknowledged + 1) * 10
    finally:
        reopened.close()


# -- against the real core: one bad event never holds up the others


@pytest.fixture
def ship_to_core(live_server):
    """Runs the shipper once against the live core (a client per event loop: asyncio.run makes one each time)."""
    from apps.coreclient import AsyncCoreClient

    async def ship_once(shipper):
        shipper.core = AsyncCoreClient(live_server.url, "bot-key", timeout=5)
        try:
            await shipper.ship()
        finally:
            await shipper.core.aclose()

    return lambda shipper: asyncio.run(ship_once(shipper))


def message_events(chat_id: int, count: int, start: int = 0, **extra) -> list[dict]:
    from datetime import UTC, datetime

    now = datetime.now(UTC).replace(microsecond=0).isoformat()
    return [{"event_id": f"{chat_id}:{number}", "type": "message", "telegram_chat_id": chat_id, "occurred_at": now,
             "telegram_user_id": 5_000_000 + number % 3, **extra} for number in range(start, start + count)]


def messages_counted(group) -> int:
    group.refresh_from_db()
    return group.message_count


@pytest.mark.django_db(transaction=True)
def test_events_of_a_chat_core_does_not_know_reach_core_once_the_shipper_registers_it(tmp_path, ship_to_core):
    """Core's real refusal (code unknown_group, the events by index) is what the shipper recognizes."""
    from apps.groups.models import Group
    from tests.factories import make_group

    known, unknown_chat = make_group(), -100_999_000_123
    outbox = Outbox(tmp_path / "outbox.sqlite3")
    outbox.append([*message_events(known.telegram_chat_id, 2), *message_events(unknown_chat, 3)])
    registered = []
    shipper = EventShipper(outbox, None)

    async def register(chat_ids):
        registered.append(chat_ids)
        for chat_id in chat_ids:
            await shipper.core.group_register(telegram_chat_id=chat_id, title="Met while core was down",
                                              type="supergroup")

    shipper.register_chats = register
    ship_to_core(shipper)
    assert registered == [{unknown_chat}]
    assert messages_counted(known) == 2
    assert messages_counted(Group.objects.get(telegram_chat_id=unknown_chat)) == 3
    assert outbox.depth() == 0 and outbox.dead_letters() == []
    outbox.close()


@pytest.mark.django_db(transaction=True)
def test_an_event_core_refuses_is_set_aside_retried_then_dead_lettered_while_other_chats_ship(
        tmp_path, ship_to_core, caplog):
    from prometheus_client import REGISTRY

    from tests.factories import make_group

    first, second = make_group(), make_group()
    outbox = Outbox(tmp_path / "outbox.sqlite3")
    # A date from the future (a sender's clock, or an absurd `date` Telegram's JSON carried): core refuses it.
    poison = {**message_events(first.telegram_chat_id, 1, start=99)[0], "occurred_at": "2100-01-01T00:00:00+00:00"}
    outbox.append([*message_events(first.telegram_chat_id, 3), poison, *message_events(second.telegram_chat_id, 3)])
    dead_before = REGISTRY.get_sample_value("bot_events_dead_lettered_total") or 0
    now = [1000.0]
    shipper = EventShipper(outbox, None, max_attempts=3, clock=lambda: now[0])

    with caplog.at_level("WARNING", logger="apps.botgateway.outbox"):
        ship_to_core(shipper)
        assert (messages_counted(first), messages_counted(second)) == (3, 3)  # the others went through
        assert outbox.depth() == 1 and outbox.peek(10, now[0]) == []  # the refused one waits, out of the way
        outbox.append(message_events(second.telegram_chat_id, 2, start=3))  # later events do not wait for it
        ship_to_core(shipper)
        assert messages_counted(second) == 5 and outbox.depth() == 1
        for attempt in (2, 3):
            now[0] += 2**attempt  # the retry delay has passed: 2 s after the first refusal, then 4 s
            [row] = outbox.peek(10, now[0])
            assert (row.event["event_id"], row.attempts) == (poison["event_id"], attempt - 1)
            ship_to_core(shipper)

    assert outbox.depth() == 0
    [(event, error)] = outbox.dead_letters()
    assert event["event_id"] == poison["event_id"] and error.startswith("validation_error")
    assert REGISTRY.get_sample_value("bot_events_dead_lettered_total") == dead_before + 1
    assert [record.message for record in caplog.records] == [
        "core refused an event; set aside for a retry", "core refused an event; set aside for a retry",
        "core kept refusing an event; dead-lettered"]
    assert messages_counted(first) == 3
    outbox.close()


@pytest.mark.django_db(transaction=True)
def test_events_without_a_sender_ship_and_a_batch_sent_again_counts_once(tmp_path, ship_to_core):
    """Channel posts and anonymous admins' posts have no sender; a shipper that dies after core stored a batch
    but before deleting it from the outbox sends it again: core counts it once."""
    from tests.factories import make_group

    group = make_group()
    outbox = Outbox(tmp_path / "outbox.sqlite3")
    anonymous = message_events(group.telegram_chat_id, 4, telegram_user_id=None)
    outbox.append(anonymous)
    ship_to_core(EventShipper(outbox, None))
    assert messages_counted(group) == 4 and outbox.depth() == 0
    outbox.append(anonymous + message_events(group.telegram_chat_id, 2, start=10))
    ship_to_core(EventShipper(outbox, None))
    assert messages_counted(group) == 6 and outbox.depth() == 0
    outbox.close()


def test_a_failing_core_is_not_taken_for_bad_events(outbox):
    """A 500 for every event of a round is core failing, not the events: nothing is set aside or counted as an
    attempt. A 500 for one event while the others go through is that event's."""

    class Failing(Core):
        def __init__(self, poison: set[str] | None):
            super().__init__(known={-100})
            self.poison = poison

        async def events_batch(self, events):
            if self.poison is None or any(event["event_id"] in self.poison for event in events):
                raise CoreError("server_error", "Internal error", 500)
            return await super().events_batch(events)

    outbox.append(events(-100, 4))
    with pytest.raises(CoreUnavailable):
        asyncio.run(EventShipper(outbox, Failing(poison=None)).ship())
    assert [row.attempts for row in outbox.peek(10)] == [0, 0, 0, 0]
    core = Failing(poison={"-100:2"})
    asyncio.run(EventShipper(outbox, core).ship())
    assert [event["event_id"] for event in core.stored] == ["-100:0", "-100:1", "-100:3"]
    assert outbox.depth() == 1 and outbox.peek(10, now=10**12)[0].attempts == 1


def test_closing_waits_for_a_checkpoint_running_in_a_thread(tmp_path):
    """A stopping shipper stops waiting for its checkpoint thread; closing the store under that thread's connection
    crashed the process. Close waits for it, and a checkpoint after close does nothing."""
    import threading

    for round_ in range(20):
        outbox = Outbox(tmp_path / f"outbox{round_}.sqlite3")
        outbox.append([{"n": n} for n in range(200)])
        started = threading.Event()

        def checkpoints(box=outbox, started=started):
            started.set()
            for _ in range(50):
                box.checkpoint()

        thread = threading.Thread(target=checkpoints)
        thread.start()
        started.wait()
        outbox.close()
        thread.join()
        outbox.checkpoint()  # after close: nothing, no error


def test_delivering_pending_events_on_demand_ships_each_once_beside_the_running_loop(outbox):
    """A reader that needs core to know what the bot just saw (who @name is) ships the recorded events at once;
    the shipper's own loop running at the same time sends none of them a second time."""
    core = Core(known={-100})

    async def scenario():
        shipper = EventShipper(outbox, core, flush_interval=0.01)
        shipper.start()
        try:
            for number in range(5):
                for event in events(-100, 20, start=number * 20):
                    shipper.record(event)
                assert await shipper.deliver_pending()
                assert len(core.stored) == (number + 1) * 20
                await asyncio.sleep(0.02)
        finally:
            await shipper.stop()

    asyncio.run(scenario())
    shipped = [event["event_id"] for event in core.stored]
    assert len(shipped) == len(set(shipped)) == 100


def test_delivering_pending_events_while_core_is_down_says_so_and_keeps_them(outbox):
    core = Core(known={-100})
    core.down = True

    async def scenario():
        shipper = EventShipper(outbox, core)
        for event in events(-100, 3):
            shipper.record(event)
        delivered = await shipper.deliver_pending(timeout=1)
        core.down = False
        await shipper.ship()
        return delivered

    assert asyncio.run(scenario()) is False
    assert len(core.stored) == 3
