"""Live updates for open dashboard pages: one poller per web process follows core's audit trail (the change
feed, GET /api/audit/events?after=N) and publishes what happened on the channel layer; a WebSocket consumer
per browser passes it on (see feed.py and consumers.py)."""
