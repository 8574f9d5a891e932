"""Re-encrypt every encrypted field value and every stored document under the newest key.

Run after prepending a new key to FIELD_ENCRYPTION_KEYS; once it has finished without error, the
old keys can be removed. The command works on the raw column values, so a value is never decrypted
into a model instance and saved back (which would touch signals, audit and auto_now fields). It is
safe to re-run: values already under the newest key are skipped, so a run that stopped part-way
continues cheaply. A value that no configured key opens stops the run with its model, pk and field
named, and the batch it was found in is not written.
"""

from dataclasses import dataclass, field

from django.core.management.base import BaseCommand, CommandError
from django.db import connections, router, transaction

from tmo import crypto, filestore
from tmo.datamap import encrypted_file_fields as file_fields
from tmo.fields import encrypted_models


@dataclass
class Tally:
    rows: int = 0
    values: int = 0
    rotated: int = 0
    changed_meanwhile: int = 0
    missing: list = field(default_factory=list)


class Command(BaseCommand):
    help = (
        "Re-encrypt every encrypted field and document file under the newest key in "
        "FIELD_ENCRYPTION_KEYS. Safe to re-run; stops on any value no key opens."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--batch-size", type=int, default=500, help="Rows per transaction (default 500)."
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Count and check the values that need re-encrypting; write nothing.",
        )
        parser.add_argument(
            "--model",
            action="append",
            dest="models",
            metavar="APP_LABEL.MODEL",
            help="Only this model (repeatable). Documents are still done unless --skip-documents.",
        )
        parser.add_argument(
            "--start-pk",
            default=None,
            help="With one --model: resume after this primary key (earlier rows are skipped).",
        )
        parser.add_argument(
            "--skip-documents", action="store_true", help="Leave document files alone."
        )

    def handle(self, *args, batch_size, dry_run, models, start_pk, skip_documents, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        if start_pk is not None and len(models or ()) != 1:
            raise CommandError("--start-pk needs exactly one --model.")
        targets = encrypted_models()
        if models:
            wanted = {label.lower() for label in models}
            known = {model._meta.label_lower for model, _ in targets}
            unknown = sorted(wanted - known)
            if unknown:
                raise CommandError(
                    "No model with encrypted fields is called %s." % ", ".join(unknown)
                )
            targets = [item for item in targets if item[0]._meta.label_lower in wanted]

        verb = "would re-encrypt" if dry_run else "re-encrypted"
        total_rotated = 0
        for model, columns in targets:
            tally = self.rotate_model(model, columns, batch_size, dry_run, start_pk)
            total_rotated += tally.rotated
            note = ""
            if tally.changed_meanwhile:
                note = " (%d changed by someone else meanwhile, already current)" % (
                    tally.changed_meanwhile
                )
            self.stdout.write(
                "%s: %d rows, %d values, %s %d%s"
                % (model._meta.label, tally.rows, tally.values, verb, tally.rotated, note)
            )

        for model, field_name in [] if skip_documents else file_fields():
            tally = self.rotate_documents(model, field_name, batch_size, dry_run)
            total_rotated += tally.rotated
            self.stdout.write(
                "%s files: %d documents, %s %d"
                % (model._meta.label, tally.rows, verb, tally.rotated)
            )
            if tally.missing:
                self.stderr.write(
                    "Warning: %d document files are missing (pks %s); nothing to re-encrypt."
                    % (len(tally.missing), ", ".join(str(pk) for pk in tally.missing[:20]))
                )

        if dry_run:
            self.stdout.write("Dry run: %d values would be re-encrypted." % total_rotated)
        elif models or skip_documents or start_pk is not None:
            self.stdout.write(
                "Done: %d values re-encrypted in the part selected. Run without --model, "
                "--start-pk and --skip-documents before removing an old key." % total_rotated
            )
        else:
            self.stdout.write(
                self.style.SUCCESS(
                    "Done: %d values re-encrypted. Every value now opens with the newest key."
                    % total_rotated
                )
            )

    def rotate_model(self, model, columns, batch_size, dry_run, start_pk) -> Tally:
        alias = router.db_for_write(model)
        connection = connections[alias]
        quote = connection.ops.quote_name
        meta = model._meta
        table = quote(meta.db_table)
        pk_column = quote(meta.pk.column)
        names = ", ".join(quote(f.column) for f in columns)
        total = model._base_manager.using(alias).count()
        # Identifiers come from the model's meta, quoted by the backend; values are parameters.
        select = "SELECT %s, %s FROM %s" % (pk_column, names, table)  # noqa: S608
        first = "%s ORDER BY %s LIMIT %%s" % (select, pk_column)
        following = "%s WHERE %s > %%s ORDER BY %s LIMIT %%s" % (select, pk_column, pk_column)
        # Compare-and-swap: a value someone saved since we read it is already under the newest
        # key, and must not be overwritten with the older value we re-encrypted.
        updates = {
            f.column: "UPDATE %s SET %s = %%s WHERE %s = %%s AND %s = %%s"  # noqa: S608
            % (table, quote(f.column), pk_column, quote(f.column))
            for f in columns
        }

        tally = Tally()
        last = meta.pk.get_db_prep_value(start_pk, connection) if start_pk is not None else None
        while True:
            with transaction.atomic(using=alias), connection.cursor() as cursor:
                if last is None:
                    cursor.execute(first, [batch_size])
                else:
                    cursor.execute(following, [last, batch_size])
                rows = cursor.fetchall()
                if not rows:
                    break
                # Every value of the batch is rotated in memory before anything is written, so
                # a value no key opens leaves the whole batch as it was.
                pending = []
                for row in rows:
                    pk = row[0]
                    for f, raw in zip(columns, row[1:], strict=True):
                        if raw is None:
                            continue
                        tally.values += 1
                        token = _as_bytes(raw)
                        if crypto.is_current(token):
                            continue
                        try:
                            rotated = crypto.rotate_token(token)
                        except crypto.DecryptionError:
                            raise CommandError(
                                "%s pk=%s field %r: no configured key opens this value. Nothing "
                                "in this batch was written. Add the key it was written with to "
                                "FIELD_ENCRYPTION_KEYS (after the newest) and run again."
                                % (meta.label, pk, f.name)
                            ) from None
                        pending.append((f.column, rotated.decode("ascii"), pk, raw))
                if not dry_run:
                    for column, new_value, pk, old_value in pending:
                        cursor.execute(updates[column], [new_value, pk, old_value])
                        if cursor.rowcount == 1:
                            tally.rotated += 1
                        else:
                            tally.changed_meanwhile += 1
                else:
                    tally.rotated += len(pending)
            tally.rows += len(rows)
            last = rows[-1][0]
            self.stdout.write("  %s: %d/%d rows" % (meta.label, tally.rows, total))
        return tally

    def rotate_documents(self, model, field_name, batch_size, dry_run) -> Tally:
        tally = Tally()
        queryset = model._base_manager.exclude(**{field_name: ""}).order_by("pk")
        total = queryset.count()
        last = None
        while True:
            batch = queryset if last is None else queryset.filter(pk__gt=last)
            rows = list(batch.values_list("pk", field_name)[:batch_size])
            if not rows:
                break
            # Files are large, so each is rotated and written on its own; the write replaces
            # the file atomically, so a crash leaves the old token or the new one, never half.
            for pk, storage_name in rows:
                try:
                    token = filestore.read_token(storage_name)
                except FileNotFoundError:
                    tally.missing.append(pk)
                    continue
                tally.values += 1
                if crypto.is_current(token):
                    continue
                try:
                    rotated = crypto.rotate_token(token)
                except crypto.DecryptionError:
                    raise CommandError(
                        "%s pk=%s file %s: no configured key opens this document. It was not "
                        "written. Add the key it was written with to FIELD_ENCRYPTION_KEYS "
                        "(after the newest) and run again." % (model._meta.label, pk, storage_name)
                    ) from None
                if not dry_run:
                    filestore.write_token(storage_name, rotated)
                tally.rotated += 1
            tally.rows += len(rows)
            last = rows[-1][0]
            self.stdout.write(
                "  %s files: %d/%d documents" % (model._meta.label, tally.rows, total)
            )
        return tally


def _as_bytes(raw) -> bytes:
    if isinstance(raw, memoryview | bytes | bytearray):
        return bytes(raw)
    return raw.encode("ascii")
