"""A partition's handling: its stream's entries in order, each handled as the single-process bot handles an update,
their events shipped to core, then acknowledged."""

import asyncio
import contextlib
import contextvars
import logging

import redis.asyncio as aioredis
from django.conf import settings
from redis.exceptions import RedisError, ResponseError
from telegram import Update

from apps.coreclient import CoreError, CoreUnavailable

from ..handlers.activity import plain_message_event
from ..metrics import BOT_UPDATES
from ..outbox import EventShipper
from ..protection.antiflood import observe_message
from ..protection.content import observe_content
from .log import UpdateLog, update_id_and_payload

logger = logging.getLogger(__name__)

GROUP = "bot"
BATCH = 200
MAX_BACKOFF = 5.0

# The events the handlers of the update in hand record: shipped with its batch, before the batch is acknowledged.
_captured: contextvars.ContextVar[list | None] = contextvars.ContextVar("captured_events", default=None)


class CapturingEventShipper(EventShipper):
    """The shipper, except that an event recorded while a stream entry is handled goes with that entry's batch
    (to core before the XACK) rather than into the local outbox file, which a replica that dies takes with it."""

    def record(self, event: dict) -> None:
        captured = _captured.get()
        if captured is None:
            super().record(event)
        else:
            captured.append(event)


def _core_wide(exc: CoreError) -> bool:
    """Refused whatever the batch (the key, core's limits or load): waiting helps. The same rule as the outbox's."""
    return exc.status_code in (401, 403, 404, 405, 408, 429) or exc.status_code >= 502


class PartitionConsumer:
    def __init__(self, client: aioredis.Redis, log: UpdateLog, application, replica: str):
        self.client = client
        self.log = log
        self.application = application
        self.replica = replica

    async def run(self, partition: int, stop: asyncio.Event) -> None:
        stream = self.log.stream(partition)
        while not stop.is_set():
            try:
                await self._consume(stream, stop)
            except (RedisError, OSError) as exc:
                logger.warning("partition: redis unreachable", extra={"partition": partition, "error": str(exc)})
                await asyncio.sleep(1.0)

    async def _consume(self, stream: str, stop: asyncio.Event) -> None:
        try:
            await self.client.xgroup_create(stream, GROUP, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        # What a previous owner read but did not acknowledge (it died, or gave the partition back mid-batch) is
        # taken over first, then handled in order ahead of anything new.
        cursor = "0-0"
        while True:
            reply = await self.client.xautoclaim(stream, GROUP, self.replica, min_idle_time=0, start_id=cursor,
                                                 count=BATCH)
            cursor = reply[0].decode() if isinstance(reply[0], bytes) else reply[0]
            if cursor == "0-0":
                break
        while not stop.is_set():
            reply = await self.client.xreadgroup(GROUP, self.replica, {stream: "0"}, count=BATCH)
            entries = reply[0][1] if reply else []
            if not entries:
                break
            await self.handle(stream, entries)
        while not stop.is_set():
            reply = await self.client.xreadgroup(GROUP, self.replica, {stream: ">"}, count=BATCH, block=500)
            if reply and reply[0][1]:
                await self.handle(stream, reply[0][1])

    async def handle(self, stream: str, entries: list) -> None:
        """Handles a batch in order (chats side by side, each chat's updates one after another), ships the events
        its handling recorded, then acknowledges and deletes the entries."""
        data = self.application.bot_data
        captures: list[list[dict]] = []
        handling = []
        for _, fields in entries:
            capture: list[dict] = []
            captures.append(capture)
            body = (fields or {}).get(b"u")
            if body is None:  # deleted under us: nothing to handle
                continue
            try:
                _, payload = update_id_and_payload(body)
                event = plain_message_event(payload, data.groups) if settings.BOT_WEBHOOK_PLAIN_MESSAGE_SHORTCUT \
                    else None
                update = None if event is not None else Update.de_json(payload, self.application.bot)
            except Exception as exc:  # stored as received; a body no handler can read is dropped, as the webhook does
                logger.error("stream entry dropped", extra={"stream": stream, "error": str(exc)[:200]})
                continue
            if event is not None:
                capture.append(event)
                self._observe(event, payload["message"])
            else:
                handling.append(asyncio.create_task(self._through_application(update, capture)))
        # Tasks started in entry order take their chat's turn in that order (ordering.PerChatUpdateProcessor).
        for outcome in await asyncio.gather(*handling, return_exceptions=True):
            if isinstance(outcome, Exception):  # past python-telegram-bot's error handler: handled as far as it goes
                logger.error("stream entry failed", exc_info=outcome, extra={"stream": stream})
            elif isinstance(outcome, BaseException):
                raise outcome
        await self.deliver([event for capture in captures for event in capture])
        ids = [entry_id for entry_id, _ in entries]
        async with self.client.pipeline(transaction=False) as pipe:
            pipe.xack(stream, GROUP, *ids)
            pipe.xdel(stream, *ids)
            await pipe.execute()

    def _observe(self, event: dict, message: dict) -> None:
        """What the webhook does for a plain message it counts: antiflood and the content rules see it."""
        data = self.application.bot_data
        try:
            observe_message(data, event["telegram_chat_id"], event["telegram_user_id"], message["message_id"],
                            message["date"], event["display_name"])
            observe_content(data, message)
        except Exception:  # a sensor's failure never holds up the partition: the message is counted anyway
            logger.exception("a plain message's checks failed", extra={"event_id": event["event_id"]})
        BOT_UPDATES.labels(kind="message").inc()

    async def _through_application(self, update: Update, capture: list) -> None:
        _captured.set(capture)  # this task's own context
        processor = self.application.update_processor
        await processor.process_update(update, self.application.process_update(update))

    async def deliver(self, events: list[dict]) -> None:
        """Returns once core has the events, or the local outbox has those core refused on their own (it retries
        them, registers chats core did not know, and dead-letters what it keeps refusing). Core unreachable: waits,
        the batch unacknowledged, so a replica that dies meanwhile leaves it to the next owner."""
        if not events:
            return
        backoff = 0.25
        while True:
            try:
                await self.application.bot_data.core.events_batch(events)
                return
            except CoreUnavailable as exc:
                error = str(exc)
            except CoreError as exc:
                if not _core_wide(exc):
                    await self.application.bot_data.shipper.persist_events(events)
                    return
                error = str(exc)
            logger.warning("core unreachable; stream batch waits", extra={"error": error})
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF)


async def close_quietly(client: aioredis.Redis) -> None:
    with contextlib.suppress(RedisError, OSError):
        await client.aclose()
