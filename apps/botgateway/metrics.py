from prometheus_client import Counter, Histogram

BOT_COMMANDS = Counter("bot_commands_total", "Commands the bot received", ["command"])
BOT_UPDATES = Counter("bot_updates_total", "Updates the bot received", ["kind"])
WEBHOOK_REQUESTS = Counter("bot_webhook_requests_total", "Webhook requests by outcome", ["outcome"])
UPDATE_SECONDS = Histogram("bot_update_duration_seconds", "Time to process one update",
                           buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5))
