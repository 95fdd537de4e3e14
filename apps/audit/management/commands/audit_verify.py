from django.core.management.base import BaseCommand, CommandError

from apps.audit.selectors import audit_chain_verify


class Command(BaseCommand):
    help = ("Verify every audit stream (each hash, each link, no gap) and every signed checkpoint (signature, head "
            "hash, the stream reaching it); name the first problem.")

    def handle(self, *args, **options):
        report = audit_chain_verify()
        if not report.intact:
            where = (f"event #{report.first_broken_sequence}" if report.first_broken_sequence is not None
                     else f"stream {report.stream}")
            raise CommandError(
                f"Audit chain broken at {where}: {report.problem} "
                f"({report.checked} events before it verified; stream {report.stream})"
            )
        self.stdout.write(self.style.SUCCESS(
            f"Audit chain intact: {report.checked} events verified in {report.streams} streams, "
            f"{report.checkpoints} signed checkpoints"))
