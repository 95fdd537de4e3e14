"""The sandbox's in-memory Telegram world (:class:`World`), split by concern:

* :mod:`.model` -- the dataclasses (users, bots, chats, members, messages) and Telegram's rights/permissions;
* :mod:`.core` -- :class:`World`: the lock, the clock, lookups, bots and users, the snapshot;
* :mod:`.membership` -- chats and who is in them (join, leave, ban, promote, restrict, upgrade);
* :mod:`.messages` -- messages people write, edit, delete or press, and the updates bots receive;
* :mod:`.views` -- the world's objects in the Bot API's shapes;
* :mod:`.instruments` -- the call log, fault injection and flood limits;
* :mod:`.notifier` -- waking waiting threads and asyncio tasks.
"""

from .core import World

__all__ = ["World"]
