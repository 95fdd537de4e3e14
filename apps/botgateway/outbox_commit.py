"""Group commit of the outbox file: the requests that arrive together share one transaction."""

import asyncio
from collections.abc import Callable

from .outbox_store import Outbox


class GroupCommit:
    """Makes what concurrent callers hand in durable together: everything handed in while the event loop serves
    the requests that arrived together is written in one transaction, and what arrives while one is being written
    (in a thread, when commits fsync) waits for the next, which takes it all. Each caller resumes once its own
    part is committed."""

    def __init__(self, outbox: Outbox, on_events_written: Callable[[int], None] | None = None):
        self.outbox = outbox
        self.on_events_written = on_events_written
        self._waiting: list[tuple[list[dict], tuple[int, bytes] | None, list[int], asyncio.Future]] = []
        self._writer: asyncio.Task | None = None

    async def persist(self, *, events: list[dict] = (), update: tuple[int, bytes] | None = None,
                      handled: list[int] = ()) -> bool:
        """Returns once committed: whether `update` (update id, raw body) was new. Raises what the write raised."""
        future = asyncio.get_running_loop().create_future()
        self._waiting.append((list(events), update, list(handled), future))
        if self._writer is None:
            self._writer = asyncio.create_task(self._write_rounds(), name="outbox-group-commit")
        return await future

    async def _write_rounds(self) -> None:
        try:
            while True:
                await asyncio.sleep(0)  # the requests already under way in this turn of the loop join the round
                if not self._waiting:
                    return
                round_, self._waiting = self._waiting, []
                events = [event for part in round_ for event in part[0]]
                updates = [part[1] for part in round_ if part[1] is not None]
                handled = [update_id for part in round_ for update_id in part[2]]
                try:
                    if self.outbox.fsyncs:
                        fresh = iter(await asyncio.to_thread(self.outbox.write, events, updates, handled))
                    else:
                        fresh = iter(self.outbox.write(events, updates, handled))
                except Exception as exc:
                    for *_, future in round_:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                for _, update, _, future in round_:
                    is_new = next(fresh) if update is not None else True
                    if not future.done():  # its caller may have gone (a client that hung up)
                        future.set_result(is_new)
                if events and self.on_events_written is not None:
                    self.on_events_written(len(events))
        finally:
            self._writer = None
