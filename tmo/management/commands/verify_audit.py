"""Check the whole audit chain: every entry's keyed hash, in order, from the first to the head.

Exits non-zero naming the first entry where the chain breaks (changed, deleted, reordered, or an
entry written around the chain). With --checkpoint, also proves the chain still holds the position
and hash of a checkpoint written earlier by `audit_checkpoint` and kept off the server.
"""

from django.core.management.base import BaseCommand, CommandError

from tmo import auditchain


class Command(BaseCommand):
    help = "Verify the audit hash chain; exits non-zero naming the first broken entry."

    def add_arguments(self, parser):
        parser.add_argument("--checkpoint", help="A checkpoint file to check the chain against.")
        parser.add_argument(
            "--batch-size", type=int, default=1000, help="Links read at a time (default 1000)."
        )
        parser.add_argument(
            "--record",
            action="store_true",
            help="Keep the result for the data protection lead's audit page.",
        )

    def handle(self, *args, checkpoint, batch_size, record, **options):
        loaded = None
        if checkpoint:
            try:
                loaded = auditchain.load_checkpoint(checkpoint)
            except ValueError as error:
                raise CommandError(str(error)) from None
        result = auditchain.verify(batch_size=max(1, batch_size), checkpoint=loaded)
        if record:
            auditchain.record_verification(result)
        if not result.ok:
            raise CommandError("Audit chain broken: %s." % result.message)
        self.stdout.write(
            "Audit chain intact: %d entries. Head: #%d %s"
            % (result.count, result.head_position, result.head_hash)
        )
        if loaded is not None:
            self.stdout.write(
                "The chain still holds checkpoint #%d (%s)."
                % (int(loaded["position"]), loaded.get("created_at", "undated"))
            )
