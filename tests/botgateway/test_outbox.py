"""The event shipper: events of chats core does not know yet are registered and shipped, not dropped."""

import asyncio

import pytest

from apps.botgateway.outbox import EventShipper, Outbox
from apps.coreclient import CoreError, CoreUnavailable


class Core:
    """Core's events endpoint as the shipper sees it: refuses a batch naming a chat it has no group for."""

    def __init__(self, known: set[int]):
        self.known = known
        self.stored: list[dict] = []
        self.down = False

    async def events_batch(self, events: list[dict]):
        if self.down:
            raise CoreUnavailable("core is down")
        unknown = {str(index): ["Unknown group."] for index, event in enumerate(events)
                   if event["telegram_chat_id"] not in self.known}
        if unknown:
            raise CoreError("validation_error", f"{len(unknown)} event(s) name an unknown group", 400,
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
