from prometheus_client import Counter, Gauge

# livesum: under several workers (prometheus multiprocess mode) /metrics shows the sum over live workers.
OPEN_CONNECTIONS = Gauge("web_websocket_connections", "Open WebSocket connections to the live feed",
                         multiprocess_mode="livesum")
MESSAGES_SENT = Counter("web_live_messages_sent_total", "Messages sent to live-feed WebSocket clients", ["type"])
EVENTS_PUBLISHED = Counter("web_live_events_published_total",
                           "Audit events this process published to the channel layer as the feed's leader")
