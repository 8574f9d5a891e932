"""Prove that a restored copy is usable: every encrypted value and every encrypted file opens with
the configured keys, and the audit chain verifies.

Run against the restored database and document folder (DATABASE_URL and TMO_DOCUMENT_ROOT pointing
at them, the keys from the key store). Nothing is written. Failures name the model, primary key and
field (or file), never a value, and the command exits non-zero.
"""

import json

from django.core.management import call_command, get_commands
from django.core.management.base import BaseCommand, CommandError
from django.db import connections, router

from tmo import crypto, filestore
from tmo.datamap import encrypted_file_fields
from tmo.fields import encrypted_models

# How many failures are listed before the rest are only counted.
SHOWN = 20


def _as_bytes(raw) -> bytes:
    if isinstance(raw, memoryview):
        return raw.tobytes()
    return raw if isinstance(raw, bytes) else str(raw).encode("ascii")


class Command(BaseCommand):
    help = (
        "Check a restored copy: every encrypted value and file decrypts with the configured keys "
        "and the audit chain verifies. Writes nothing; exits non-zero on any failure."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--batch-size", type=int, default=1000, help="Rows read at a time (default 1000)."
        )

    def handle(self, *args, batch_size, **options):
        failures: list[str] = []
        values = files = 0
        for model, columns in encrypted_models():
            values += self.check_values(model, columns, batch_size, failures)
        for model, field_name in encrypted_file_fields():
            files += self.check_files(model, field_name, failures)
        self.stdout.write(
            "Encrypted values opened: %d. Encrypted files opened: %d." % (values, files)
        )
        chained = "verify_audit" in get_commands()
        if chained:
            try:
                call_command("verify_audit", stdout=self.stdout, stderr=self.stderr)
            except (CommandError, SystemExit) as error:
                failures.append("The audit chain does not verify: %s" % error)
        if failures:
            shown = failures[:SHOWN]
            more = len(failures) - len(shown)
            raise CommandError(
                "The restored copy failed %d check%s:\n%s%s"
                % (
                    len(failures),
                    "" if len(failures) == 1 else "s",
                    "\n".join(shown),
                    "\n...and %d more." % more if more else "",
                )
            )
        self.stdout.write(
            self.style.SUCCESS(
                "The restored copy opens%s." % (" and its audit chain holds" if chained else "")
            )
        )

    def check_values(self, model, columns, batch_size, failures) -> int:
        alias = router.db_for_read(model)
        meta = model._meta
        opened = 0
        last = None
        connection = connections[alias]
        quote = connection.ops.quote_name
        # Raw column values: an ORM read would decrypt in the field and stop at the first failure
        # without saying which row it was.
        select = "SELECT %s, %s FROM %s" % (  # noqa: S608
            quote(meta.pk.column),
            ", ".join(quote(f.column) for f in columns),
            quote(meta.db_table),
        )
        while True:
            with connection.cursor() as cursor:
                if last is None:
                    cursor.execute(
                        "%s ORDER BY %s LIMIT %%s" % (select, quote(meta.pk.column)), [batch_size]
                    )
                else:
                    cursor.execute(
                        "%s WHERE %s > %%s ORDER BY %s LIMIT %%s"
                        % (select, quote(meta.pk.column), quote(meta.pk.column)),
                        [last, batch_size],
                    )
                rows = cursor.fetchall()
            if not rows:
                return opened
            for row in rows:
                for field, raw in zip(columns, row[1:], strict=True):
                    if raw is None:
                        continue
                    try:
                        json.loads(crypto.decrypt_bytes(_as_bytes(raw)))
                    except (crypto.DecryptionError, ValueError):
                        failures.append(
                            "%s pk=%s field %r does not open" % (meta.label, row[0], field.name)
                        )
                    else:
                        opened += 1
            last = rows[-1][0]

    def check_files(self, model, field_name, failures) -> int:
        opened = 0
        names = (
            model._base_manager.exclude(**{field_name: ""})
            .order_by("pk")
            .values_list("pk", field_name)
        )
        for pk, storage_name in names.iterator(chunk_size=1000):
            try:
                filestore.read_decrypted(storage_name)
            except FileNotFoundError:
                failures.append("%s pk=%s: its file is missing" % (model._meta.label, pk))
            except crypto.DecryptionError:
                failures.append("%s pk=%s: its file does not open" % (model._meta.label, pk))
            else:
                opened += 1
        return opened
