import logging
import os

from django.core.management.base import BaseCommand

from apps.tgsandbox.botchat import run_botchat


class Command(BaseCommand):
    help = ("Chat with the bot through the local Telegram sandbox: type as a chosen user in a chosen group "
            "(`/ban @spammer flooding`) and see the bot's replies and the Bot API calls it made.")

    def add_arguments(self, parser):
        default = f"http://127.0.0.1:{os.environ.get('SANDBOX_PORT', '8081')}"
        parser.add_argument("--sandbox", default=default, help=f"sandbox URL (default {default})")
        parser.add_argument("--as", dest="user", help="who you type as: @username, name or id (default: owner)")
        parser.add_argument("--in", dest="chat", help="which chat: @username, title or id (default: first group)")

    def handle(self, *args, sandbox, user, chat, verbosity, **options):
        # The terminal is the chat: the HTTP client's INFO line per sandbox call would bury it (-v 2 shows them).
        if verbosity < 2:
            logging.getLogger().setLevel(logging.WARNING)
        run_botchat(sandbox, user=user, chat=chat, output=self.stdout.write)
