"""Write a signed checkpoint of the audit chain (latest position and hash) to a file.

Copy the file somewhere the server cannot write (another machine, offline storage): with it,
`verify_audit --checkpoint FILE` shows whether history up to that point was later rewritten,
even by someone who could rewrite the whole database.
"""

from django.core.management.base import BaseCommand, CommandError

from tmo import auditchain


class Command(BaseCommand):
    help = "Write a signed checkpoint (position, hash, time, HMAC) of the verified audit chain."

    def add_arguments(self, parser):
        parser.add_argument(
            "--out", required=True, help="A file to write, or a directory for a dated file."
        )

    def handle(self, *args, out, **options):
        # Never sign a chain that does not hold: the checkpoint would vouch for the tampering.
        result = auditchain.verify()
        if not result.ok:
            raise CommandError(
                "No checkpoint written; the audit chain is broken: %s." % result.message
            )
        path = auditchain.write_checkpoint(out)
        self.stdout.write(
            "Checkpoint #%d %s written to %s. Keep a copy off this server."
            % (result.head_position, result.head_hash, path)
        )
