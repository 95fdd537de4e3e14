from django.core.management.base import BaseCommand

from apps.accounts.services import revoked_tokens_purge


class Command(BaseCommand):
    help = "Delete revoked-token rows whose tokens have expired anyway (run it daily: cron, a Kubernetes CronJob)."

    def handle(self, *args, **options):
        deleted = revoked_tokens_purge()
        self.stdout.write(f"Purged {deleted} expired revoked-token rows")
