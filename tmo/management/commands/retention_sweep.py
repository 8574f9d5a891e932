"""Run the retention sweep now: list rows past their date into the open disposal review and
delete the sign-in logs past AXES_LOG_RETENTION_DAYS. The worker runs the same job daily
(settings.DAILY_JOBS); this is for the first run after changing the schedule, or a check."""

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Sweep the records past their retention date into a disposal review for the DPO."

    def handle(self, *args, **options):
        # The workflow lives with the DPO's other pages in access; the kernel only runs it.
        from access.services.retention import daily_sweep

        self.stdout.write(daily_sweep())
