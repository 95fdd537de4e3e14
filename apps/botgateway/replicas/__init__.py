"""The bot on several replicas (active only with BOT_REDIS_URL): updates go into a Redis Stream partitioned by chat,
and each partition is handled by one replica at a time, in order.

- `log`: the webhook's side. The raw update is added to its chat's partition (a stream) once, by update id, and
  the webhook answers 200 only after Redis acknowledged the add. No state of the replica's own: any number of
  receivers can run behind the load balancer.
- `leases`: which replica handles which partition. A lease per partition (SET NX PX, renewed while held) and a
  heartbeat per replica; each replica takes up to ceil(partitions / live replicas). A replica that dies loses its
  leases when they expire, and the others take its partitions.
- `consumer`: a partition's handling. Its consumer group's entries are read in order (first those a previous owner
  left pending, claimed with XAUTOCLAIM), handled as the single-process bot handles them (the plain-message
  shortcut, or python-telegram-bot's application in per-chat order), their events shipped to core, and only then
  acknowledged (XACK) and deleted. Event ids come from the update (chat id and message id), so an update handled
  again after its owner died yields the same ids, which core stores once.

Without BOT_REDIS_URL none of this runs: the webhook stores updates in the local outbox file as before.
"""
