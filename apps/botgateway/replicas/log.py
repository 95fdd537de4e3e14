"""The shared log of updates: one Redis Stream per partition, chosen by chat id."""

import json

import redis.asyncio as aioredis

MAX_UPDATE_ID = 2**63 - 1  # as the webhook takes them

# Adds the update only if its id was not added within the dedupe window, in one step: a redelivery (Telegram did
# not get the 200) is dropped, and there is no moment when the id is marked but the update is not in the stream.
_APPEND_ONCE = """
if redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[1]) then
  return redis.call('XADD', KEYS[2], '*', 'u', ARGV[2])
end
return false
"""


def chat_of(payload: dict) -> int | None:
    """The chat an update belongs to, as python-telegram-bot's effective_chat finds it, from Telegram's JSON."""
    for field in ("message", "edited_message", "channel_post", "edited_channel_post", "chat_member",
                  "my_chat_member", "chat_join_request", "message_reaction", "message_reaction_count"):
        part = payload.get(field)
        if type(part) is dict and type(part.get("chat")) is dict and type(part["chat"].get("id")) is int:
            return part["chat"]["id"]
    query = payload.get("callback_query")
    if type(query) is dict and type(query.get("message")) is dict:
        chat = query["message"].get("chat")
        if type(chat) is dict and type(chat.get("id")) is int:
            return chat["id"]
    return None


def partition_of(chat_id: int | None, partitions: int) -> int:
    """Updates without a chat go to partition 0, in one order among themselves."""
    return 0 if chat_id is None else chat_id % partitions


class UpdateLog:
    def __init__(self, client: aioredis.Redis, *, prefix: str, partitions: int, dedupe_seconds: float):
        self.client = client
        self.prefix = prefix
        self.partitions = partitions
        self.dedupe_ms = int(dedupe_seconds * 1000)
        self._append = client.register_script(_APPEND_ONCE)

    def stream(self, partition: int) -> str:
        return f"{self.prefix}:updates:{partition}"

    def seen_key(self, update_id: int) -> str:
        return f"{self.prefix}:seen:{update_id}"

    async def append(self, update_id: int, body: bytes, payload: dict) -> bool:
        """Returns once Redis has the update: whether it is new (False: added before, within the dedupe window).
        Raises redis's errors: then nothing was added, or it was and a redelivery will be recognized."""
        partition = partition_of(chat_of(payload), self.partitions)
        added = await self._append(keys=[self.seen_key(update_id), self.stream(partition)],
                                   args=[self.dedupe_ms, body])
        return added is not None


def update_id_and_payload(body: bytes) -> tuple[int, dict]:
    """Raises on a body that is not a Telegram update, as the webhook's own parsing does."""
    payload = json.loads(body)
    if type(payload) is not dict:
        raise ValueError("not a JSON object")
    update_id = payload.get("update_id")
    if type(update_id) is not int or not 0 <= update_id <= MAX_UPDATE_ID:
        raise ValueError("no usable update_id")
    return update_id, payload
