from django.core.management.base import BaseCommand, CommandError

from apps.audit.selectors import audit_chain_verify


class Command(BaseCommand):
    help = "Recompute the audit trail's hash chain and name the first event that breaks it."

    def handle(self, *args, **options):
        report = audit_chain_verify()
        if not report.intact:
            raise CommandError(
                f"Audit chain broken at event #{report.first_broken_sequence}: {report.problem} "
                f"({report.checked} events before it verified)"
            )
        self.stdout.write(self.style.SUCCESS(f"Audit chain intact: {report.checked} events verified"))
