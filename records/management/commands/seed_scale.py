"""`manage.py seed_scale`: a synthetic organisation at housing-body scale, for benchmarks.

    manage.py seed_scale --homes 25000 [--seed 2026] [--force]
    manage.py seed_scale --heavy-subject 1 --heavy-subject 4 --heavy-subject 16

What --homes N writes (everything linear in N; figures for N = 25,000, about 60,000 people):

- accounts, all with seed_demo's published password: housing01-housing25 (housing officers),
  repairs01-12, finance01-08, hr01-03, contracts01-03, senior01-06, dpo01-03 (60 staff, each
  with a staff record, a signed undertaking and in-date training), committee01-12, admin01;
- N/250 patches, each with one housing officer and one repairs officer (a housing officer looks
  after about 1,000 homes), N homes, about 40,000 tenancies (current and former) with their
  households, housing and transfer applications assigned to officers, people assigned to an
  officer by case (guardian), markers and special category information;
- about 1,000,000 contact records and 100,000 documents (small letters, reports and PNG photos,
  encrypted into the file store under DOCUMENT_ROOT);
- from the disclosures app: about 10,000 third-party disclosure requests, most of them decided;
- from the sar app: about 3,000 rights requests across kinds and statuses, with their clock;
- audit history: a year of staff reads plus the disclosure and rights events, in time order,
  appended to the one audit hash chain (`manage.py verify_audit` passes afterwards).

Encrypted fields hold real Fernet tokens and blind indexes real HMACs. Progress (stage, rows,
rows per second) is printed as it goes. The whole run is one transaction: if it fails, nothing is
left behind, files included. It refuses to run where the register already holds people unless
--force is given (then it adds alongside, e.g. next to seed_demo's data; it never runs twice on
one database because its account names would clash). Like seed_demo it needs settings.DEMO_MODE.

--heavy-subject FACTOR (repeatable; with or without --homes, on a database seed_scale has
filled) adds one tenant with 2,000 x FACTOR contact records, 100 x FACTOR documents, 20 x FACTOR
disclosure requests and an open subject access request, and prints a line
`heavy-subject factor=F person=<pk> disclosures=<n> request=<reference>` for each (the
request is the open access request, ready for `sar.services.bundles.bundle_collect`). From
Python: `records.scale.make_heavy_subject(factor) -> Person`, with the same details in
`person.scale_details`.
"""

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from records import scale
from records.management.commands.seed_demo import DEMO_PASSWORD
from records.models import Person


class Command(BaseCommand):
    help = (
        "Fill a database with a synthetic housing body at scale for benchmarks: --homes N homes "
        "(N=25,000 gives about 60,000 people, 40,000 tenancies, 1,000,000 contact records, "
        "100,000 encrypted documents, 10,000 disclosure requests, 3,000 rights requests and a "
        "year of chained audit history), accounts housing01.., repairs01.., finance01.., hr01.., "
        "contracts01.., senior01.., dpo01.., committee01.., admin01 with the password '%s'. "
        "--heavy-subject FACTOR adds a tenant with 2,000xF contacts, 100xF documents, 20xF "
        "disclosures and an open access request, and prints 'heavy-subject factor=F person=PK "
        "contacts=.. disclosures=.. documents=.. request=SAR-..'. Needs settings.DEMO_MODE."
        % DEMO_PASSWORD
    )

    def add_arguments(self, parser):
        parser.add_argument("--homes", type=int, help="How many homes (e.g. 25000).")
        parser.add_argument(
            "--seed",
            type=int,
            default=2026,
            help="Random seed; the same seed gives the same data on the same day (default 2026).",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Add to a database whose register already holds people (e.g. seed_demo's).",
        )
        parser.add_argument(
            "--heavy-subject",
            type=int,
            action="append",
            default=[],
            metavar="FACTOR",
            help="Add a heavy subject of this factor (1 = 2,000 contacts, 100 documents, 20 "
            "disclosures); repeat for several.",
        )
        parser.add_argument(
            "--progress-every",
            type=float,
            default=5.0,
            help="Seconds between progress lines (default 5).",
        )

    def handle(self, *args, homes, seed, force, heavy_subject, progress_every, **options):
        if getattr(settings, "DEMO_MODE", False) is not True:
            raise CommandError(
                "seed_scale invents people and accounts with a published password, so it only "
                "runs where settings.DEMO_MODE is True. Nothing was written."
            )
        if homes is None and not heavy_subject:
            raise CommandError("Give --homes N, --heavy-subject FACTOR, or both.")
        if any(factor < 1 for factor in heavy_subject):
            raise CommandError("--heavy-subject must be 1 or more.")
        started = time.monotonic()

        def write(message):
            self.stdout.write("  " + message)
            self.stdout.flush()

        if homes is not None:
            if homes < 10:
                raise CommandError("--homes must be at least 10.")
            if scale.users_by_prefix():
                raise CommandError(
                    "seed_scale has already run on this database (its accounts exist): nothing "
                    "was written. Use a fresh database."
                )
            if Person.objects.exists() and not force:
                raise CommandError(
                    "The register already holds people: nothing was written. Use an empty "
                    "database, or --force to add the scale data alongside."
                )
            self.stdout.write("Seeding a synthetic organisation: %d homes, seed %d" % (homes, seed))
            context = scale.seed_scale(homes=homes, seed=seed, write=write, interval=progress_every)
            elapsed = time.monotonic() - started
            self.stdout.write(self.style.SUCCESS("Done in %.1f s. Rows written:" % elapsed))
            for table, count in sorted(context.progress.counts.items()):
                self.stdout.write("  %-24s %12s" % (table, format(count, ",")))
            self.stdout.write(
                "Accounts (password %s): %s"
                % (
                    DEMO_PASSWORD,
                    ", ".join(
                        "%s01-%s%02d" % (prefix, prefix, len(users))
                        for prefix, users in sorted(context.users.items())
                    ),
                )
            )
        for factor in heavy_subject:
            try:
                person = scale.make_heavy_subject(factor, write=write)
            except ValueError as exc:
                raise CommandError(str(exc)) from exc
            details = "".join(
                " %s=%s" % (key, value) for key, value in sorted(person.scale_details.items())
            )
            self.stdout.write("heavy-subject factor=%d person=%d%s" % (factor, person.pk, details))
