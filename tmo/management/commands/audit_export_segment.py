"""Seal a range of the audit chain into a file: one JSON line per entry (its position, hashes and
canonical content, as hashed) and a signed trailer (count, first and last position, last hash).

This is how audit entries are retained and archived: nothing is deleted (on PostgreSQL the audit
tables refuse it), and the segment can be checked on its own with the chain key.
"""

from django.core.management.base import BaseCommand, CommandError

from tmo import auditchain


class Command(BaseCommand):
    help = "Export audit chain positions FIRST..LAST as JSON lines with a signed trailer."

    def add_arguments(self, parser):
        parser.add_argument("--out", required=True, help="The file to write.")
        parser.add_argument("--first", type=int, default=1, help="First position (default 1).")
        parser.add_argument("--last", type=int, help="Last position (default: the head).")

    def handle(self, *args, out, first, last, **options):
        try:
            trailer = auditchain.export_segment(out, first=first, last=last)
        except ValueError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            "Sealed positions #%d to #%d (%d entries, last hash %s) in %s. Nothing was deleted."
            % (
                trailer["first_position"],
                trailer["last_position"],
                trailer["count"],
                trailer["last_hash"],
                out,
            )
        )
