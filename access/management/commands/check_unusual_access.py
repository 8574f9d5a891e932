"""Run the unusual-access check for one day (the daily job runs it for yesterday)."""

import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from access.services.unusual_access import check_unusual_access


class Command(BaseCommand):
    help = (
        "Check one day's audited reads for users who opened far more records than usual or "
        "records outside their scope, and raise each finding for the DPO's review. A finding "
        "already raised is not raised again, so a day can be checked more than once."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--date",
            help="The day to check, as YYYY-MM-DD (default: yesterday, local time).",
        )

    def handle(self, *args, date=None, **options):
        if date:
            try:
                day = datetime.date.fromisoformat(date)
            except ValueError as exc:
                raise CommandError("Give the date as YYYY-MM-DD, for example 2026-03-27.") from exc
        else:
            day = timezone.localdate() - datetime.timedelta(days=1)
        if day > timezone.localdate():
            raise CommandError("That day has not happened yet.")
        raised = check_unusual_access(day=day)
        self.stdout.write(
            "Checked %s: %d new finding%s."
            % (day.isoformat(), len(raised), "" if len(raised) == 1 else "s")
        )
        for breach in raised:
            self.stdout.write("  breach #%s: %s" % (breach.pk, breach.finding.get_kind_display()))
