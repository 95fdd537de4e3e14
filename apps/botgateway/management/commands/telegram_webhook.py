import asyncio

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from telegram import Bot

from apps.botgateway.application import ALLOWED_UPDATES


class Command(BaseCommand):
    help = "Set or delete the bot's Telegram webhook (with TELEGRAM_WEBHOOK_SECRET and the update types it needs)."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["set", "delete", "info"])
        parser.add_argument("--url", default=settings.TELEGRAM_WEBHOOK_URL,
                            help="Public https URL of /telegram/webhook (default: TELEGRAM_WEBHOOK_URL)")
        parser.add_argument("--drop-pending", action="store_true")

    def handle(self, *args, action, url, drop_pending, **options):
        asyncio.run(self._run(action, url, drop_pending))

    async def _run(self, action: str, url: str, drop_pending: bool) -> None:
        async with Bot(settings.TELEGRAM_BOT_TOKEN, base_url=settings.TELEGRAM_API_BASE_URL) as bot:
            if action == "set":
                if not url:
                    raise CommandError("Give --url or set TELEGRAM_WEBHOOK_URL")
                if not settings.TELEGRAM_WEBHOOK_SECRET:
                    raise CommandError("TELEGRAM_WEBHOOK_SECRET must be set: the webhook refuses unsigned updates")
                await bot.set_webhook(url, secret_token=settings.TELEGRAM_WEBHOOK_SECRET,
                                      allowed_updates=ALLOWED_UPDATES, drop_pending_updates=drop_pending)
                self.stdout.write(self.style.SUCCESS(f"Webhook set to {url}"))
            elif action == "delete":
                await bot.delete_webhook(drop_pending_updates=drop_pending)
                self.stdout.write(self.style.SUCCESS("Webhook deleted"))
            info = await bot.get_webhook_info()
            self.stdout.write(f"url={info.url or '-'} pending={info.pending_update_count} "
                              f"allowed_updates={','.join(info.allowed_updates or [])}")
