from prometheus_client import Counter

BOT_COMMANDS = Counter("bot_commands_total", "Commands the bot received", ["command"])
BOT_UPDATES = Counter("bot_updates_total", "Updates the bot received", ["kind"])
WEBHOOK_REQUESTS = Counter("bot_webhook_requests_total", "Webhook requests by outcome", ["outcome"])
