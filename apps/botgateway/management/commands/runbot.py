import asyncio

from django.conf import settings
from django.core.management.base import BaseCommand

from apps.botgateway.application import ALLOWED_UPDATES, build_application


class Command(BaseCommand):
    help = "Run the bot with long polling (development; production uses the webhook under uvicorn)."

    def handle(self, *args, **options):
        application = build_application(with_updater=True)
        self.stdout.write(f"Polling {settings.TELEGRAM_API_BASE_URL} (Ctrl-C stops)")
        # run_polling installs SIGINT/SIGTERM handlers and shuts the application down cleanly.
        asyncio.set_event_loop(asyncio.new_event_loop())
        application.run_polling(allowed_updates=ALLOWED_UPDATES, drop_pending_updates=False)
